"""Fault injection: make the N-th request of a kind fail, so retries and error paths can be tested.

A spec reads `KIND:N:ACTION`; `N+` hits the N-th request and every later one of that kind, e.g.
`write:3:500`, `read:1:drop`, `any:2+:503`, `log:1:delay=0.2`, `write:2:cut`,
`read:2:empty`, `any:1:429,retry-after=1`.

A faulted request has no effect on the run (nothing is read, written or logged), except `delay`,
which only postpones normal handling, and `cut`, which handles the request normally and then drops
the connection half-way through the response: the server did the work but the client cannot know
it (the case a retry must never repeat).

Actions (docs/container-api.md, "The local emulator", lists them for connector authors):

- an HTTP status: that status with `{"message": "Injected fault"}`; `204` (and 304) carry no body
  at all, as HTTP requires. `,retry-after=SECONDS` adds a `Retry-After` header (429, 503).
- `204body`: a 204 that wrongly carries a body, then the connection closes (a broken proxy).
- `drop`: close the connection without any answer.
- `timeout`: never answer; the connection stays open until the client gives up (its read
  timeout) or the emulator stops.
- `malformed`: 200 with a body that is not JSON.
- `cut`: do the work, then send half the answer and close.
- `empty`, `null`: 200 with `data: []` / `data: null` and nothing read: an input that ends early
  (for the feed: `{"products": [], "next": null}` / `"products": null`).
- `delay=SECONDS`: wait, then answer normally.
- `404html`: a 404 with a proxy's HTML page, not the platform's own "not provided" answer.

Faults that misbehave after the work was done (the request is handled normally first):

- `stuck`: a read answers its rows, then its cursor moves back: the next read answers the same
  rows again (with `N+`, a stream that never ends).
- `drift`: a count answers one row less than the input has: the stream then delivers more
  rows than it counted.
- `503after`: the request is handled, then a proxy answers 503 with its own text (an upstream
  reset): the client cannot know that the work was done.
- `repeat`: a feed page answers the products of the page before it (an API that clamps or
  ignores the page number), keeping its own `next`.
- `poison`: a read or feed page answers its rows with the first row's `price` set to NaN (a
  value JSON cannot carry, written as the bare `NaN` lenient encoders emit).
- `trickle`: the answer is sent one byte every TRICKLE_SECONDS: each byte is prompt, the
  whole answer is not.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass

#: write = POST /output/{type}; read = GET /input/{type}/next[_batch]; count = GET
#: /items/{type}/count; close = POST /output/{type}/close; log = POST /logs/{level};
#: channel = the channel stand-in; feed = the product feed stand-in (/feed); any = every Container
#: API request (not /channel, /feed or /_emulator).
KINDS = ("write", "read", "count", "close", "log", "channel", "feed", "any")
_ACTIONS = ("drop", "malformed", "cut", "timeout", "204body", "empty", "null", "404html")
#: Actions applied to the answer of a request handled normally (see the module docstring).
AFTER_ACTIONS = ("stuck", "drift", "503after", "repeat", "poison", "trickle")
#: Seconds between two bytes of a `trickle` answer.
TRICKLE_SECONDS = 0.01
#: Statuses whose answers never carry a body (RFC 9110).
BODILESS = (204, 304)


@dataclass(frozen=True)
class Fault:
    """The `n`-th (1-based) request of `kind` gets `action` (see the module docstring).

    With `repeat`, every later request of that kind gets it too.
    """

    kind: str
    n: int
    action: str
    repeat: bool = False

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"fault kind must be one of {', '.join(KINDS)}, not {self.kind!r}")
        if self.n < 1:
            raise ValueError(f"fault request number is 1-based, got {self.n}")
        base, _, modifier = self.action.partition(",")
        if (
            self.status is None
            and self.delay is None
            and base not in _ACTIONS
            and base not in AFTER_ACTIONS
        ):
            raise ValueError(
                "fault action must be an HTTP status, drop, timeout, malformed, cut, empty, null, "
                f"204body, 404html, {', '.join(AFTER_ACTIONS)} or delay=SECONDS, "
                f"not {self.action!r}"
            )
        if modifier and (self.status is None or self.retry_after is None):
            raise ValueError(
                f"only an HTTP status takes a modifier, and only retry-after=SECONDS: "
                f"{self.action!r}"
            )

    @classmethod
    def parse(cls, spec: str) -> Fault:
        """Build a fault from the CLI form `KIND:N:ACTION` (or `KIND:N+:ACTION`)."""
        parts = spec.split(":", 2)
        number = parts[1].removesuffix("+") if len(parts) == 3 else ""
        if len(parts) != 3 or not number.isdecimal():
            raise ValueError(
                f"fault spec must look like KIND:N:ACTION (e.g. write:3:500): {spec!r}"
            )
        return cls(kind=parts[0], n=int(number), action=parts[2], repeat=parts[1].endswith("+"))

    @property
    def base(self) -> str:
        """The action without its modifier (`429,retry-after=1` → `429`)."""
        return self.action.partition(",")[0]

    @property
    def status(self) -> int | None:
        """The injected HTTP status, if the action is one."""
        if self.base.isdecimal() and 100 <= int(self.base) <= 599:
            return int(self.base)
        return None

    @property
    def retry_after(self) -> str | None:
        """The `Retry-After` header value to send with the status, if any."""
        name, _, value = self.action.partition(",")[2].partition("=")
        if name != "retry-after" or not value.isdecimal():
            return None
        return value

    @property
    def delay(self) -> float | None:
        """Seconds to wait before handling the request normally, if the action is a delay."""
        name, _, value = self.action.partition("=")
        if name != "delay":
            return None
        try:
            seconds = float(value)
        except ValueError:
            return None
        return seconds if seconds >= 0 else None

    def hits(self, count: int) -> bool:
        """Whether the `count`-th request of this fault's kind is faulted."""
        return count >= self.n if self.repeat else count == self.n

    def __str__(self) -> str:
        return f"{self.kind}:{self.n}{'+' if self.repeat else ''}:{self.action}"


class FaultPlan:
    """Counts requests per kind and says which faults hit the current one (thread-safe)."""

    def __init__(self, faults: Iterable[Fault]) -> None:
        self._faults = tuple(faults)
        self._counts = dict.fromkeys(KINDS, 0)
        self._lock = threading.Lock()
        self.fired: list[Fault] = []

    def next_request(self, kind: str | None, contract: bool) -> list[Fault]:
        """Count one request of `kind` (None = no specific kind); return the faults it triggers."""
        with self._lock:
            if kind is not None:
                self._counts[kind] += 1
            if contract:
                self._counts["any"] += 1
            hits = [
                fault
                for fault in self._faults
                if (fault.kind == kind or (fault.kind == "any" and contract))
                and fault.hits(self._counts[fault.kind])
            ]
            self.fired.extend(hit for hit in hits if hit not in self.fired)
            return hits

    def count(self, kind: str) -> int:
        """Requests of `kind` seen so far (faulted ones included)."""
        with self._lock:
            return self._counts[kind]
