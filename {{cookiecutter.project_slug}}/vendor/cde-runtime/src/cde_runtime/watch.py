"""A run's background failures, noticed by the main thread within moments.

The run's work is spread over threads: the output writer posts batches, the channel requests
are in flight on workers, the reader fetches ahead. A failure in one of them used to surface
only when the main thread next touched that component; if the main thread was waiting for
something else (the next input batch, up to the read timeout), the run went on failing for
that long. Background threads now `report()` their failure, and the main thread's waits
(`check()`, every POLL seconds) raise it at once.

Only inside `watching()` (the CLI wraps each run in it) is anything recorded: a component
used on its own, in a test or a script, keeps its own error reporting only.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["POLL", "check", "report", "watching"]

#: Seconds between two checks of a main-thread wait.
POLL = 0.2


class _Watch:
    def __init__(self) -> None:
        self.error: BaseException | None = None
        self.lock = threading.Lock()


_current: _Watch | None = None


@contextmanager
def watching() -> Iterator[None]:
    """Record background failures for the duration of a run."""
    global _current
    previous, _current = _current, _Watch()
    try:
        yield
    finally:
        _current = previous


def report(error: BaseException) -> None:
    """A background thread failed with `error`: the run's main thread is to raise it."""
    watch = _current
    if watch is None or not isinstance(error, Exception):
        return
    with watch.lock:
        if watch.error is None:
            watch.error = error


def check() -> None:
    """Raise the first failure a background thread reported in this run, if any."""
    watch = _current
    if watch is not None and watch.error is not None:
        raise watch.error
