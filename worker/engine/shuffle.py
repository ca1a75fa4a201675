"""Each epoch's row order, drawn one epoch ahead on a thread of its own.

Why: an epoch's order is `torch.randperm` over the training rows, a sequential Fisher-Yates of
about 7 ns a row (0.55 ms at 80k rows, 4 ms at 800k), on the way to the epoch's first update. Drawn
on a second thread while the run sets up or the epoch before trains (torch releases the GIL while
it draws), it is ready when the epoch starts. The orders are the same ones, drawn from the same
generator in the same sequence: no number changes. A checkpoint needs the generator's state before
an epoch's draw; `get_state()` gives it whether or not that draw has started.

Only a run that trains on one thread draws ahead (`draws_ahead`): beside a multi-threaded update
the drawing thread would take a core from torch's parallel regions, which wait for their slowest
thread. The drawing thread draws with one OpenMP thread (its own setting; the run's is its own):
with two, randperm over 800k rows took 13-20 ms of CPU instead of 4.6, and its threads spun on.
"""

from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor

import torch

AHEAD_FROM = 1 << 18
"""Rows from which the next order is drawn ahead. Measured on 2 vCPUs (a worker's job in process,
the compose malloc settings, alternated runs): SGD over 80k rows, 5 epochs, gained nothing (engine
18.7 vs 17.6 ms: the draw moved off the way, the update beside it slowed as much); minibatch over
800k rows, 5 epochs, 176 vs 186 ms."""

_DRAWER = ThreadPoolExecutor(
    max_workers=1, thread_name_prefix="descent-shuffle", initializer=lambda: torch.set_num_threads(1)
)


def draws_ahead(rows: int, threads: int | None) -> bool:
    """Whether a run over `rows` training rows whose updates use `threads` intra-op threads (None:
    the process's setting) draws its orders ahead."""
    return rows >= AHEAD_FROM and threads == 1


class Shuffler:
    """A run's generator of epoch orders over `rows` rows (the loop's only use of it)."""

    def __init__(self, generator: torch.Generator, rows: int, ahead: bool) -> None:
        self.generator = generator
        self.rows = rows
        self.ahead = ahead
        self._next: Future[torch.Tensor] | None = None
        self._before: torch.Tensor | None = None
        """The generator's state before the draw in `_next`."""

    def draw_ahead(self) -> None:
        """Start drawing the next order now (when `rows` is large enough and none is being drawn)."""
        if self.ahead and self._next is None:
            self._before = self.generator.get_state()
            self._next = _DRAWER.submit(torch.randperm, self.rows, generator=self.generator)

    def draw(self) -> tuple[torch.Tensor, torch.Tensor]:
        """The next order, and the generator's state it was drawn from."""
        if self._next is not None:
            order, before = self._next.result(), self._before
            self._next = self._before = None
            assert before is not None
            return order, before
        before = self.generator.get_state()
        return torch.randperm(self.rows, generator=self.generator), before

    def get_state(self) -> torch.Tensor:
        """The state the next order will be drawn from."""
        if self._before is not None:
            return self._before
        return self.generator.get_state()

    def set_state(self, state: torch.Tensor) -> None:
        """Draw the next order from `state` (a draw ahead, if any, is dropped)."""
        if self._next is not None:
            self._next.result()  # the thread is done with the generator before it is set
            self._next = self._before = None
        self.generator.set_state(state)
