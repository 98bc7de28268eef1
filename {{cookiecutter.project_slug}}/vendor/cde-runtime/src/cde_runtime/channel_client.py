"""Export plumbing every channel shares: a pooled HTTP client, results, feedback, failure policy.

Your channel's API lives in `connector/channel.py`: a `ChannelClient` subclass whose calls
return one `Result` per product. What this module keeps for you:

- `ChannelClient`: one pooled httpx client with the token as a bearer header (or any
  `auth=` of cde_runtime/outside/auth.py: OAuth2 client credentials, an API key, ...), an
  optional request quota (`quota=Quota.per_second(20)`) shared by the requests in flight, compact
  JSON bodies, and retries only where the channel certainly did not process the request (refused
  connection, 429, 503): a timeout or dropped connection may have delivered the batch. A
  `Retry-After` header (seconds or an HTTP date, capped at MAX_RETRY_AFTER) sets the wait.
- `ChannelClient.send_all`: up to `concurrency` requests in flight, results in input order
  (cde_runtime/sending.py); a 429/503 halves the requests in flight until the channel recovers.
- `ExportReport`: counts the results, writes the feedback file and applies the failure policy.

Failure policy (both export modes):
- The channel itself failing (unreachable, timeout, any non-2xx such as 401 bad token, an
  answer that is not the expected JSON) fails the run at once (exit 1): nothing after that
  point was delivered, and the platform must not record the export as done.
- Products the channel rejects one by one are reported in the feedback file and the run goes
  on. At the end the run fails only if more than `max_rejected_share` of the products sent
  were rejected (`ExportReport(max_rejected_share=...)`: your connector/channel.py sets it;
  MAX_REJECTED_SHARE is the default): a few bad products are the feed's problem and show up
  in feedback, a high rate means something is systematically wrong (mapping, credentials,
  channel outage).
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Generator, Iterable, Iterator
from dataclasses import dataclass
from itertools import islice
from types import TracebackType
from typing import Any, Self, TypeVar
from urllib.parse import urlsplit

import httpx
import tenacity

from cde_runtime.container_api import ContainerApi, OutputWriter
from cde_runtime.container_api.errors import parse_retry_after
from cde_runtime.environment import current
from cde_runtime.errors import RunFailed
from cde_runtime.invariants import (
    FirstOfEachId,
    UnencodableData,
    describe_unencodable,
    rows_in,
)
from cde_runtime.outside.auth import Bearer, options_of
from cde_runtime.outside.quota import Quota
from cde_runtime.redaction import redact
from cde_runtime.sending import InFlightLimit, send_in_order
from cde_runtime.tls import tls_context
from cde_runtime.transport import DeadlineTransport

log = logging.getLogger(__name__)

#: The run fails when more than this share of the products sent is rejected (0.05 = 5 %).
MAX_REJECTED_SHARE = 0.05
#: Seconds to wait for the channel: connecting, and each socket operation. The whole request
#: (connecting, sending, the full answer) has its own deadline on top, CDE_CHANNEL_TIMEOUT
#: (default 60 s): a channel trickling its answer cannot hold the export longer.
TIMEOUT = httpx.Timeout(60.0, connect=10.0)
#: Tries per channel call; only failures that prove nothing was processed are retried.
MAX_ATTEMPTS = 3
#: Statuses after which the request is retried (the channel asks us to come back later).
RETRY_STATUSES = frozenset({429, 503})
#: Longest wait a channel's Retry-After header may ask for, in seconds (longer asks are capped).
MAX_RETRY_AFTER = 120.0

_JSON = {"Content-Type": "application/json"}
T = TypeVar("T")
B = TypeVar("B")


class ChannelError(RunFailed):
    """The channel could not be reached or refused a whole request: the export stops here."""


def check_url(url: str) -> None:
    """ChannelError (one line) for a URL no request could use (`http://[::1/c`, a port that is
    not a number), instead of a traceback from deep inside httpx."""
    try:
        urlsplit(url).port  # noqa: B018 - raises ValueError for a malformed host or port
        httpx.URL(url)
    except (ValueError, httpx.InvalidURL):
        raise ChannelError(
            f"The channel URL {redact(url)!r} is malformed: set a URL such as "
            "https://api.example.com/v1."
        ) from None


@dataclass(frozen=True)
class Result:
    """The channel's verdict on one product."""

    id: Any
    ok: bool
    message: str = ""


