"""Your channel client (connector/channel.py) against httpx.MockTransport: no network."""

from __future__ import annotations

import gc
import json
from collections.abc import Callable
from typing import TYPE_CHECKING

import httpx
import pytest
from cde_runtime.channel_client import ChannelError, Result

if TYPE_CHECKING:  # imported where used: a suite whose channel.py was replaced still collects
    from connector.channel import Channel

Reply = Callable[[httpx.Request], httpx.Response]


def channel_client(*replies: Reply, token: str = "") -> tuple[Channel, list[httpx.Request]]:
    """A Channel whose requests get `replies` in turn (the last one repeats); no network."""
    from connector.channel import Channel

    seen: list[httpx.Request] = []

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return replies[min(len(seen), len(replies)) - 1](request)

    client = Channel(
        "https://channel.test/api", token, backoff=0, transport=httpx.MockTransport(handle)
    )
    return client, seen


def results(*items: dict[str, object]) -> Reply:
    return lambda request: httpx.Response(200, json={"results": list(items)})


def status(code: int, body: object = None) -> Reply:
    return lambda request: httpx.Response(code, json=body if body is not None else {})


def test_channel_upsert_gives_one_result_per_product_in_order() -> None:
    client, seen = channel_client(
        results({"id": "2", "status": "error", "message": "bad price"}, {"id": "1", "status": "ok"})
    )
    assert client.upsert([{"id": "1"}, {"id": "2"}]) == [
        Result("1", ok=True),
        Result("2", ok=False, message="bad price"),
    ]
    assert seen[0].url == "https://channel.test/api/products"
    assert json.loads(seen[0].content) == {"products": [{"id": "1"}, {"id": "2"}]}


def test_channel_delete_posts_the_ids() -> None:
    client, seen = channel_client(results({"id": "9", "status": "ok"}))
    assert client.delete(["9"]) == [Result("9", ok=True)]
    assert seen[0].url.path == "/api/products/delete"
    assert json.loads(seen[0].content) == {"ids": ["9"]}


def test_channel_counts_a_product_without_a_result_as_rejected() -> None:
    client, _ = channel_client(results({"id": "1", "status": "ok"}))
    assert client.upsert([{"id": "1"}, {"id": "2"}])[1] == Result(
        "2", ok=False, message="no result from the channel"
    )


def test_channel_sends_no_request_for_an_empty_batch() -> None:
    client, seen = channel_client(results())
    assert client.upsert([]) == []
    assert seen == []


def test_channel_sends_the_token_as_a_bearer_token() -> None:
    client, seen = channel_client(results(), token="t0k")  # noqa: S106 - a test value
    client.delete(["1"])
    assert seen[0].headers["Authorization"] == "Bearer t0k"


def test_channel_sends_no_authorization_without_a_token() -> None:
    client, seen = channel_client(results())
    client.delete(["1"])
    assert "Authorization" not in seen[0].headers


def test_channel_error_status_raises_with_status_and_message() -> None:
    client, _ = channel_client(status(401, {"message": "Invalid credentials."}))
    with pytest.raises(ChannelError, match=r"^Channel POST /products answered 401: Invalid"):
        client.upsert([{"id": "1"}])


def test_channel_answer_that_is_not_json_raises() -> None:
    client, _ = channel_client(lambda request: httpx.Response(200, text="<html>"))
    with pytest.raises(ChannelError, match="invalid JSON"):
        client.upsert([{"id": "1"}])


def test_channel_answer_without_results_raises() -> None:
    client, _ = channel_client(status(200, {"data": []}))
    with pytest.raises(ChannelError, match="without a results list"):
        client.upsert([{"id": "1"}])


def test_channel_retries_when_asked_to_come_back_later() -> None:
    client, seen = channel_client(status(503), results({"id": "1", "status": "ok"}))
    assert client.upsert([{"id": "1"}]) == [Result("1", ok=True)]
    assert len(seen) == 2


def test_channel_gives_up_after_max_attempts() -> None:
    client, seen = channel_client(status(503))
    with pytest.raises(ChannelError, match="answered 503"):
        client.upsert([{"id": "1"}])
    assert len(seen) == client.max_attempts


def test_channel_does_not_retry_a_timeout_the_channel_may_have_processed() -> None:
    def timeout(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("timed out", request=request)

    client, seen = channel_client(timeout)
    with pytest.raises(ChannelError, match="ReadTimeout"):
        client.upsert([{"id": "1"}])
    assert len(seen) == 1


def test_channel_unreachable_raises_a_clear_error() -> None:
    def refused(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    client, seen = channel_client(refused)
    with pytest.raises(ChannelError, match=r"^Could not reach the channel at https://channel.test"):
        client.upsert([{"id": "1"}])
    assert len(seen) == client.max_attempts


def test_channel_batches_are_freed_without_waiting_for_the_garbage_collector() -> None:
    # Memory must not grow with the export: no request or response may outlive its batch.
    from connector.channel import Channel

    def responses_alive() -> int:
        return sum(1 for o in gc.get_objects() if isinstance(o, httpx.Response))

    def handle(request: httpx.Request) -> httpx.Response:
        ids = [p["id"] for p in json.loads(request.content)["products"]]
        return httpx.Response(200, json={"results": [{"id": i, "status": "ok"} for i in ids]})

    channel = Channel("https://channel.test/api", transport=httpx.MockTransport(handle))
    gc.collect()
    gc.disable()
    try:
        before = responses_alive()
        for n in range(200):
            channel.upsert([{"id": f"{n}-{i}"} for i in range(10)])
        left_behind = responses_alive() - before
    finally:
        gc.enable()
    assert left_behind < 5  # of the 200 batches sent
