"""Deadlines and prompt failure (issue 16, item 2), against FakePeer, not the emulator.

No timed assertions: a deadline is proven by what the peer managed to send before the client
gave up (a few bytes of a long trickle), a non-blocking log handler by what had returned while
the log endpoint still hung.
"""

from __future__ import annotations

import io
import logging
import threading
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from cde_runtime import watch
from cde_runtime.container_api import ContainerApi, ContainerApiUnavailable, OutputWriter
from cde_runtime.container_api.streams import RowReader
from cde_runtime.logs import BLANK, MAX_MESSAGE, ContainerApiHandler
from cde_runtime.sending import InFlightLimit, send_in_order
from cde_runtime.transport import DeadlineTransport

from tests.runtime.fake_api import FakeApi
from tests.runtime.fake_peer import Answer, FakePeer, Request, json_answer

log = logging.getLogger("tests.deadlines")

BODY = b'{"data": {"count": 3}}' + b" " * 400  # long enough to trickle for many seconds


class Trickle:
    """Answers BODY one byte per `pause` seconds; counts the bytes that went out."""

    def __init__(self, pause: float = 0.02) -> None:
        self.pause = pause

    def __call__(self, _request: Request) -> Answer:
        return Answer(200, BODY, {"Content-Type": "application/json"}, trickle=self.pause)


def test_a_trickled_answer_cannot_outlast_the_whole_request_deadline() -> None:
    # Each byte arrives well within any per-read timeout; only a whole-request deadline ends
    # this call before the ~10 s the full answer takes.
    with (
        FakePeer(Trickle()) as peer,
        ContainerApi(peer.url, read_timeout=0.3, max_attempts=1) as api,
        pytest.raises(ContainerApiUnavailable, match=r"within the 0\.3 s deadline"),
    ):
        api.count()
    assert peer.bytes_sent < len(BODY)


def test_the_deadline_covers_a_trickled_body_after_prompt_headers() -> None:
    def route(_request: Request) -> Answer:
        return Answer(200, BODY, {"Content-Type": "application/json"}, trickle=0.02)

    transport = DeadlineTransport(0.3)
    with FakePeer(route) as peer, httpx.Client(transport=transport) as http:
        with pytest.raises(httpx.ReadTimeout, match="deadline"):
            http.get(peer.url)
        assert peer.bytes_sent < len(BODY)


def test_a_request_may_carry_its_own_longer_deadline() -> None:
    def route(_request: Request) -> Answer:
        return Answer(200, b"ok", trickle=0.01)

    with FakePeer(route) as peer, httpx.Client(transport=DeadlineTransport(0.05)) as http:
        assert http.get(peer.url, extensions={"deadline": 30}).content == b"ok"


@pytest.mark.parametrize("seconds", [0, -1, float("inf"), float("nan"), 1e308])
def test_a_deadline_that_cannot_work_is_refused(seconds: float) -> None:
    with pytest.raises(ValueError, match="must be more than 0 and at most 86400"):
        DeadlineTransport(seconds)


# -- log delivery never blocks the run -----------------------------------------------------------


class HangingLogs(FakeApi):
    """A Container API whose log endpoint never answers until released."""

    def __init__(self) -> None:
        super().__init__()
        self.release = threading.Event()
        self.overrides[("POST", "/logs/.*")] = self._hang

    def _hang(self, request: Request) -> Answer:
        self.release.wait(30)
        self.logs.append({"message": request.json()["message"]})
        return json_answer({"message": ""}, 201)


@pytest.fixture
def hanging() -> Iterator[tuple[HangingLogs, ContainerApi]]:
    api = HangingLogs()
    with api.serve() as peer, ContainerApi(peer.url, max_attempts=1) as client:
        yield api, client
        api.release.set()


def records(count: int) -> list[logging.LogRecord]:
    return [
        log.makeRecord(log.name, logging.INFO, __file__, 1, f"line {n}", (), None)
        for n in range(count)
    ]


