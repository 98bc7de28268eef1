"""Request quotas: at most N requests per second or per minute, shared by every request in flight.

An outside API that allows "20 requests per second" counts the requests it receives in any
window of that length. `Quota` keeps a client under that count whatever the latency: a request
takes a slot when it starts, and the slot is stamped when its answer has arrived, so it counts
until one window after that moment. The API received the request between those two instants, so
it never sees more than N requests in any window, however the network delays them; with answers
that take `latency` seconds the client still sends `per / (per + latency)` of the quota (about
97 % at 20 requests/s and 30 ms).

One `Quota` object is shared by every thread that sends through the same API client (the
`OutsideApi` client holds it), and `pause(seconds)` (a 429 with `Retry-After`) holds every one
of them back until the API said to come back.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["Quota"]


class Quota:
    """At most `requests` requests in any window of `per` seconds (thread-safe)."""

    def __init__(self, requests: int, per: float = 1.0) -> None:
        if not isinstance(requests, int) or requests < 1:
            raise ValueError(f"a quota allows at least 1 request, not {requests!r}")
        if not per > 0:
            raise ValueError(f"a quota's window is more than 0 seconds, not {per!r}")
        self.requests = requests
        self.per = float(per)
        self._done: deque[float] = deque()  # when the answers of recent requests arrived
        self._in_flight = 0
        self._paused_until = 0.0
        self._ready = threading.Condition()

    @classmethod
    def per_second(cls, requests: int) -> Quota:
        return cls(requests, 1.0)

    @classmethod
    def per_minute(cls, requests: int) -> Quota:
        return cls(requests, 60.0)

    def __repr__(self) -> str:
        return f"Quota({self.requests}, per={self.per:g})"

    @contextmanager
    def slot(self) -> Iterator[None]:
        """Hold one request's slot: wait for room, then send inside the block."""
        self.acquire()
        try:
            yield
        finally:
            self.release()

    def acquire(self) -> None:
        """Wait until one more request may start, and count it as started."""
        with self._ready:
            while True:
                now = time.monotonic()
                while self._done and self._done[0] <= now - self.per:
                    self._done.popleft()
                wait: float | None
                if now < self._paused_until:
                    wait = self._paused_until - now
                elif len(self._done) + self._in_flight < self.requests:
                    self._in_flight += 1
                    return
                elif self._done:
                    wait = self._done[0] + self.per - now
                else:
                    wait = None  # every slot is in flight: the next answer frees one
                self._ready.wait(timeout=wait)

    def release(self) -> None:
        """The request's answer arrived (or it failed): its slot counts one more window."""
        with self._ready:
            self._in_flight -= 1
            self._done.append(time.monotonic())
            self._ready.notify_all()

    def pause(self, seconds: float) -> None:
        """Start no request for `seconds` (the API answered 429 with `Retry-After`)."""
        with self._ready:
            self._paused_until = max(self._paused_until, time.monotonic() + seconds)
            self._ready.notify_all()
