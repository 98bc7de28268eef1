"""HTTP client for the Productsup CDE Container API (one instance per run).

"§n" marks cite the sections of docs/container-api.md in this repository, the Container API
this client was written against (the real service may differ by version); "unknown n" cites an
item of its section 6.

Retry and idempotency decision
------------------------------
`next_row`/`next_batch` move a server-side cursor and `write` appends rows, so a request that may
have reached the server must not be repeated silently: a repeated read after a lost response skips
a batch, a repeated write duplicates rows. Hence two policies:

* cursor-moving reads and every POST (write, log, storage, close, process log) and bucket delete
  retry only when the request certainly was not processed: connection refused, connect timeout,
  pool timeout, 429, and a 503 as `write_retry` says (CONTAINER_API_WRITE_RETRY): by default
  ("platform-503") only a 503 the Container API answered itself (a JSON error body), since a
  proxy in front of it answers 503 also after the request reached it (an upstream reset), and
  sending a write again then stores it twice; "any-503" retries every 503 (a duplicated batch
  rather than a failed run), "no-503" none. A 502/504, a read timeout or a dropped connection
  raise at once.
* side-effect-free or idempotent calls (ping, count, restart, process, pending_processes,
  csa_classifications, bucket upload/download of the same file) also retry on 502/504 and on
  read errors.

Deadlines: every request has one deadline for all of it (connecting, sending, the full answer:
`read_timeout`, CONTAINER_API_READ_TIMEOUT), so a peer trickling its answer a byte at a time
cannot hold a call open longer (cde_runtime/transport.py); a log line has its own short one.

Retries use tenacity: at most `max_attempts` tries, exponential backoff from `backoff` seconds
with jitter, capped at 10 s, each retry logged at WARNING on "cde_runtime.container_api" (never
with row data). A 429/503 with `Retry-After` (seconds or an HTTP date) waits that long instead,
capped at MAX_RETRY_AFTER.

Platform variants
-----------------
* Input type: older Container API versions know the full feed only as `full`. The first call
  on `input` decides once per run: when the API answers `input` with 400/404 but knows `full`,
  every later `input` call goes to `full` (a warning says so).
* Completeness: `read()` compares the rows a stream delivered with `/items/{type}/count` when
  the stream ends; an early end (204, empty or null `data`) raises IncompleteInput instead of
  passing for the end of input.
* Write size: `writer()` caps each request at `max_write_bytes` of JSON as well as at
  `batch_size` rows, since a proxy in front of the API may refuse large bodies; a single row
  larger than the cap is sent alone.

Statuses: each endpoint accepts only the statuses docs/container-api.md §3 lists; anything else
raises `ContainerApiError`, so a 502 never passes for the end of the input.
"""

from __future__ import annotations

import json
import logging
import os
import ssl
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from types import TracebackType
from typing import Any, Final, Self, TypeVar
from urllib.parse import quote, urlsplit

import httpx
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception,
    stop_after_attempt,
    wait_exponential,
    wait_random,
)

from ..invariants import UnencodableData, describe_unencodable, rows_in
from ..transport import DEADLINE_EXTENSION, DeadlineTransport, check_deadline_seconds
from .errors import (
    ContainerApiError,
    ContainerApiUnavailable,
    IncompleteInput,
    InputNotProvided,
    StuckInput,
    error_from_response,
    is_platform_not_provided,
)
from .streams import OutputWriter, RowReader

__all__ = [
    "DEFAULT_BASE_URL",
    "INPUT_TYPES",
    "LOG_LEVELS",
    "MAX_BATCH_SIZE",
    "MAX_RETRY_AFTER",
    "MAX_WRITE_BYTES",
    "Classification",
    "ContainerApi",
    "Process",
]

logger = logging.getLogger("cde_runtime.container_api")