def test_a_hanging_log_endpoint_never_holds_up_the_handler(
    hanging: tuple[HangingLogs, ContainerApi],
) -> None:
    api, client = hanging
    stderr = io.StringIO()
    handler = ContainerApiHandler(client, stderr, background=True, timeout=0.2)
    for record in records(50):
        handler.handle(record)  # all 50 return while the first post still hangs
    assert len(api.logs) == 0
    handler.close()
    # Nothing lost, nothing reordered: the line in flight timed out, it and every later one
    # went to stderr in order (the API was paused after the failure).
    assert stderr.getvalue() == "".join(f"INFO: line {n}\n" for n in range(50))


def test_a_full_log_queue_sends_later_lines_to_stderr_behind_the_queued_ones(
    hanging: tuple[HangingLogs, ContainerApi],
) -> None:
    _api, client = hanging
    stderr = io.StringIO()
    handler = ContainerApiHandler(client, stderr, background=True, timeout=0.2, queue_size=2)
    for record in records(20):
        handler.handle(record)
    handler.close()
    assert stderr.getvalue() == "".join(f"INFO: line {n}\n" for n in range(20))


def test_a_blank_record_is_sent_as_such_and_does_not_divert_later_lines() -> None:
    api = FakeApi()
    stderr = io.StringIO()
    with api.serve() as peer, ContainerApi(peer.url, max_attempts=1) as client:
        handler = ContainerApiHandler(client, stderr, background=True, timeout=5)
        for message in ["   ", "", "\n\t", "after"]:
            handler.handle(log.makeRecord(log.name, logging.INFO, __file__, 1, message, (), None))
        handler.close()
    assert [line["message"] for line in api.logs] == [BLANK, BLANK, BLANK, "after"]
    assert stderr.getvalue() == ""


def test_a_huge_log_message_is_cut_with_a_marker() -> None:
    api = FakeApi()
    with api.serve() as peer, ContainerApi(peer.url, max_attempts=1) as client:
        handler = ContainerApiHandler(client, io.StringIO())
        handler.handle(
            log.makeRecord(log.name, logging.ERROR, __file__, 1, "x" * 4_000_000, (), None)
        )
    (line,) = api.logs
    assert line["message"].startswith("x" * MAX_MESSAGE)
    assert line["message"].endswith(f"[... {4_000_000 - MAX_MESSAGE:,} more characters cut]")


# -- a background failure reaches the main thread at once ---------------------------------------


def test_a_failed_background_write_is_raised_where_the_main_thread_waits_for_input() -> None:
    never = threading.Event()

    def fetch() -> list[dict[str, Any]]:
        never.wait(30)  # the next input batch takes "an hour"
        return []

    def send(_body: Any) -> None:
        raise RuntimeError("the write failed")

    with watch.watching():
        writer = OutputWriter(send, batch_size=1)
        writer.write({"id": "1"})
        reader = RowReader(fetch)
        with pytest.raises(RuntimeError, match="the write failed"):
            next(iter(reader))
        reader.close()
        never.set()


def test_a_failed_channel_request_is_raised_while_the_main_thread_reads_ahead() -> None:
    never = threading.Event()

    def batches() -> Iterator[int]:
        yield 1
        # The next input batch takes "an hour": the channel's 401 must not wait for it.
        reader = RowReader(lambda: [] * int(never.wait(30)))
        yield from (len(batch) for batch in reader.batches())

    def send(_batch: int) -> int:
        raise RuntimeError("401 from the channel")

    with watch.watching(), pytest.raises(RuntimeError, match="401 from the channel"):
        list(send_in_order(batches(), send, InFlightLimit(2)))
    never.set()


def test_outside_a_run_a_background_failure_is_not_raised_elsewhere() -> None:
    watch.report(RuntimeError("not in a run"))
    watch.check()  # nothing recorded, nothing raised
