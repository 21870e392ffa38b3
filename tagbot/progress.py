"""A progress bar on stderr for lookups that take more than a second, on a terminal only."""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable
from typing import TextIO

WIDTH = 30
DELAY = 1.0  # seconds before the bar shows: quick runs stay quiet


class ProgressBar:
    def __init__(self, stream: TextIO | None = None, label: str = "looking up images", *,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.stream = stream or sys.stderr
        self.label = label
        self.enabled = self.stream.isatty()
        self._clock = clock
        self._started = clock()
        self._shown = False
        self._lock = threading.Lock()

    def __call__(self, done: int, total: int) -> None:
        if not self.enabled or total == 0 or self._clock() - self._started < DELAY:
            return
        filled = WIDTH * done // total
        with self._lock:
            self.stream.write(f"\r{self.label} [{'#' * filled}{'.' * (WIDTH - filled)}] {done}/{total}")
            self.stream.flush()
            self._shown = True

    def close(self) -> None:
        if self._shown:
            self.stream.write("\r\033[K")
            self.stream.flush()
