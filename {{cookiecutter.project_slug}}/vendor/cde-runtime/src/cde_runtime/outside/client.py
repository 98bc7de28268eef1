"""`OutsideApi`: one pooled, retrying, quota-keeping HTTP client for an API your connector calls.

Usable from every mode (a product feed, a channel, a pricing API called by a data service)::

    shop = OutsideApi(settings.SHOP_URL, name="Shop API", option="SHOP_URL",
                      auth=Bearer(settings.SHOP_TOKEN, option="SHOP_TOKEN"),
                      quota=Quota.per_second(10))
    for page in shop.pages("/products", pagination=LinkHeader(), items="products"):
        ...

What it keeps for you:

- every method: `get_json`, `post_json`, `put_json`, `patch_json`, `delete_json` (a DELETE may
  carry a JSON body), or `request(method, path, ...)` for the raw answer;
- retries decided by idempotency: a request that changes nothing twice (GET, HEAD, PUT, DELETE,
  or any call made with `idempotent=True`, such as a price lookup sent as POST) is tried again
  after anything that may pass: no answer (refused or dropped connection, a timeout), 429, 502,
  503, 504. A delivery (POST, PATCH) is tried again only where the API certainly did not process
  it: a refused connection, 429, 503. A `Retry-After` header (seconds or an HTTP date, capped at
  `max_retry_after`) sets the wait, else the wait doubles from `backoff`;
- a quota (`Quota.per_second(20)`, `Quota.per_minute(120)`) shared by every request in flight,
  held back as a whole when the API answers 429 with `Retry-After`;
- `pages(...)`: a paginated listing with any strategy of `cde_runtime.outside.pagination`;
- `stream_items(...)`: the items of a large JSON, JSON Lines or XML answer (gzip too), parsed as
  they arrive; a broken-off answer is read again and the items already handed over are skipped;
- `send_all(batches, send)`: up to `concurrency` requests in flight, results in input order;
- errors as one line (`OutsideApiError`, a RunFailed) naming the API, the method and the path
  (never the query, which may hold a key); a 401 or 403 names the options holding the
  credentials;
- `requests`: how many requests went to the API, logged when the client closes.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import time
from collections.abc import Callable, Generator, Iterable, Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager, nullcontext
from types import TracebackType
from typing import Any, Literal, Self, TypeVar

import httpx
import ijson  # type: ignore[import-untyped]
import tenacity

from cde_runtime.container_api.errors import parse_retry_after
from cde_runtime.errors import RunFailed
from cde_runtime.outside import streaming
from cde_runtime.outside.auth import options_of
from cde_runtime.outside.pagination import LinkHeader, NextLink, NextRequest, Pagination, dig
from cde_runtime.outside.quota import Quota
from cde_runtime.sending import InFlightLimit, send_in_order
from cde_runtime.transport import feed_transport

__all__ = ["BACKOFF", "MAX_RETRY_AFTER", "OutsideApi", "OutsideApiError"]

log = logging.getLogger(__name__)

#: Seconds before the first retry without a Retry-After header; each later wait doubles.
BACKOFF = 0.5
#: Longest wait a Retry-After header may ask for, in seconds (longer asks are capped).
MAX_RETRY_AFTER = 120.0
#: Methods that change nothing when sent twice (RFC 9110, section 9.2.2).
IDEMPOTENT = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
#: Answers after which any request is tried again: the API did not process it.
NOT_PROCESSED = frozenset({429, 503})
#: Answers after which an idempotent request is tried again too (a gateway failed).
GATEWAY = frozenset({502, 504})
_MISSING: Any = object()
B = TypeVar("B")
R = TypeVar("R")
Format = Literal["json", "jsonl", "xml"]


class OutsideApiError(RunFailed):
    """An outside API could not be reached, or refused a request: the run ends with this line."""

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class _RetryableError(Exception):
    def __init__(self, message: str, *, status: int | None = None, wait: float | None = None):
        super().__init__(message)
        self.status = status
        self.wait = wait


def valid_base_url(url: str, option: str | None, name: str) -> str:
    """The URL without a trailing slash; RunFailed naming the option when it is no http(s) URL."""
    try:
        parsed = httpx.URL(url)
        valid = parsed.scheme in ("http", "https") and bool(parsed.host)
    except (httpx.InvalidURL, TypeError, ValueError):
        valid = False
    if not valid:
        where = f"The {option} option" if option else f"The URL of {name}"
        raise RunFailed(
            f"{where} must be an http:// or https:// URL such as https://api.example.com, "
            f"not {url[:80]!r}."
        )
    return url.rstrip("/")


class OutsideApi:
    """A pooled HTTP client for one outside API; use it as a context manager."""

    def __init__(
        self,
        base_url: str,
        *,
        name: str = "The API",
        option: str | None = None,
        auth: httpx.Auth | None = None,
        quota: Quota | None = None,
        concurrency: int = 4,
        timeout: float | httpx.Timeout = 60.0,
        attempts: int = 3,
        backoff: float | None = None,
        max_retry_after: float | None = None,
        headers: Mapping[str, str] | None = None,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if attempts < 1:
            raise ValueError(f"attempts is at least 1, not {attempts}")
        self.name = name
        self.url = valid_base_url(base_url, option, name)
        self.auth = auth
        self.quota = quota
        self.attempts = attempts
        self.backoff = BACKOFF if backoff is None else backoff
        self.max_retry_after = MAX_RETRY_AFTER if max_retry_after is None else max_retry_after
        #: Requests `send_all` keeps in flight: `concurrency` at most, fewer while pushed back.
        self.in_flight = InFlightLimit(concurrency)
        #: Requests sent to the API (each try counts), and how many of them were tries again.
        self.requests = 0
        self.retried = 0
        self._sleep = sleep
        self._warned_link = False
        if not isinstance(timeout, httpx.Timeout):
            timeout = httpx.Timeout(timeout, connect=min(10.0, timeout))
        limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
        self._http = httpx.Client(
            base_url=self.url,
            headers={"Accept": "application/json", **(headers or {})},
            auth=auth,
            timeout=timeout,
            # The whole-request deadline (CDE_FEED_TIMEOUT) and the cap on decoded answers.
            transport=transport or feed_transport(limits),
            follow_redirects=True,
        )

    # -- lifetime ---------------------------------------------------------------------------

    def close(self) -> None:
        if self.requests:
            log.info(
                "%s: %d request%s sent to %s (%d tried again)",
                self.name,
                self.requests,
                "" if self.requests == 1 else "s",
                self.origin,
                self.retried,
            )
        self._http.close()
        closer = getattr(self.auth, "close", None)
        if callable(closer):
            closer()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    @property
    def origin(self) -> str:
        parsed = httpx.URL(self.url)
        port = f":{parsed.port}" if parsed.port else ""
        return f"{parsed.scheme}://{parsed.host}{port}"

    # -- requests ---------------------------------------------------------------------------

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = _MISSING,
        content: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        idempotent: bool | None = None,
        accept: Iterable[int] = (),
    ) -> httpx.Response:
        """Send a request (retried as its idempotency allows); the answer, read whole.

        An answer outside 2xx raises OutsideApiError, unless its status is in `accept`.
        """
        method = method.upper()
        if idempotent is None:
            idempotent = method in IDEMPOTENT
        extra = dict(headers or {})
        if json is not _MISSING:
            content = _dumps(json)
            extra.setdefault("Content-Type", "application/json")
        label = f"{self.name} {method} {self.shown(path)}"
        response = self._retrying(label)(
            self._attempt, method, path, params, content, extra, idempotent, label
        )
        if response.is_success or response.status_code in set(accept):
            return response
        raise self._refused(label, response)

    def get_json(self, path: str, **kwargs: Any) -> Any:
        return self._json(self.request("GET", path, **kwargs), path)

    def post_json(self, path: str, body: Any, **kwargs: Any) -> Any:
        return self._json(self.request("POST", path, json=body, **kwargs), path)

    def put_json(self, path: str, body: Any, **kwargs: Any) -> Any:
        return self._json(self.request("PUT", path, json=body, **kwargs), path)

    def patch_json(self, path: str, body: Any, **kwargs: Any) -> Any:
        return self._json(self.request("PATCH", path, json=body, **kwargs), path)

    def delete_json(self, path: str, body: Any = _MISSING, **kwargs: Any) -> Any:
        return self._json(self.request("DELETE", path, json=body, **kwargs), path)

    def send_all(self, batches: Iterable[B], send: Callable[[B], R]) -> Generator[R, None, None]:
        """`send(batch)` for every batch, several in flight; the results in input order
        (cde_runtime/sending.py has every guarantee)."""
        return send_in_order(batches, send, self.in_flight)

    # -- listings ---------------------------------------------------------------------------

    def pages(
        self,
        path: str,
        *,
        pagination: Pagination | None = None,
        items: str | Callable[[Any], Any] = "",
        params: Mapping[str, Any] | None = None,
    ) -> Generator[list[Any], None, None]:
        """The items of each page of a listing, page by page (empty pages are skipped).

        `items` is the dotted path of the list in each page's JSON body (`""`: the body is the
        list) or a function of the body. See cde_runtime/outside/pagination.py.
        """
        strategy = pagination if pagination is not None else NextLink()
        # A query in `path` joins `params`: httpx replaces a URL's query with any params given.
        path, _, query = path.partition("?")
        given = {**dict(httpx.QueryParams(query)), **dict(params or {})}
        request: NextRequest | None = NextRequest(path, strategy.first(given))
        sent: set[str] = set()
        seen_pages: set[str] = set()
        while request is not None:
            url = str(
                self._http.build_request("GET", request.url, params=request.params or None).url
            )
            if url in sent:
                raise OutsideApiError(
                    f"{self.name} pages go round in a loop: {self.shown(url)} was asked for "
                    f"before ({strategy!r}); the API's pagination is not the one configured."
                )
            sent.add(url)
            self._same_origin(url)
            response = self.request("GET", request.url, params=request.params)
            body = self._json(response, request.url)
            found = items(body) if callable(items) else dig(body, items)
            if not isinstance(found, list):
                where = f'"{items}"' if isinstance(items, str) and items else "the body"
                raise OutsideApiError(
                    f"{self.name} page {self.shown(url)} has no list of items at {where}."
                )
            digest = hashlib.sha256(response.content).hexdigest()
            if found and digest in seen_pages:
                raise OutsideApiError(
                    f"{self.name} sent the same page twice ({self.shown(url)}): it ignores or "
                    f"clamps the page asked for, so {strategy!r} cannot move forward."
                )
            seen_pages.add(digest)
            request = strategy.after(response, body, found, request)
            if request is None and not isinstance(strategy, LinkHeader):
                self._warn_unfollowed_link(response, strategy)
            if found:
                yield found

    def items(self, path: str, **kwargs: Any) -> Iterator[Any]:
        """The items of every page, one by one (`pages` flattened)."""
        for page in self.pages(path, **kwargs):
            yield from page

    # -- streaming --------------------------------------------------------------------------

    @contextmanager
    def stream(
        self, path: str, *, params: Mapping[str, Any] | None = None
    ) -> Iterator[httpx.Response]:
        """GET with the answer left unread: iterate `response.iter_bytes()` inside the block."""
        label = f"{self.name} GET {self.shown(path)}"
        slot = self._slot()
        slot.__enter__()
        try:
            response = self._retrying(label)(self._open, path, params, label)
            try:
                if not response.is_success:
                    response.read()
                    raise self._refused(label, response)
                yield response
            finally:
                response.close()
        finally:
            slot.__exit__(None, None, None)

    def stream_items(
        self,
        path: str,
        *,
        format: Format = "json",
        item: str = "item",
        params: Mapping[str, Any] | None = None,
    ) -> Iterator[Any]:
        """The items of a large answer, parsed as they arrive (cde_runtime/outside/streaming.py).

        `item` is the ijson prefix of the items for JSON (`"item"`: the body is an array;
        `"products.item"`: the array under `products`) and the element tag for XML. A gzip body
        (a `.gz` file) is unpacked. If the answer breaks off, it is asked for again (a GET) and
        the items already handed over are skipped.
        """
        handed = 0
        for attempt in range(1, self.attempts + 1):
            try:
                with self.stream(path, params=params) as response:
                    for number, value in enumerate(self._parse(response, format, item)):
                        if number >= handed:
                            handed += 1
                            yield value
                return
            except (httpx.TransportError, EOFError) as error:
                problem = f"{type(error).__name__}"
                if attempt == self.attempts:
                    raise OutsideApiError(
                        f"{self.name} GET {self.shown(path)} broke off after {handed} items "
                        f"({problem}), {attempt} times."
                    ) from error
                self.retried += 1
                log.warning(
                    "%s GET %s broke off after %d items (%s); reading it again, skipping those",
                    self.name,
                    self.shown(path),
                    handed,
                    problem,
                )
            except (ValueError, SyntaxError, ijson.JSONError) as error:  # parse errors
                raise OutsideApiError(
                    f"{self.name} GET {self.shown(path)} is not valid {format.upper()} after "
                    f"{handed} items: {type(error).__name__}."
                ) from error

    # -- internals --------------------------------------------------------------------------

    def shown(self, path_or_url: str) -> str:
        """A path or URL for a message: no query string (it may hold a key), no user info."""
        text = path_or_url.split("?", 1)[0]
        if "://" in text:
            parsed = httpx.URL(text)
            port = f":{parsed.port}" if parsed.port else ""
            return f"{parsed.scheme}://{parsed.host}{port}{parsed.path}"
        return text

    def _slot(self) -> AbstractContextManager[None]:
        return self.quota.slot() if self.quota is not None else nullcontext()

    def _retrying(self, label: str) -> tenacity.Retrying:
        return tenacity.Retrying(
            stop=tenacity.stop_after_attempt(self.attempts),
            wait=self._wait,
            sleep=self._sleep,
            retry=tenacity.retry_if_exception_type(_RetryableError),
            before_sleep=lambda state: self._before_retry(state),
            retry_error_callback=lambda state: self._gave_up(label, state),
        )

    def _before_retry(self, state: tenacity.RetryCallState) -> None:
        self.retried += 1
        error = state.outcome.exception() if state.outcome else None
        wait = state.next_action.sleep if state.next_action else 0.0
        log.warning(
            "%s; trying again in %.1f s (try %d of %d)",
            error,
            wait,
            state.attempt_number + 1,
            self.attempts,
        )

    def _gave_up(self, label: str, state: tenacity.RetryCallState) -> httpx.Response:
        error = state.outcome.exception() if state.outcome else None
        status = error.status if isinstance(error, _RetryableError) else None
        raise OutsideApiError(f"{error} ({state.attempt_number} tries)", status=status) from error

    def _wait(self, state: tenacity.RetryCallState) -> float:
        error = state.outcome.exception() if state.outcome else None
        if isinstance(error, _RetryableError) and error.wait is not None:
            return error.wait
        return float(self.backoff * 2 ** (state.attempt_number - 1))

    def _attempt(
        self,
        method: str,
        path: str,
        params: Mapping[str, Any] | None,
        content: bytes | None,
        headers: dict[str, str],
        idempotent: bool,
        label: str,
    ) -> httpx.Response:
        """One try. Only what the API certainly did not process is tried again, unless the
        request is idempotent."""
        with self._slot():
            self.requests += 1
            try:
                response = self._http.request(
                    method, path, params=params or None, content=content, headers=headers
                )
            except httpx.ConnectError as error:
                raise _RetryableError(f"Could not reach {self.name} at {self.origin}") from error
            except httpx.HTTPError as error:  # a timeout or a dropped answer: maybe processed
                problem = f"{label} failed: {type(error).__name__}"
                if idempotent:
                    raise _RetryableError(problem) from error
                raise OutsideApiError(
                    f"{problem} (it may have reached the API, so it is not sent again)"
                ) from error
        # Unlink the read body from httpx's response/stream cycle, so it is freed at once.
        response.stream = httpx.ByteStream(response.content)
        self._check_retry(response, idempotent, label)
        return response

    def _open(self, path: str, params: Mapping[str, Any] | None, label: str) -> httpx.Response:
        self.requests += 1
        request = self._http.build_request("GET", path, params=params or None)
        try:
            response = self._http.send(request, stream=True)
        except httpx.ConnectError as error:
            raise _RetryableError(f"Could not reach {self.name} at {self.origin}") from error
        except httpx.HTTPError as error:
            raise _RetryableError(f"{label} failed: {type(error).__name__}") from error
        try:
            self._check_retry(response, True, label)
        except _RetryableError:
            response.close()
            raise
        return response

    def _check_retry(self, response: httpx.Response, idempotent: bool, label: str) -> None:
        status = response.status_code
        if status in NOT_PROCESSED or (idempotent and status in GATEWAY):
            seconds = parse_retry_after(response.headers.get("Retry-After"))
            wait = None if seconds is None else min(seconds, self.max_retry_after)
            if self.quota is not None and wait:
                self.quota.pause(wait)  # every request in flight waits, not only this one
            self.in_flight.push_back()
            if not response.is_stream_consumed:
                response.read()
            raise _RetryableError(
                f"{label} answered {status}: {reason(response)}", status=status, wait=wait
            )
        self.in_flight.relax()

    def _refused(self, label: str, response: httpx.Response) -> OutsideApiError:
        status = response.status_code
        message = f"{label} answered {status}: {reason(response)}"
        options = options_of(self.auth)
        if status in (401, 403) and options:
            message += f"; check {' and '.join(options)}"
        return OutsideApiError(message, status=status)

    def _json(self, response: httpx.Response, path: str) -> Any:
        if not response.content:
            return None
        try:
            return response.json()
        except ValueError as error:
            raise OutsideApiError(
                f"{self.name} {response.request.method} {self.shown(path)} answered "
                f"{response.status_code} with a body that is not JSON."
            ) from error

    def _parse(self, response: httpx.Response, format: Format, item: str) -> Iterator[Any]:
        raw = io.BufferedReader(streaming.ChunkReader(response.iter_bytes()))
        body: Any = streaming.gunzipped(raw) if streaming.is_gzip(raw.peek(2)) else raw
        if format == "xml":
            return streaming.xml_items(body, item)
        if format == "jsonl":
            return streaming.jsonl_items(body)
        return streaming.json_items(body, item)

    def _same_origin(self, url: str) -> None:
        target = httpx.URL(url)
        base = httpx.URL(self.url)
        if (target.scheme, target.host, target.port) != (base.scheme, base.host, base.port):
            raise OutsideApiError(
                f"{self.name} links to a page on another host ({self.shown(url)}): not sent, "
                "the request would carry this API's credentials there."
            )

    def _warn_unfollowed_link(self, response: httpx.Response, strategy: Pagination) -> None:
        if self._warned_link or "next" not in response.links:
            return
        self._warned_link = True
        log.warning(
            '%s answered with a Link: rel="next" header that %r does not follow: if the '
            "listing goes on there, use pagination=LinkHeader().",
            self.name,
            strategy,
        )


def reason(response: httpx.Response) -> str:
    """The API's error message, short and on one line."""
    try:
        payload = response.json()
    except ValueError:
        payload = None
    message = None
    if isinstance(payload, dict):
        message = payload.get("message") or payload.get("error_description") or payload.get("error")
    text = str(message) if message else response.reason_phrase or "(no message)"
    return " ".join(text.split())[:200]


def _dumps(body: Any) -> bytes:
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()