DEFAULT_BASE_URL: Final = "http://cde-container-api"
# `full` is the deprecated alias of `input`; the other four are the delta streams (§2).
INPUT_TYPES: Final = ("input", "full", "new", "modified", "unchanged", "deleted")
LOG_LEVELS: Final = (
    "success",
    "debug",
    "info",
    "notice",
    "warning",
    "error",
    "critical",
    "alert",
    "emergency",
    "report",
)
# The server accepts 0 < size < 1000 and defaults to 1 row per call when size is omitted (§3.5).
MAX_BATCH_SIZE: Final = 999
# Bytes of JSON per write request: below the 1 MiB body limit common proxies apply by default
# (nginx's client_max_body_size), with room for the request line and headers.
MAX_WRITE_BYTES: Final = 1_000_000
# The longest `Retry-After` honoured, in seconds: a longer one is treated as this long.
MAX_RETRY_AFTER: Final = 60.0
_MAX_BACKOFF = 10.0
T = TypeVar("T")
_USER_AGENT = f"productsup-cde-connector (python-httpx/{httpx.__version__})"
_JSON_HEADERS: Final = {"Content-Type": "application/json"}

# Failures that prove the request never reached the application.
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
_RETRY_STATUSES_UNSAFE = frozenset({429})
#: CONTAINER_API_WRITE_RETRY: which 503 answers a request that may have side effects is sent
#: again after (see the module docstring).
WRITE_RETRY: Final = ("platform-503", "any-503", "no-503")
_RETRY_STATUSES_SAFE = frozenset({429, 502, 503, 504})
# Transport failures worth retrying for side-effect-free calls.
_TRANSIENT = (httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError)

_OK_200 = frozenset({200})
_OK_READ = frozenset({200, 204})
# Bucket endpoints are reconstructed (§3.15): their success status is inferred, so accept any
# plain success instead of failing a run on a guess.
_OK_BUCKET = frozenset({200, 201, 202, 204})


@dataclass(frozen=True, slots=True)
class Process:
    """An asynchronous storage process (§3.11): examples show only the status `running`."""

    id: str
    status: str
    exit_code: int | None = None
    seconds_remaining: int | None = None

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Process:
        """Parse leniently: every field is optional (docs/container-api.md §3.11)."""
        return cls(
            id=str(_pick(data, "id") or ""),
            status=str(_pick(data, "status") or ""),
            exit_code=_int_or_none(_pick(data, "exit-code", "exit_code", "exitCode")),
            seconds_remaining=_int_or_none(
                _pick(data, "seconds-remaining", "seconds_remaining", "secondsRemaining")
            ),
        )


@dataclass(frozen=True, slots=True)
class Classification:
    """A category-specific-attributes classification (§3.14)."""

    id: int
    path: str

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Classification:
        """Parse the kebab-case keys, tolerating snake/camel spellings."""
        ident = _int_or_none(
            _pick(data, "classification-id", "classification_id", "classificationId", "id")
        )
        if ident is None:
            raise ValueError("classification without an integer classification-id")
        path = _pick(data, "classification-path", "classification_path", "classificationPath")
        return cls(id=ident, path="" if path is None else str(path))


def _verify(base_url: str) -> ssl.SSLContext | bool:
    """httpx's `verify` for the API at `base_url`.

    httpx loads the CA bundle for every client it builds (~35 ms of CPU, a tenth of a health
    check), even one that never speaks TLS. The Container API is a plain-HTTP sidecar, so for
    an http:// URL the client gets a context holding no CA at all: no TLS connection is ever
    made, and should one be attempted, no certificate passes (it fails closed). An https://
    URL is verified as httpx always does.
    """
    if urlsplit(base_url).scheme == "http":
        return ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    return True


