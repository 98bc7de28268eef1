"""GET requests to a remote API (a product feed), retried as only a read may be.

A GET changes nothing on the server, so unlike a channel POST it may be sent again after any
failure that could be passing: no answer (refused or dropped connection, a timeout, an answer
cut off) or an answer asking to come back (429, 502, 503, 504). A `Retry-After` header (seconds
or an HTTP date, capped at MAX_RETRY_AFTER) sets the wait; without one the wait doubles from
BACKOFF. Other answers (404, 500, ...) are returned at once: the caller decides what they mean.
"""

from __future__ import annotations

import logging

import httpx
import tenacity

from cde_runtime.container_api.errors import parse_retry_after
from cde_runtime.redaction import redact

log = logging.getLogger(__name__)

#: Answers after which a GET is tried again.
RETRY_STATUSES = frozenset({429, 502, 503, 504})
#: Seconds before the first retry without a Retry-After header; each later wait doubles.
BACKOFF = 0.5
#: Longest wait a Retry-After header may ask for, in seconds (longer asks are capped).
MAX_RETRY_AFTER = 120.0


def get_with_retries(http: httpx.Client, url: str, attempts: int = 3) -> httpx.Response:
    """GET `url` with `http`, up to `attempts` tries; the last answer, or the last error raised.

    The caller checks the status, as after `http.get(url)`: once the tries are used up, a 503 is
    returned like any other answer, and a dropped connection raises its httpx error.
    """
    retrying = tenacity.Retrying(
        stop=tenacity.stop_after_attempt(attempts),
        wait=_wait,
        retry=(
            tenacity.retry_if_exception_type(httpx.TransportError)
            | tenacity.retry_if_result(lambda response: response.status_code in RETRY_STATUSES)
        ),
        before_sleep=lambda state: log.warning(
            "GET %s: %s; retrying (attempt %d of %d)",
            redact(_without_query(url)),
            _outcome(state),
            state.attempt_number + 1,
            attempts,
        ),
        # Out of tries: hand back the last answer (or raise the last error) as a plain GET would.
        retry_error_callback=lambda state: state.outcome.result() if state.outcome else None,
    )
    response: httpx.Response = retrying(http.get, url)
    return response


def _wait(state: tenacity.RetryCallState) -> float:
    """The server's Retry-After when it sent one, else BACKOFF doubled per attempt."""
    outcome = state.outcome
    if outcome is not None and not outcome.failed:
        seconds = parse_retry_after(outcome.result().headers.get("Retry-After"))
        if seconds is not None:
            return min(seconds, MAX_RETRY_AFTER)
    return float(BACKOFF * 2 ** (state.attempt_number - 1))


def _outcome(state: tenacity.RetryCallState) -> str:
    outcome = state.outcome
    if outcome is None:
        return "no answer"
    if outcome.failed:
        error = outcome.exception()
        return f"{type(error).__name__}: {error}"
    return f"answered {outcome.result().status_code}"


def _without_query(url: str) -> str:
    """The URL for a log line: a query string may hold an API key."""
    return url.split("?", 1)[0]
