"""A one-line progress bar on stderr, drawn only when stderr is a terminal (or when
forced): long-running library calls (smoothing.certify) report through it."""
from __future__ import annotations

import sys


class Progress:
    """``Progress(total)``; ``advance(n, label)`` after each unit of work; ``close()``."""

    def __init__(self, total: int, *, show=None, stream=None, width: int = 28):
        self.stream = sys.stderr if stream is None else stream
        self.total, self.done, self.width = max(1, total), 0, width
        self.live = bool(getattr(self.stream, "isatty", lambda: False)()) if show is None else bool(show)

    def advance(self, n: int = 1, label: str = ""):
        self.done = min(self.total, self.done + n)
        if self.live:
            fill = self.width * self.done // self.total
            self.stream.write(f"\r[{'#' * fill}{'.' * (self.width - fill)}] {self.done}/{self.total} {label[:40]:<40}")
            self.stream.flush()

    def close(self):
        if self.live:
            self.stream.write("\r" + " " * (self.width + 56) + "\r")
            self.stream.flush()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
