"""The benchmark's output: one line per figure and peer, printed as it is measured.

Each line: the figure, descent's number, the peer and its number, the ratio descent/peer, the goal,
and whether it is met; `LINES` keeps them for the closing "goals met" count.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Line:
    figure: str
    ours: float
    peer: str
    theirs: float | None
    unit: str
    goal: str
    met: bool | None

    def text(self) -> str:
        ratio = "" if self.theirs in (None, 0) else f"{self.ours / self.theirs:.2f}×"
        theirs = "—" if self.theirs is None else _num(self.theirs, self.unit)
        met = "" if self.met is None else ("MET" if self.met else "NOT MET")
        return (
            f"{self.figure:<44} {_num(self.ours, self.unit):>14}  {self.peer:<40} {theirs:>14}  "
            f"{ratio:>7}  {self.goal:<26} {met}"
        )


def _num(value: float, unit: str) -> str:
    if unit == "ms":
        return f"{value * 1e3:.2f} ms" if value < 10 else f"{value:.2f} s"
    if unit == "s":
        return f"{value:.2f} s"
    if unit == "/s":
        return f"{value / 1e6:.3f} M/s" if value >= 1e5 else f"{value / 1e3:.2f} k/s"
    if unit == "µs":
        return f"{value * 1e6:.3f} µs"
    if unit == "x":
        return f"{value:.2f}×"
    return f"{value:g} {unit}"


LINES: list[Line] = []


def emit(line: Line) -> None:
    LINES.append(line)
    print(line.text(), flush=True)


def note(text: str) -> None:
    print(f"    · {text}", flush=True)
