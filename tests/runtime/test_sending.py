"""Requests in flight: input order, the in-flight bound, failure policy, and push-back.

Timing never decides an outcome here: worker threads wait on events and barriers that the test
(or another batch) sets, and the timeouts only turn a deadlock into a failure.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any

import httpx
import pytest
from cde_runtime import ChannelClient, ChannelError, InFlightLimit, send_in_order
from cde_runtime.channel_client import MAX_RETRY_AFTER, retry_after

WAIT = 10.0  # seconds before a stuck test fails instead of hanging


def test_results_come_back_in_input_order_whatever_order_they_finish_in() -> None:
    # Batch n waits until batch n + 1 has finished: the channel answers in reverse order.
    count = 6
    finished = [threading.Event() for _ in range(count + 1)]
    finished[count].set()

    def send(n: int) -> str:
        assert finished[n + 1].wait(WAIT)
        finished[n].set()
        return f"result {n}"

    results = list(send_in_order(range(count), send, InFlightLimit(count)))
    assert results == [f"result {n}" for n in range(count)]


@pytest.mark.parametrize(("maximum", "push_backs", "allowed"), [(1, 0, 1), (3, 0, 3), (8, 2, 2)])
def test_never_more_than_the_limit_in_flight_and_the_limit_is_reached(
    maximum: int, push_backs: int, allowed: int
) -> None:
    limit = InFlightLimit(maximum)
    for _ in range(push_backs):  # the channel pushed back: 8 → 4 → 2
        limit.push_back()
    lock = threading.Lock()
    in_flight = peak = 0
    barrier = threading.Barrier(allowed, timeout=WAIT)  # passes only with `allowed` at once

    def send(n: int) -> int:
        nonlocal in_flight, peak
        with lock:
            in_flight += 1
            peak = max(peak, in_flight)
        barrier.wait()
        with lock:
            in_flight -= 1
        return n

    assert list(send_in_order(range(4 * allowed), send, limit)) == list(range(4 * allowed))
    assert peak == allowed


def test_input_is_read_only_as_far_as_the_window_allows() -> None:
    read: list[int] = []
    release = threading.Event()

    def batches() -> Iterator[int]:
        for n in range(100):
            read.append(n)
            yield n

    def send(n: int) -> int:
        assert release.wait(WAIT)
        return n

    results = send_in_order(batches(), send, InFlightLimit(4))
    # The generator runs up to its first yield: four batches started, the fifth waits for room.
    first = threading.Thread(target=lambda: next(results))
    first.start()
    deadline = threading.Event()
    threading.Timer(WAIT, deadline.set).start()
    while len(read) < 5 and not deadline.is_set():  # the fifth is read, then held for room
        deadline.wait(0.001)
    assert read == [0, 1, 2, 3, 4]
    release.set()
    first.join(WAIT)
    assert list(results) == list(range(1, 100))
    assert read == list(range(100))


def test_a_failure_stops_new_sends_and_keeps_the_results_in_flight() -> None:
    started: list[int] = []
    lock = threading.Lock()
    all_in_flight = threading.Barrier(4, timeout=WAIT)

    def send(n: int) -> int:
        with lock:
            started.append(n)
        if n < 4:
            all_in_flight.wait()  # batches 0-3 are in flight together when 2 fails
        if n == 2:
            raise ChannelError("Channel POST /products answered 500")
        return n

    yielded: list[int] = []
    with pytest.raises(ChannelError, match="answered 500"):
        yielded.extend(send_in_order(range(50), send, InFlightLimit(4)))  # keeps what came
    # Nothing is started once the failure is seen, and that happens before batch 2 leaves the
    # window: so no batch beyond 2 + 3 was started (how many of 4-5 were is up to the threads).
    assert max(started) <= 5
    assert sorted(started) == list(range(max(started) + 1))
    # Every request that succeeded is handed back once, in input order; the failed one is not.
    assert yielded == [n for n in sorted(started) if n != 2]


def test_a_failing_input_still_hands_back_the_results_in_flight() -> None:
    # Reading the next batch fails (a Container API error) while 3 batches are in flight:
    # they were delivered, so their results must come back before the error is raised.
    release = threading.Event()

    def batches() -> Iterator[int]:
        yield from range(3)
        release.set()
        raise ConnectionError("reading the input failed")

    def send(n: int) -> int:
        assert release.wait(WAIT)
        return n

    yielded: list[int] = []
    with pytest.raises(ConnectionError, match="reading the input failed"):
        yielded.extend(send_in_order(batches(), send, InFlightLimit(4)))
    assert yielded == [0, 1, 2]


def test_a_caller_that_stops_early_waits_for_the_requests_in_flight() -> None:
    started: list[int] = []
    finished: list[int] = []

    def send(n: int) -> int:
        started.append(n)
        finished.append(n)
        return n

    results = send_in_order(range(10), send, InFlightLimit(3))
    assert next(results) == 0
    results.close()  # e.g. recording the feedback failed
    # Only what was submitted before the stop ran (a full window: 0-2), and all of it finished.
    assert sorted(finished) == sorted(started)
    assert set(started) <= {0, 1, 2}


def test_the_limit_halves_on_push_back_and_grows_back_one_window_at_a_time() -> None:
    limit = InFlightLimit(8)
    limit.push_back()
    assert limit.limit == 4
    limit.push_back()
    limit.push_back()
    limit.push_back()
    assert limit.limit == 1  # never below one
    limit.relax()
    assert limit.limit == 2
    for _ in range(2):
        limit.relax()
    assert limit.limit == 3
    for _ in range(100):
        limit.relax()
    assert limit.limit == 8  # never above the maximum
    with pytest.raises(ValueError, match="at least one"):
        InFlightLimit(0)


def channel(
    transport: httpx.MockTransport, *, concurrency: int = 1, backoff: float = 1.0
) -> tuple[ChannelClient, list[float]]:
    """A client whose retry waits are recorded instead of slept."""
    waits: list[float] = []
    client = ChannelClient(
        "http://channel.test",
        transport=transport,
        concurrency=concurrency,
        backoff=backoff,
        sleep=waits.append,
    )
    return client, waits


def answers(*responses: httpx.Response) -> httpx.MockTransport:
    queue = list(responses)
    return httpx.MockTransport(lambda request: queue.pop(0))


def test_429_halves_the_requests_in_flight_and_waits_as_retry_after_asks() -> None:
    client, waits = channel(
        answers(
            httpx.Response(429, headers={"Retry-After": "7"}),
            httpx.Response(200, json={"results": []}),
        ),
        concurrency=8,
    )
    with client:
        assert client.post_json("/products", {"products": []}) == {"results": []}
    assert waits == [7.0]
    assert client.in_flight.limit == 4


def test_retry_after_as_an_http_date_and_without_the_header() -> None:
    later = format_datetime(datetime.now(UTC) + timedelta(seconds=30), usegmt=True)
    client, waits = channel(
        answers(
            httpx.Response(503, headers={"Retry-After": later}),
            httpx.Response(429),
            httpx.Response(200, json={}),
        ),
        backoff=0.5,
    )
    with client:
        client.post_json("/products", {})
    assert 25 < waits[0] <= 30
    assert waits[1] == pytest.approx(1.0)  # no header: the exponential backoff (0.5 * 2)


@pytest.mark.parametrize(
    ("header", "expected"),
    [("3", 3.0), ("0", 0.0), ("-5", 0.0), ("99999", MAX_RETRY_AFTER), ("soon", None), ("", None)],
)
def test_retry_after_is_read_and_capped(header: str, expected: float | None) -> None:
    response = httpx.Response(429, headers={"Retry-After": header} if header else {})
    assert retry_after(response) == expected


def test_send_all_fails_the_run_after_recording_what_was_delivered() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if b'"bad"' in request.content:
            return httpx.Response(500, json={"message": "boom"})
        return httpx.Response(200, json={"ok": True})

    client, _ = channel(httpx.MockTransport(handler), concurrency=1)
    bodies: list[dict[str, Any]] = [{"n": 1}, {"n": "bad"}, {"n": 3}]
    got: list[Any] = []
    answers = client.send_all(bodies, lambda body: client.post_json("/products", body))
    with client, pytest.raises(ChannelError, match="answered 500: boom"):
        got.extend(answers)
    assert got == [{"ok": True}]  # one at a time: nothing was sent after the failure
