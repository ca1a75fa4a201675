"""An /events stream held open by its (Flask test) client, for tests of what open streams hold."""

from __future__ import annotations

import threading
from typing import Any


class OpenStream:
    """An /events request whose stream stays open, on its own thread (as a server gives each one),
    until close(): what a connected client holds."""

    def __init__(self, client: Any, path: str) -> None:
        self.opened = threading.Event()
        self.closing = threading.Event()
        self.status: int | None = None
        self.thread = threading.Thread(target=self._run, args=(client, path), daemon=True)
        self.thread.start()
        assert self.opened.wait(10)

    def _run(self, client: Any, path: str) -> None:
        response = client.get(path, buffered=False)
        self.status = response.status_code
        self.opened.set()
        self.closing.wait(30)
        response.close()

    def close(self) -> None:
        self.closing.set()
        self.thread.join(10)
