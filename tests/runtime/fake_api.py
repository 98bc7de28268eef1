"""A scripted Container API on `FakePeer`, for the runtime's own tests (no emulator code).

Each stream is a function from the number of the read (1, 2, ...) to the rows it answers, so a
test can make a cursor stick, a stream run forever or a count drift. Writes and logs are kept.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from tests.runtime.fake_peer import Answer, FakePeer, Request, json_answer

Batches = Callable[[int], list[Any]]


def rows_of(rows: list[Any], size_cap: int = 999) -> Batches:
    """A well-behaved stream of `rows`: the batches in order, then []."""
    state = {"at": 0}

    def batch(_number: int, size: int = size_cap) -> list[Any]:
        start = state["at"]
        state["at"] = min(len(rows), start + size)
        return rows[start : state["at"]]

    return batch


@dataclass
class FakeApi:
    counts: dict[str, int] = field(default_factory=dict)
    streams: dict[str, Batches] = field(default_factory=dict)
    #: (method, path regex) -> answer, checked before the scripted routes.
    overrides: dict[tuple[str, str], Callable[[Request], Answer]] = field(default_factory=dict)
    written: dict[str, list[Any]] = field(default_factory=dict)
    logs: list[dict[str, Any]] = field(default_factory=list)
    reads: dict[str, int] = field(default_factory=dict)

    def route(self, request: Request) -> Answer:
        for (method, pattern), answer in self.overrides.items():
            if request.method == method and re.fullmatch(pattern, request.path):
                return answer(request)
        parts = request.path.strip("/").split("/")
        if parts[:1] == ["items"] and parts[2:] == ["count"]:
            if parts[1] not in self.counts:
                return json_answer({"message": "Requested file not provided."}, 404)
            return json_answer({"data": {"count": self.counts[parts[1]]}})
        if parts[:1] == ["input"] and parts[2:] == ["next_batch"]:
            stream = parts[1]
            if stream not in self.streams:
                return json_answer({"message": "Requested file not provided."}, 404)
            self.reads[stream] = self.reads.get(stream, 0) + 1
            return json_answer({"message": "", "data": self.streams[stream](self.reads[stream])})
        if parts[:1] == ["output"] and len(parts) == 2:
            self.written.setdefault(parts[1], []).extend(json.loads(request.body)["data"])
            return json_answer({"message": ""}, 201)
        if parts[:1] == ["logs"]:
            self.logs.append({"level": parts[1], **json.loads(request.body)})
            return json_answer({"message": ""}, 201)
        return json_answer({"message": f"No route found for {request.method} {request.path}"}, 404)

    def serve(self) -> FakePeer:
        return FakePeer(self.route)