class ContainerApi:
    """Every Container API endpoint over one pooled keep-alive connection.

    Thread-safe: the read-ahead reader and the background writer share this client.
    """

    def __init__(
        self,
        base_url: str | None = None,
        *,
        connect_timeout: float = 30.0,
        read_timeout: float = 3600.0,
        max_attempts: int = 5,
        backoff: float = 0.5,
        max_write_bytes: int = MAX_WRITE_BYTES,
        write_retry: str = "platform-503",
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if max_attempts < 1:
            raise ValueError(f"max_attempts must be at least 1, got {max_attempts}")
        if max_write_bytes < 1:
            raise ValueError(f"max_write_bytes must be at least 1, got {max_write_bytes}")
        if write_retry not in WRITE_RETRY:
            raise ValueError(
                f"write_retry must be one of {', '.join(WRITE_RETRY)}: {write_retry!r}"
            )
        read_timeout = check_deadline_seconds(read_timeout, "read_timeout")
        if base_url is None:
            base_url = os.environ.get("CONTAINER_API_URL") or DEFAULT_BASE_URL
        self._base_url = base_url.rstrip("/")
        self._max_attempts = max_attempts
        self._max_write_bytes = max_write_bytes
        self._sleep = sleep
        # What `input` is called on this API (`input`, or `full` on old versions): decided on
        # first use, under a lock since the read-ahead thread may be the first user.
        self._input_wire: str | None = None
        self._input_lock = threading.Lock()
        # 3600 s read / 30 s connect (docs/container-api.md §1): batches of 999 rows
        # and storage calls can be slow. trust_env=False: the API is a sidecar on the run's own
        # Docker network, so proxy variables meant for the internet must not reroute it.
        self._http = httpx.Client(
            base_url=self._base_url,
            timeout=httpx.Timeout(read_timeout, connect=connect_timeout, pool=connect_timeout),
            headers={"User-Agent": _USER_AGENT, "Accept": "application/json"},
            transport=transport or DeadlineTransport(read_timeout, verify=_verify(self._base_url)),
            trust_env=False,
        )
        self._retry_safe = self._retrying(max_attempts, backoff, _is_retryable_safe)
        self._retry_unsafe = self._retrying(
            max_attempts, backoff, partial(_is_retryable_unsafe, write_retry)
        )

    @property
    def base_url(self) -> str:
        return self._base_url

    def __repr__(self) -> str:
        return f"ContainerApi({self._base_url!r})"

    # -- lifecycle -----------------------------------------------------------------------------

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

    # -- misc ----------------------------------------------------------------------------------

    def ping(self) -> None:
        """Check that the Container API answers (§3.1). Not for the build health check."""
        self._call("GET", "/ping", ok=_OK_200, safe=True)

    # -- input ---------------------------------------------------------------------------------

    def next_row(
        self,
        type: str = "input",
        *,
        show_hidden: bool = False,
        classification_id: int | None = None,
    ) -> dict[str, Any] | None:
        """Next input row, or None at the end (204, or 200 with empty `data`, §3.4)."""
        data = self._read_data(type, "next", _read_params(None, show_hidden, classification_id))
        if not data:
            return None
        if isinstance(data, dict):
            return data
        raise self._malformed("GET", f"/input/{type}/next", "`data` is not an object")

    def _read_data(self, type: str, endpoint: str, params: dict[str, str]) -> Any:
        """The `data` of one cursor-moving read (None at the end), on this API's input name."""
        body = self._on_input(
            type,
            lambda wire: self._call(
                "GET",
                f"/input/{wire}/{endpoint}",
                ok=_OK_READ,
                safe=False,
                params=params,
                not_found=InputNotProvided,
            ),
        )
        return None if body is None else body.get("data")

    def next_batch(
        self,
        type: str = "input",
        size: int = MAX_BATCH_SIZE,
        *,
        show_hidden: bool = False,
        classification_id: int | None = None,
    ) -> list[dict[str, Any]]:
        """Up to `size` next rows; [] at the end (200 with empty/absent `data`, or 204, §3.5).

        A short batch is not the end of input: call again until [].
        """
        _check_batch_size(size)
        path = f"/input/{type}/next_batch"
        data = self._read_data(
            type, "next_batch", _read_params(size, show_hidden, classification_id)
        )
        if not data:
            return []
        if not isinstance(data, list):
            raise self._malformed("GET", path, "`data` is not a list")
        for index, row in enumerate(data):
            if not isinstance(row, dict):
                raise self._malformed(
                    "GET", path, f"row {index + 1} of the batch is {_json_kind(row)}, not an object"
                )
        return data

    def read(
        self,
        type: str = "input",
        *,
        batch_size: int = MAX_BATCH_SIZE,
        show_hidden: bool = False,
        classification_id: int | None = None,
        read_ahead: bool = True,
        check_count: bool = True,
    ) -> RowReader:
        """Iterate all remaining rows of an input, fetching the next batch while you work.

        With `check_count` (the default) the stream's rows are compared with `count(type)` when
        it ends, and a difference raises IncompleteInput: read from the start of the stream
        (a fresh run, or after `restart()`), or pass `check_count=False`. A `classification_id`
        filters rows, so it turns the check off.
        """
        _check_batch_size(batch_size)
        _input_type(type)
        fetch: Callable[[], list[dict[str, Any]]] = partial(
            self.next_batch,
            type,
            batch_size,
            show_hidden=show_hidden,
            classification_id=classification_id,
        )
        fetch = _ProgressCheck(type, fetch)
        if check_count and classification_id is None:
            fetch = _CountedFetch(self, type, fetch)
        return RowReader(fetch, read_ahead=read_ahead)

    def count(self, type: str = "input") -> int:
        """Total rows of an input file, independent of the cursor (§3.7)."""
        return self._on_input(type, self._count)

    def _count(self, wire_type: str) -> int:
        path = f"/items/{wire_type}/count"
        body = self._call("GET", path, ok=_OK_200, safe=True, not_found=InputNotProvided)
        data = None if body is None else body.get("data")
        count = _int_or_none(data.get("count")) if isinstance(data, dict) else None
        if count is None:
            raise self._malformed("GET", path, "no integer `data.count`")
        return count

    def restart(self, type: str = "input") -> None:
        """Rewind the input's cursor so the next read starts from the first row (§3.6)."""
        # GET on purpose (§3.6); rewinding twice equals rewinding once, so retrying is safe.
        self._on_input(
            type,
            lambda wire: self._call(
                "GET", f"/input/{wire}/restart", ok=_OK_200, safe=True, not_found=InputNotProvided
            ),
        )

    # -- output --------------------------------------------------------------------------------

    def write(
        self,
        rows: Sequence[Mapping[str, Any]],
        *,
        type: str = "output",
        separator: str | None = None,
    ) -> None:
        """Append rows to an output file (`output` or `feedback`) in one request (§3.2)."""
        if not rows:
            raise ValueError("write() needs at least one row: the server rejects empty data")
        body: dict[str, Any] = {"data": rows if isinstance(rows, list | tuple) else list(rows)}
        if separator is not None:
            body["meta"] = {"separator": separator}
        self._call(
            "POST", f"/output/{_output_type(type)}", ok=frozenset({201}), safe=False, body=body
        )

    def writer(
        self,
        type: str = "output",
        *,
        batch_size: int = MAX_BATCH_SIZE,
        separator: str | None = None,
        background: bool = True,
        max_bytes: int | None = None,
    ) -> OutputWriter:
        """A buffered writer that posts batches of up to `batch_size` rows and `max_bytes` bytes
        (default: this client's `max_write_bytes`), optionally from a background thread."""
        path = f"/output/{_output_type(type)}"
        meta = b"" if separator is None else b',"meta":' + _encode({"separator": separator})

        limit = (max_bytes or self._max_write_bytes) - _WRITE_ENVELOPE - len(meta)

        def pack(rows: list[dict[str, Any]]) -> list[tuple[bytes, int]]:
            # One encode per batch; rows are encoded one by one only for a batch over the cap.
            data = _encode(rows)
            if len(data) <= limit:
                return [(b'{"data":' + data + meta + b"}", len(rows))]
            return [
                (b'{"data":[' + b",".join(part) + b"]" + meta + b"}", len(part))
                for part in _byte_bounded([_encode(row) for row in rows], limit)
            ]

        def send(body: bytes) -> None:
            self._call("POST", path, ok=frozenset({201}), safe=False, content=body)

        return OutputWriter(send, batch_size=batch_size, background=background, pack=pack)

    def close_output(self, type: str = "output") -> None:
        """Close an output file (§3.3): a maintenance route; connectors normally never call it."""
        self._call("POST", f"/output/{_output_type(type)}/close", ok=frozenset({204}), safe=False)

    # -- logs ----------------------------------------------------------------------------------

    def log(
        self,
        level: str,
        message: str,
        context: Mapping[str, Any] | None = None,
        *,
        timeout: float | None = None,
    ) -> None:
        """Write a log line visible in the Dev Portal (§3.8); `timeout` bounds the request."""
        if level not in LOG_LEVELS:
            raise ValueError(f"unknown log level {level!r}; use one of {', '.join(LOG_LEVELS)}")
        if not message or not message.strip():
            raise ValueError("log message must not be blank: the server rejects it")
        body: dict[str, Any] = {"message": message}
        if context is not None:
            body["context"] = dict(context)
        self._call(
            "POST", f"/logs/{level}", ok=frozenset({201}), safe=False, body=body, deadline=timeout
        )

    # -- storage and processes -----------------------------------------------------------------

    def store_to_transport(self, source_file: str, remote_file: str) -> str:
        """Start copying a local file to the Productsup transport server; returns a process id."""
        return self._store("/store/to-transport", source_file, remote_file)

    def store_to_internal_storage(self, source_file: str, remote_file: str) -> str:
        """Start copying a local file to the run's internal storage; returns a process id."""
        return self._store("/storage/internal", source_file, remote_file)

    def process(self, process_id: str) -> Process:
        """Status of one asynchronous storage process (§3.11)."""
        path = f"/processes/{_segment(process_id, 'process_id')}"
        body = self._call("GET", path, ok=_OK_200, safe=True)
        data = None if body is None else body.get("data")
        if not isinstance(data, dict):
            raise self._malformed("GET", path, "`data` is not an object")
        return Process.from_json(data)

    def pending_processes(self) -> list[Process]:
        """Storage processes that have not finished yet (§3.12)."""
        body = self._call("GET", "/processes/pending", ok=_OK_200, safe=True)
        data = None if body is None else body.get("data")
        if not data:
            return []
        if not isinstance(data, list):
            raise self._malformed("GET", "/processes/pending", "`data` is not a list")
        return [Process.from_json(item) for item in data if isinstance(item, dict)]

    def log_all_processes(self) -> None:
        """Ask the server to write all processes to its internal log (§3.13)."""
        self._call("POST", "/processes/log", ok=_OK_200, safe=False)

    # -- category specific attributes ----------------------------------------------------------

    def csa_classifications(self, path: str | None = None) -> list[Classification]:
        """Classifications for CSA exports, optionally filtered by classification path (§3.14)."""
        params = None if path is None else {"classification-path": path}
        body = self._call("GET", "/csa-classifications", ok=_OK_200, safe=True, params=params)
        data = None if body is None else body.get("data")
        if not data:
            return []
        if not isinstance(data, list):
            raise self._malformed("GET", "/csa-classifications", "`data` is not a list")
        try:
            return [Classification.from_json(item) for item in data]
        except (ValueError, AttributeError) as error:
            raise self._malformed("GET", "/csa-classifications", str(error)) from error

    # -- buckets (files kept across runs, reconstructed §3.15) ---------------------------------

    def bucket_upload(self, remote_file: str, source_file: str) -> None:
        """Copy a local file into the connector's bucket under `remote_file`."""
        # Re-uploading the same file to the same name is idempotent, so retrying is safe.
        self._call(
            "PUT",
            f"/buckets/exchange/upload/{_remote_path(remote_file)}",
            ok=_OK_BUCKET,
            safe=True,
            body={"source_file": source_file},
        )

    def bucket_download(self, remote_file: str) -> None:
        """Fetch `remote_file` from the connector's bucket (where it lands is undocumented)."""
        self._call(
            "GET",
            f"/buckets/exchange/download/{_remote_path(remote_file)}",
            ok=_OK_BUCKET,
            safe=True,
        )

    def bucket_delete(self, remote_file: str) -> None:
        """Delete `remote_file` from the connector's bucket."""
        # Not retried on ambiguous failures: a repeat after a lost 202 would answer 400 not found.
        self._call(
            "DELETE",
            f"/buckets/delete/{_remote_path(remote_file)}",
            ok=_OK_BUCKET,
            safe=False,
        )

    # -- plumbing ------------------------------------------------------------------------------

    def _store(self, path: str, source_file: str, remote_file: str) -> str:
        body = self._call(
            "POST",
            path,
            ok=frozenset({202}),
            safe=False,
            body={"source_file": source_file, "remote_file": remote_file},
        )
        data = None if body is None else body.get("data")
        process_id = data.get("id") if isinstance(data, dict) else None
        if not process_id:
            raise self._malformed("POST", path, "no process id in `data.id`")
        return str(process_id)

    def _call(
        self,
        method: str,
        path: str,
        *,
        ok: frozenset[int],
        safe: bool,
        params: Mapping[str, str] | None = None,
        body: Any = None,
        content: bytes | None = None,
        not_found: type[ContainerApiError] = ContainerApiError,
        deadline: float | None = None,
    ) -> dict[str, Any] | None:
        """One logical call: encode, send with the retry policy, check status, decode JSON.

        `deadline` (seconds) replaces the client's whole-request deadline for this call.
        """
        if body is not None:
            content = _encode(body)
        retrying = self._retry_safe if safe else self._retry_unsafe
        try:
            response = retrying(
                self._attempt, method, path, params, content, ok, not_found, deadline
            )
        except httpx.TransportError as error:
            raise self._unavailable(method, path, error, retrying, safe) from error
        return self._decode(method, path, response)

    def _attempt(
        self,
        method: str,
        path: str,
        params: Mapping[str, str] | None,
        content: bytes | None,
        ok: frozenset[int],
        not_found: type[ContainerApiError],
        deadline: float | None = None,
    ) -> httpx.Response:
        # method and path come first: the retry logger reads them from the call arguments.
        response = self._http.request(
            method,
            path,
            params=params,
            content=content,
            headers=_JSON_HEADERS if content is not None else None,
            **_deadline_options(deadline),
        )
        # httpx 0.28 links a response and its stream both ways, so each ~0.5 MB batch would wait
        # for the cyclic garbage collector: memory would grow with the run. The body is read
        # already; an unlinked stream lets it go as soon as the caller is done with it.
        response.stream = httpx.ByteStream(response.content)
        status = response.status_code
        if status in ok:
            return response
        raise error_from_response(
            status,
            response.reason_phrase,
            response.content,
            method=method,
            path=path,
            # "Not provided" only when the platform itself says so: a proxy's or router's 404
            # (an HTML page, "No route found") must fail the run, not skip a stream.
            error_class=(
                not_found
                if status == 404 and is_platform_not_provided(response.content)
                else ContainerApiError
            ),
            retry_after=response.headers.get("Retry-After"),
        )

    def _decode(self, method: str, path: str, response: httpx.Response) -> dict[str, Any] | None:
        content = response.content
        if not content:
            return None
        try:
            payload = json.loads(content)
        except ValueError as error:
            raise ContainerApiError(
                f"malformed JSON body ({error})",
                status=response.status_code,
                method=method,
                path=path,
            ) from error
        if not isinstance(payload, dict):
            raise ContainerApiError(
                "malformed body: expected a JSON object",
                status=response.status_code,
                method=method,
                path=path,
            )
        return payload

    def _malformed(self, method: str, path: str, why: str) -> ContainerApiError:
        return ContainerApiError(f"malformed body: {why}", status=None, method=method, path=path)

    def _unavailable(
        self, method: str, path: str, error: httpx.TransportError, retrying: Retrying, safe: bool
    ) -> ContainerApiUnavailable:
        attempts = int(retrying.statistics.get("attempt_number", 1))
        text = f"{type(error).__name__}: {error}".rstrip(": ")
        if attempts > 1:
            text += f" (after {attempts} attempts)"
        elif not safe and not isinstance(error, _NOT_SENT):
            text += " (not retried: the request may already have been processed)"
        return ContainerApiUnavailable(f"no answer: {text}", method=method, path=path)

    def _retrying(
        self, max_attempts: int, backoff: float, predicate: Callable[[BaseException], bool]
    ) -> Retrying:
        # One Retrying per policy: tenacity keeps per-call state thread-local, so it is shared
        # safely by the read-ahead and writer threads.
        # Spelled as a sum: wait_exponential_jitter renamed its arguments within tenacity 9.
        backoff_wait = wait_exponential(multiplier=backoff, max=_MAX_BACKOFF) + wait_random(
            0, backoff
        )

        def wait(state: RetryCallState) -> float:
            # The server knows best when it can take the call again (429/503 + Retry-After).
            error = state.outcome.exception() if state.outcome is not None else None
            if isinstance(error, ContainerApiError) and error.retry_after is not None:
                return min(error.retry_after, MAX_RETRY_AFTER)
            return float(backoff_wait(state))

        return Retrying(
            stop=stop_after_attempt(max_attempts),
            wait=wait,
            retry=retry_if_exception(predicate),
            before_sleep=self._log_retry,
            sleep=self._sleep,
            reraise=True,
        )

    def _on_input(self, type: str, call: Callable[[str], T]) -> T:
        """`call(wire_type)`, where `input` becomes `full` on APIs that predate `input`.

        Decided by the first call on `input` that gets an answer: a 400/404 there, while the API
        counts `full`, switches this client to `full` for the rest of the run. The failed call
        changed nothing (no cursor moved), so it is repeated on `full`.
        """
        _input_type(type)
        if type != "input":
            return call(type)
        wire = self._input_wire
        if wire is not None:
            return call(wire)
        try:
            result = call("input")
        except ContainerApiError as error:
            if error.status not in (400, 404) or not self._knows_full():
                raise
            with self._input_lock:
                if self._input_wire is None:
                    logger.warning(
                        "This Container API does not know the input type `input`; reading the "
                        "deprecated `full` instead for this run."
                    )
                self._input_wire = "full"
            return call("full")
        with self._input_lock:
            if self._input_wire is None:
                self._input_wire = "input"
        return result

    def _knows_full(self) -> bool:
        try:
            self._count("full")
        except ContainerApiError:
            return False
        return True

    def _log_retry(self, state: RetryCallState) -> None:
        method, path = state.args[0], state.args[1]
        error = state.outcome.exception() if state.outcome is not None else None
        if isinstance(error, ContainerApiError):
            reason = f"status {error.status}"
        else:
            reason = type(error).__name__
        delay = state.next_action.sleep if state.next_action is not None else 0.0
        logger.warning(
            "Container API %s %s failed (%s); retry %d of %d in %.2f s",
            method,
            path,
            reason,
            state.attempt_number,
            self._max_attempts - 1,
            delay,
        )


# -- retry predicates ------------------------------------------------------------------------


def _is_retryable_unsafe(write_retry: str, error: BaseException) -> bool:
    """Retry only what certainly was not processed by the server (503: as `write_retry` says)."""
    if isinstance(error, ContainerApiError):
        if error.status == 503:
            if write_retry == "platform-503":
                return error.from_platform
            return write_retry == "any-503"
        return error.status in _RETRY_STATUSES_UNSAFE
    return isinstance(error, _NOT_SENT)


def _deadline_options(deadline: float | None) -> dict[str, Any]:
    """httpx request options giving one call its own whole-request deadline."""
    if deadline is None:
        return {}
    return {
        "timeout": httpx.Timeout(deadline),
        "extensions": {DEADLINE_EXTENSION: deadline},
    }


def _is_retryable_safe(error: BaseException) -> bool:
    """Side-effect-free calls may also be repeated after gateway errors and lost responses."""
    if isinstance(error, ContainerApiError):
        return error.status in _RETRY_STATUSES_SAFE
    return isinstance(error, _TRANSIENT)


# -- encoding helpers ------------------------------------------------------------------------


def _json_default(value: Any) -> Any:
    if isinstance(value, Mapping):
        return dict(value)
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


# Built once: compact, UTF-8 (not \u escapes), NaN refused (the PHP server cannot parse it).
_ENCODER = json.JSONEncoder(
    ensure_ascii=False, separators=(",", ":"), allow_nan=False, default=_json_default
)


def _encode(body: Any) -> bytes:
    """The body as compact UTF-8 JSON; UnencodableData naming the product and column that JSON
    cannot carry (NaN, Infinity, a lone surrogate), never a bare ValueError."""
    try:
        return _ENCODER.encode(body).encode()
    except (ValueError, UnicodeEncodeError, TypeError) as error:
        where = describe_unencodable(rows_in(body))
        raise UnencodableData(
            f"Cannot send {where or 'a value'} to the Container API: JSON cannot carry it. "
            "Clean the value in the handler (or drop the product) and run again."
        ) from error


def _json_kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    return type(value).__name__


def _byte_bounded(encoded: list[bytes], limit: int) -> list[list[bytes]]:
    """Consecutive runs of encoded rows within `limit` bytes (with commas); a larger row alone."""
    parts: list[list[bytes]] = []
    size = limit + 1  # start a new part at the first row
    for item in encoded:
        if size + len(item) + 1 > limit:
            parts.append([])
            size = 0
        parts[-1].append(item)
        size += len(item) + 1
    return parts


# Bytes of a write body around the rows: `{"data":[` and `]}`, with room to spare.
_WRITE_ENVELOPE = 64


def _read_params(
    size: int | None, show_hidden: bool, classification_id: int | None
) -> dict[str, str]:
    params: dict[str, str] = {}
    if size is not None:
        params["size"] = str(size)
    if show_hidden:
        params["show-hidden"] = "true"
    if classification_id is not None:
        params["classification-id"] = str(int(classification_id))
    return params


class _CountedFetch:
    """A fetch() that holds the stream to the platform's count of it, as rows arrive.

    The count is asked before the first read. A batch that would take the stream past it is
    refused before any of its rows reaches the caller (an endless stream or a drifting count
    never writes or sends an extra row), and an end short of it is refused as well.
    """

    def __init__(self, api: ContainerApi, type: str, fetch: Callable[[], list[Any]]) -> None:
        self.api = api
        self.type = type
        self.fetch = fetch
        self.expected: int | None = None
        self.delivered = 0

    def __call__(self) -> list[Any]:
        if self.expected is None:
            # Counted before the first read: the count does not depend on the cursor.
            self.expected = self.api.count(self.type)
        try:
            batch = self.fetch()
        except InputNotProvided as error:
            # The platform just counted this stream: "not provided" now is a wrong answer, not
            # an empty stream (which a delta export would skip, losing its products).
            raise IncompleteInput(
                f"the {self.type} stream could not be read although the platform counts "
                f"{self.expected} rows ({error}); failing the run so no product is lost",
                method=error.method,
                path=error.path,
            ) from error
        if self.delivered + len(batch) > self.expected:
            raise IncompleteInput(
                f"the {self.type} stream sent more rows than the platform counts: "
                f"{self.delivered + len(batch)} so far, {self.expected} counted "
                f"(GET /items/{self.type}/count); failing the run before any extra row is "
                "written or sent",
                method="GET",
                path=f"/input/{self.type}/next_batch",
            )
        self.delivered += len(batch)
        if not batch and self.delivered != self.expected:
            raise IncompleteInput(
                f"the {self.type} stream ended after {self.delivered} rows but the platform "
                f"counts {self.expected} (GET /items/{self.type}/count); failing the run so "
                "no product is lost or doubled",
                method="GET",
                path=f"/input/{self.type}/next_batch",
            )
        return batch


class _ProgressCheck:
    """A fetch() that fails when the cursor does not move: the same rows again, batch after batch.

    Two consecutive batches of more than one row that are equal row for row can only come from
    a cursor that did not advance (a stream of real products never repeats a whole batch in
    place); left alone, such a stream would run until the disk or the channel gives out.
    """

    def __init__(self, type: str, fetch: Callable[[], list[Any]]) -> None:
        self.type = type
        self.fetch = fetch
        self.previous: list[Any] | None = None
        self.batches = 0

    def __call__(self) -> list[Any]:
        batch = self.fetch()
        self.batches += 1
        if len(batch) > 1 and batch == self.previous:
            raise StuckInput(
                f"the {self.type} stream answered batch {self.batches} with exactly the rows of "
                f"batch {self.batches - 1}: its cursor does not move; failing the run instead "
                "of reading the same rows forever",
                method="GET",
                path=f"/input/{self.type}/next_batch",
            )
        self.previous = batch
        return batch


def _check_batch_size(size: int) -> None:
    if isinstance(size, bool) or not isinstance(size, int) or not 1 <= size <= MAX_BATCH_SIZE:
        raise ValueError(f"batch size must be an integer from 1 to {MAX_BATCH_SIZE}, got {size!r}")


def _input_type(value: str) -> str:
    # Validated locally: a typo would otherwise come back as 404 "Requested file not provided."
    # which a delta export may legitimately read as "no such stream this run".
    if value not in INPUT_TYPES:
        raise ValueError(f"unknown input type {value!r}; use one of {', '.join(INPUT_TYPES)}")
    return value


def _output_type(value: str) -> str:
    # Known values are `output` and `feedback`; other names are not ruled out (§2, unknown 3).
    return _segment(value, "output type")


def _segment(value: str, what: str) -> str:
    if not value:
        raise ValueError(f"{what} must not be empty")
    return quote(value, safe="")


def _remote_path(remote_file: str) -> str:
    # Sent as path segment(s): percent-encoded except "/" (whether the server allows "/" in
    # remoteFile is unknown, §3.15 and unknown 8; %2F would be decoded back to "/" anyway).
    if not remote_file:
        raise ValueError("remote_file must not be empty")
    return quote(remote_file, safe="/")


def _pick(data: Mapping[str, Any], *keys: str) -> Any:
    for key in keys:
        if key in data:
            return data[key]
    return None


def _int_or_none(value: Any) -> int | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None