class ChannelClient:
    """A pooled HTTP client for a channel's JSON API; use it as a context manager."""

    def __init__(
        self,
        url: str,
        token: str = "",
        *,
        auth: httpx.Auth | None = None,
        quota: Quota | None = None,
        timeout: httpx.Timeout | None = None,
        max_attempts: int = MAX_ATTEMPTS,
        backoff: float = 1.0,
        concurrency: int = 1,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
        deadline: float | None = None,
    ) -> None:
        check_url(url)
        headers = {"Accept": "application/json"}
        if auth is None and token:
            auth = Bearer(token)
        self.auth = auth
        #: Requests per window the channel allows, shared by every request in flight.
        self.quota = quota
        self.url = url.rstrip("/")
        self.max_attempts = max_attempts
        self.backoff = backoff
        #: Requests `send_all` keeps in flight: `concurrency` at most, fewer while pushed back.
        self.in_flight = InFlightLimit(concurrency)
        self._sleep = sleep
        # One pooled connection per request in flight, kept alive between requests.
        limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
        environment = current()
        self._http = httpx.Client(
            base_url=self.url,
            headers=headers,
            auth=auth,
            timeout=TIMEOUT if timeout is None else timeout,
            transport=transport
            or DeadlineTransport(
                environment.channel_timeout if deadline is None else deadline,
                verify=tls_context(),
                limits=limits,
                max_answer_bytes=environment.max_answer_bytes,
            ),
        )

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def send_all(self, batches: Iterable[B], send: Callable[[B], T]) -> Generator[T, None, None]:
        """`send(batch)` for every batch, several in flight; the results in input order.

        Up to `concurrency` requests are in flight (fewer while the channel answers 429/503).
        A ChannelError stops new sends: the requests in flight finish, their results are still
        yielded, then the error is raised. See cde_runtime/sending.py for every guarantee.
        """
        return send_in_order(batches, send, self.in_flight)

    def post_json(self, path: str, body: dict[str, Any]) -> Any:
        """POST `body` as JSON and return the decoded answer; ChannelError when that fails.

        A value JSON cannot carry (NaN, Infinity, a lone surrogate) fails the run with a line
        naming the product and column (UnencodableData): never invalid JSON on the wire.
        """
        content = encode_json(body, "the channel")
        retrying = tenacity.Retrying(
            stop=tenacity.stop_after_attempt(self.max_attempts),
            wait=_RetryAfterOr(tenacity.wait_exponential(multiplier=self.backoff, max=30)),
            sleep=self._sleep,
            retry=tenacity.retry_if_exception_type(_RetryableError),
            before_sleep=lambda state: log.warning(
                "Channel POST %s: %s; retrying (attempt %d)",
                path,
                state.outcome.exception() if state.outcome else "",
                state.attempt_number + 1,
            ),
            reraise=True,
        )
        try:
            response = retrying(self._send, path, content)
        except _RetryableError as error:
            raise ChannelError(str(error)) from error
        if not response.is_success:
            message = f"Channel POST {path} answered {response.status_code}: {reason(response)}"
            options = options_of(self.auth)
            if response.status_code in (401, 403) and options:
                message += f"; check {' and '.join(options)}"
            raise ChannelError(message)
        try:
            return response.json()
        except ValueError as error:
            raise ChannelError(f"Channel POST {path} answered with invalid JSON.") from error

    def _send(self, path: str, content: bytes) -> httpx.Response:
        """One attempt. Only what certainly was not processed may be tried again."""
        try:
            if self.quota is not None:
                with self.quota.slot():
                    response = self._http.post(path, content=content, headers=_JSON)
            else:
                response = self._http.post(path, content=content, headers=_JSON)
            # As in the Container API client: unlink the read body from httpx's response/stream
            # cycle so each batch (and the request it references) is freed at once, not by the GC.
            response.stream = httpx.ByteStream(response.content)
        except httpx.ConnectError as error:
            raise _RetryableError(f"Could not reach the channel at {self.url}: {error}") from error
        except httpx.HTTPError as error:  # timeout or dropped connection: maybe processed
            raise ChannelError(
                f"Channel POST {path} failed: {type(error).__name__}: {error}"
            ) from error
        if response.status_code in RETRY_STATUSES:
            self.in_flight.push_back()  # fewer requests in flight while the channel pushes back
            wait = retry_after(response)
            if self.quota is not None and wait:
                self.quota.pause(wait)  # every request sharing the quota waits, not only this
            raise _RetryableError(
                f"Channel POST {path} answered {response.status_code}: {reason(response)}",
                retry_after=wait,
            )
        self.in_flight.relax()
        return response


