"""Fault injection: make the N-th request of a kind fail, so retries and error paths can be tested.

A spec reads `KIND:N:ACTION`, e.g. `write:3:500`, `read:1:drop`, `any:2:malformed`,
`log:1:delay=0.2`, `write:2:cut`. A faulted request has no effect on the run (nothing is read,
written or logged), except `delay`, which only postpones normal handling, and `cut`, which
handles the request normally and then drops the connection half-way through the response: the
server did the work but the client cannot know it (the case a retry must never repeat).
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass

#: write = POST /output/{type}; read = GET /input/{type}/next[_batch]; log = POST /logs/{level};
#: channel = the channel stand-in; any = every Container API request (not /channel, not /_emulator).
KINDS = ("write", "read", "log", "channel", "any")
_ACTIONS = ("drop", "malformed", "cut")


@dataclass(frozen=True)
class Fault:
    """The `n`-th (1-based) request of `kind` gets `action` (see the module docstring)."""

    kind: str
    n: int
    action: str

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"fault kind must be one of {', '.join(KINDS)}, not {self.kind!r}")
        if self.n < 1:
            raise ValueError(f"fault request number is 1-based, got {self.n}")
        if self.status is None and self.delay is None and self.action not in _ACTIONS:
            raise ValueError(
                f"fault action must be an HTTP status, drop, malformed, cut or delay=SECONDS, "
                f"not {self.action!r}"
            )

    @classmethod
    def parse(cls, spec: str) -> Fault:
        """Build a fault from the CLI form `KIND:N:ACTION`."""
        parts = spec.split(":", 2)
        if len(parts) != 3 or not parts[1].isdecimal():
            raise ValueError(
                f"fault spec must look like KIND:N:ACTION (e.g. write:3:500): {spec!r}"
            )
        return cls(kind=parts[0], n=int(parts[1]), action=parts[2])

    @property
    def status(self) -> int | None:
        """The injected HTTP status, if the action is one."""
        if self.action.isdecimal() and 100 <= int(self.action) <= 599:
            return int(self.action)
        return None

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

    def __str__(self) -> str:
        return f"{self.kind}:{self.n}:{self.action}"


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
                and self._counts[fault.kind] == fault.n
            ]
            self.fired.extend(hits)
            return hits
