"""GETs to a remote API are tried again after what may pass, and only that."""

from __future__ import annotations

import logging

import httpx
import pytest
from cde_runtime import fetching, get_with_retries


def serve(*answers: httpx.Response | Exception) -> tuple[httpx.Client, list[str]]:
    """A client whose server gives `answers` in turn (an exception: no answer at all)."""
    queue = list(answers)
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        answer = queue.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    return httpx.Client(transport=httpx.MockTransport(handler)), seen


@pytest.fixture(autouse=True)
def no_waiting(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    waits: list[float] = []
    monkeypatch.setattr(fetching, "BACKOFF", 0.25)
    monkeypatch.setattr("tenacity.nap.time.sleep", waits.append)
    return waits


@pytest.mark.parametrize(
    "passing",
    [
        httpx.Response(429, headers={"Retry-After": "0"}),
        httpx.Response(502),
        httpx.Response(503),
        httpx.Response(504),
        httpx.ConnectError("refused"),
        httpx.ReadTimeout("slow"),
        httpx.RemoteProtocolError("Server disconnected without sending a response."),
    ],
    ids=["429", "502", "503", "504", "refused", "timeout", "dropped"],
)
def test_a_failure_that_may_pass_is_tried_again(passing: httpx.Response | Exception) -> None:
    http, seen = serve(passing, httpx.Response(200, json={"products": []}))
    response = get_with_retries(http, "https://feed.example/products?page=2")
    assert response.json() == {"products": []}
    assert seen == ["https://feed.example/products?page=2"] * 2


@pytest.mark.parametrize("status", [400, 401, 404, 500])
def test_other_answers_are_returned_at_once(status: int) -> None:
    http, seen = serve(httpx.Response(status), httpx.Response(200))
    assert get_with_retries(http, "https://feed.example/").status_code == status
    assert len(seen) == 1


def test_out_of_tries_the_last_answer_is_returned(no_waiting: list[float]) -> None:
    http, seen = serve(*[httpx.Response(503)] * 3)
    assert get_with_retries(http, "https://feed.example/", attempts=3).status_code == 503
    assert len(seen) == 3
    assert no_waiting == [0.25, 0.5]  # BACKOFF, doubled


def test_out_of_tries_the_last_error_is_raised() -> None:
    http, _ = serve(httpx.ConnectError("refused"), httpx.ReadTimeout("still slow"))
    with pytest.raises(httpx.ReadTimeout, match="still slow"):
        get_with_retries(http, "https://feed.example/", attempts=2)


def test_retry_after_sets_the_wait_capped(no_waiting: list[float]) -> None:
    http, _ = serve(
        httpx.Response(429, headers={"Retry-After": "7"}),
        httpx.Response(503, headers={"Retry-After": "86400"}),
        httpx.Response(200),
    )
    assert get_with_retries(http, "https://feed.example/").status_code == 200
    assert no_waiting == [7.0, fetching.MAX_RETRY_AFTER]


def test_the_retry_warning_shows_no_query_string(caplog: pytest.LogCaptureFixture) -> None:
    http, _ = serve(httpx.Response(503), httpx.Response(200))
    with caplog.at_level(logging.WARNING):
        get_with_retries(http, "https://feed.example/products?api_key=s3cret&page=2")
    assert "https://feed.example/products: answered 503; retrying (attempt 2 of 3)" in caplog.text
    assert "s3cret" not in caplog.text