class _RetryableError(Exception):
    """The channel certainly did not process the request (refused connection, 429, 503)."""

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class _RetryAfterOr:
    """Tenacity wait: the channel's Retry-After when it sent one, else the backoff."""

    def __init__(self, backoff: Callable[[tenacity.RetryCallState], float]) -> None:
        self.backoff = backoff

    def __call__(self, state: tenacity.RetryCallState) -> float:
        error = state.outcome.exception() if state.outcome else None
        if isinstance(error, _RetryableError) and error.retry_after is not None:
            return error.retry_after
        return self.backoff(state)


_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False)


def encode_json(body: Any, peer: str) -> bytes:
    """`body` as compact UTF-8 JSON for `peer`; UnencodableData naming the product and column
    holding what JSON cannot carry (the policy of docs/runtime.md, the same for every peer)."""
    try:
        return _ENCODER.encode(body).encode()
    except (ValueError, UnicodeEncodeError, TypeError) as error:
        where = describe_unencodable(rows_in(body))
        raise UnencodableData(
            f"Cannot send {where or 'a value'} to {peer}: JSON cannot carry it. Clean the value "
            "in the mapping (or drop the product) and run again."
        ) from error


def retry_after(response: httpx.Response, cap: float = MAX_RETRY_AFTER) -> float | None:
    """Seconds the `Retry-After` header asks for (delay or HTTP date), capped; None if absent."""
    seconds = parse_retry_after(response.headers.get("Retry-After"))
    return None if seconds is None else min(seconds, cap)


def chunked(rows: Iterable[T], size: int) -> Iterator[list[T]]:
    """Lists of up to `size` items (itertools.batched, which needs Python 3.12)."""
    iterator = iter(rows)
    while chunk := list(islice(iterator, size)):
        yield chunk


def reason(response: httpx.Response) -> str:
    """The channel's error message, short and on one line."""
    try:
        payload = response.json()
    except ValueError:
        payload = None
    message = payload.get("message") if isinstance(payload, dict) else None
    text = str(message) if message else response.reason_phrase or "(no message)"
    return " ".join(text.split())[:200]


