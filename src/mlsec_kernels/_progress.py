"""A progress bar on stderr, for the long runs: the bench, the demo, randomized smoothing."""

from __future__ import annotations

import sys


class Progress:
    """A one-line bar on stderr, drawn only when stderr is a terminal."""

    def __init__(self, total: int, stream=None, width: int = 28):
        self.stream = sys.stderr if stream is None else stream
        self.total, self.done, self.width = max(1, total), 0, width
        self.live = bool(getattr(self.stream, "isatty", lambda: False)())

    def step(self, label: str):
        self.advance(1, label)

    def advance(self, n: int, label: str = ""):
        self.done = min(self.total, self.done + n)
        if self.live:
            fill = self.width * self.done // self.total
            bar = "#" * fill + "." * (self.width - fill)
            self.stream.write(f"\r[{bar}] {self.done}/{self.total} {label[:40]:<40}")
            self.stream.flush()

    def close(self):
        if self.live:
            self.stream.write("\r" + " " * (self.width + 56) + "\r")
            self.stream.flush()