class ExportReport:
    """Counts channel results, writes feedback rows and decides whether the export failed.

    Feedback rows are `{"id", "status": "success" | "error", "message"}`; the platform imports
    them as an extra feed on the next run, joined on `id`. Rows for rejected products
    are written when `feedback_file` is on, for accepted ones when `successes` is on too.
    Use as a context manager: whatever ends the block (the channel failing, a Container API
    error reading the next batch, a bug in the mapping) the feedback of every product recorded
    so far is still written, so the products that were delivered are reported. Messages are
    masked like every other output (a channel may echo the token in an error).
    """

    def __init__(
        self,
        api: ContainerApi,
        *,
        feedback_file: bool,
        successes: bool,
        max_rejected_share: float = MAX_REJECTED_SHARE,
    ) -> None:
        if not 0 <= max_rejected_share <= 1:
            raise ValueError(f"max_rejected_share is from 0 to 1, not {max_rejected_share!r}")
        #: The failure policy: the run fails when more than this share is rejected.
        self.max_rejected_share = max_rejected_share
        self.sent = 0
        self.accepted = 0
        self.rejected = 0
        self.skipped = 0
        self.successes = successes
        self.examples: list[Result] = []  # the first few rejections, quoted in the summary
        #: The repeated-id rule (docs/runtime.md): each id once per input, repeats counted.
        self.unique = FirstOfEachId()
        self._feedback: OutputWriter | None = api.writer("feedback") if feedback_file else None

    def record(self, results: Iterable[Result]) -> None:
        """Count one batch of channel results and queue their feedback rows."""
        rows = []
        for result in results:
            self.sent += 1
            if result.ok:
                self.accepted += 1
                if self.successes:
                    rows.append({"id": result.id, "status": "success", "message": ""})
            else:
                self.rejected += 1
                if len(self.examples) < 3:
                    self.examples.append(result)
                message = redact(result.message)
                rows.append({"id": result.id, "status": "error", "message": message})
        if self._feedback is not None and rows:
            self._feedback.write_many(rows)

    def first_of_each_id(self, rows: Iterable[dict[str, Any]]) -> Iterator[dict[str, Any]]:
        """The rows of one input with each `id` once: a later row with an id already seen in
        this input is not sent (the channel would take one and reject or overwrite the other,
        and feedback would no longer be one row per product); it is counted in the summary."""
        return self.unique(rows)

    def skip(self, count: int) -> None:
        """Count products not sent on purpose (e.g. unchanged since the last export)."""
        self.skipped += count

    @property
    def feedback_rows(self) -> int:
        """Feedback rows the Container API confirmed."""
        return self._feedback.rows_written if self._feedback is not None else 0

    def summary(self) -> str:
        text = f"{self.accepted} accepted, {self.rejected} rejected"
        if self.skipped:
            text += f", {self.skipped} skipped as unchanged"
        if self.unique.repeated:
            text += f", {self.unique.repeated} skipped as repeated ids"
        return text

    def check(self) -> None:
        """Apply the failure policy: raise RunFailed when too many products were rejected."""
        if self.unique.repeated:
            log.warning(
                "Skipped %d rows whose id was already sent in the same input (e.g. %s): each "
                "product goes to the channel once, with one feedback row.",
                self.unique.repeated,
                ", ".join(self.unique.examples),
            )
        if not self.rejected:
            return
        share = self.rejected / self.sent
        examples = ", ".join(f"{r.id} ({r.message})" for r in self.examples)
        more = " and more" if self.rejected > len(self.examples) else ""
        where = f"e.g. {examples}{more}" + (
            "; see the feedback file" if self._feedback is not None else ""
        )
        if share > self.max_rejected_share:
            raise RunFailed(
                f"The channel rejected {self.rejected} of {self.sent} products ({share:.1%}), "
                f"more than the {self.max_rejected_share:.0%} allowed; {where}."
            )
        log.warning(
            "The channel rejected %d of %d products (%.1f%%, within the %.0f%% allowed); %s.",
            self.rejected,
            self.sent,
            share * 100,
            self.max_rejected_share * 100,
            where,
        )

    def close(self) -> None:
        if self._feedback is not None:
            self._feedback.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._feedback is None:
            return
        if exc is None:
            self._feedback.close()
            return
        # The results recorded so far are real: report them even though the run fails, and let
        # the original error end the run (a failing feedback write is logged, not raised).
        try:
            self._feedback.close()
        except Exception as error:
            log.error("Feedback rows could not all be written: %s", error)
