"""The Container API endpoints (§3) as plain functions of a request and the run state.

No sockets here: `server.py` does HTTP, this module decides status and body. "§n" and "unknown n"
cite docs/container-api.md; where it lists an unknown, the emulator takes the strict reading and
the comment names the unknown.
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import unquote

from cde_emulator.rows import (
    DEFAULT_SEPARATOR,
    INPUT_ALIASES,
    INPUT_TYPES,
    InvalidInputFileError,
    encode,
    flatten,
)
from cde_emulator.state import OUTPUT_TYPES, MissingInputError, RunState

#: Log levels docs/container-api.md §2 lists.
LOG_LEVELS = (
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
MAX_BATCH = 999
_INTEGER = re.compile(r"-?[0-9]+")
_BOOLEANS = {"true": True, "1": True, "false": False, "0": False}
_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")

NOT_PROVIDED = {"message": "Requested file not provided."}
INVALID_FILE = {"message": "Invalid file."}
NOT_AN_ARRAY = "This value should be an array of items."
NOT_BLANK = "This value should not be blank."
NOT_VALID = "This value is not valid."
FILE_NOT_FOUND = "File not found."
BAD_PATH = "Not a valid file path."


@dataclass(frozen=True)
class Request:
    """What a route needs from an HTTP request."""

    method: str
    path: str
    query: Mapping[str, list[str]]
    headers: Mapping[str, str]
    body: bytes = b""


@dataclass(frozen=True)
class Response:
    """Status plus a pre-encoded JSON body (None = no body, as for 204)."""

    status: int
    body: bytes | None
    headers: Mapping[str, str] = field(default_factory=dict)


def json_response(status: int, payload: Any) -> Response:
    return Response(status, encode(payload).encode())


def validation_failed(errors: dict[str, str]) -> Response:
    """The shared 400 shape of writes, logs, storage and buckets (§1)."""
    return json_response(400, {"message": "Validation failed", "errors": errors})


def bad_request(errors: dict[str, str]) -> Response:
    """The 400 shape of next_batch (docs/container-api.md §1, §3.5)."""
    return json_response(400, {"message": "Bad request.", "errors": errors})


class InputError(Exception):
    """A query parameter failed validation; carries the ready 400 response."""

    def __init__(self, response: Response) -> None:
        super().__init__(response.status)
        self.response = response


# -- query parameters ------------------------------------------------------------------------------


def _param(request: Request, name: str) -> str | None:
    values = request.query.get(name)
    return values[-1] if values else None


def _show_hidden(request: Request) -> bool:
    """`show-hidden` accepts true/false/1/0 (§1 recommendation); anything else is a 400."""
    raw = _param(request, "show-hidden")
    if raw is None:
        return False
    try:
        return _BOOLEANS[raw.lower()]
    except KeyError:
        raise InputError(
            bad_request({"show-hidden": "This value should be of type bool."})
        ) from None


def _classification_id(request: Request) -> None:
    """Validated, not applied: how the CSA filter works is undocumented (unknown 13)."""
    raw = _param(request, "classification-id")
    if raw is not None and not _INTEGER.fullmatch(raw):
        raise InputError(
            bad_request({"classification-id": "This value does not have valid integer."})
        )


def _size(request: Request) -> int:
    """`size`: integer 1..999, default 1 (§3.5)."""
    raw = _param(request, "size")
    if raw is None:
        return 1
    if not _INTEGER.fullmatch(raw):
        raise InputError(bad_request({"size": "This value does not have valid integer."}))
    size = int(raw)
    if not 1 <= size <= MAX_BATCH:
        # Range text follows Symfony's Range constraint; the exact upstream text is unknown.
        raise InputError(bad_request({"size": f"This value should be between 1 and {MAX_BATCH}."}))
    return size


# -- input -----------------------------------------------------------------------------------------


def _input_call(state: RunState, input_type: str, call: Callable[[], Response]) -> Response:
    """Map missing/invalid input files to the documented 404/500 bodies."""
    canonical = INPUT_ALIASES.get(input_type, input_type)
    if canonical not in INPUT_TYPES:
        # Not a known input type: the run cannot provide it.
        return json_response(404, NOT_PROVIDED)
    try:
        return call()
    except MissingInputError:
        return json_response(404, NOT_PROVIDED)
    except InvalidInputFileError:
        return json_response(500, INVALID_FILE)


def read_next(state: RunState, request: Request, input_type: str) -> Response:
    """One row per call; 204 with no body at end of input (§3.4, unknown 1)."""
    show_hidden = _show_hidden(request)
    _classification_id(request)

    def call() -> Response:
        rows = state.take(input_type, 1, show_hidden)
        if not rows:
            return Response(204, None)
        return Response(200, b'{"message":"","data":' + rows[0] + b"}")

    return _input_call(state, input_type, call)


def read_next_batch(state: RunState, request: Request, input_type: str) -> Response:
    """Up to `size` rows; 200 with `data: []` at end of input (§3.5, unknown 1)."""
    size = _size(request)
    show_hidden = _show_hidden(request)
    _classification_id(request)

    def call() -> Response:
        rows = state.take(input_type, size, show_hidden)
        return Response(200, b'{"message":"","data":[' + b",".join(rows) + b"]}")

    return _input_call(state, input_type, call)


def restart(state: RunState, request: Request, input_type: str) -> Response:
    """Rewind the shared cursor. A missing file gives 404 (strict reading of unknown 5)."""

    def call() -> Response:
        state.restart(input_type)
        return json_response(200, {"message": "successful request"})

    return _input_call(state, input_type, call)


def count(state: RunState, request: Request, input_type: str) -> Response:
    """Total rows, independent of the cursor. Missing file → 404 (unknown 5)."""

    def call() -> Response:
        total = state.count(input_type)
        return json_response(
            200, {"message": "Items counted successfully.", "data": {"count": total}}
        )

    return _input_call(state, input_type, call)


# -- output and logs -------------------------------------------------------------------------------


def _json_body(request: Request) -> Any:
    try:
        return json.loads(request.body) if request.body else None
    except (ValueError, UnicodeDecodeError):
        return None


def write_output(state: RunState, request: Request, output_type: str) -> Response:
    """Append rows, flattened with `meta.separator` and stored as strings (§3.2).

    Only `output` and `feedback` are accepted: strict reading of unknown 3 (the real server
    may accept other types). An empty `data` list is rejected
    (§3.2); the text for that case is unknown, so the one documented text is reused.
    """
    if output_type not in OUTPUT_TYPES:
        return validation_failed({"type": NOT_VALID})
    body = _json_body(request)
    data = body.get("data") if isinstance(body, dict) else None
    if not isinstance(data, list) or not data or not all(isinstance(r, dict) for r in data):
        return validation_failed({"data": NOT_AN_ARRAY})
    separator = DEFAULT_SEPARATOR
    if isinstance(body, dict) and "meta" in body:
        meta = body["meta"]
        if not isinstance(meta, dict) or not isinstance(meta.get("separator", ""), str):
            return validation_failed({"meta": "This value should be of type string."})
        separator = meta.get("separator", DEFAULT_SEPARATOR)
        if separator == "":
            # An empty separator would glue keys together; rejecting it is our strict choice.
            return validation_failed({"meta": NOT_BLANK})
    state.write_rows(output_type, [flatten(row, separator) for row in data])
    return json_response(201, {"message": "Written successfully."})


def close_output(state: RunState, request: Request, output_type: str) -> Response:
    """204; flushes the file. Unknown types get 400 like writes (strict, unknown 3)."""
    if output_type not in OUTPUT_TYPES:
        return validation_failed({"type": NOT_VALID})
    state.flush()
    return Response(204, None)


def write_log(state: RunState, request: Request, level: str) -> Response:
    """Append a log line. Unknown levels get 400: strict reading of unknown 4."""
    if level not in LOG_LEVELS:
        return validation_failed({"level": NOT_VALID})
    body = _json_body(request)
    if not isinstance(body, dict):
        return validation_failed({"message": NOT_BLANK})
    message = body.get("message")
    if message is None or message == "":
        return validation_failed({"message": NOT_BLANK})
    if not isinstance(message, str):
        return validation_failed({"message": "This value should be of type string."})
    context = body.get("context", {})
    if context == []:
        context = {}  # PHP clients serialise an empty map as []
    if not isinstance(context, dict):
        return validation_failed({"context": "This value should be of type array."})
    state.write_log(level, message, context)
    return json_response(201, {"message": "Written successfully."})


# -- storage, processes, buckets ---------------------------------------------------------------


def _source_path(value: Any) -> Path | None:
    """Where `source_file` points.

    Absolute paths are used as given; relative ones resolve against the emulator's working directory
    (the project root in `python -m cde_emulator run`). The real base directory is not documented
    (unknown 8).
    """
    if not isinstance(value, str) or not value:
        return None
    path = Path(value)
    return path if path.is_file() else None


def _remote_path(value: Any) -> PurePosixPath | None:
    """A safe relative path for `remote_file`/`remoteFile`: no empty name, no `..`, no NUL."""
    if not isinstance(value, str) or "\x00" in value:
        return None
    parts = [p for p in value.replace("\\", "/").split("/") if p not in ("", ".")]
    if not parts or ".." in parts:
        return None
    return PurePosixPath(*parts)


def _copy(source: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, target)


def store(state: RunState, request: Request, folder: str) -> Response:
    """Copy `source_file` to OUT/<folder>/<remote_file>; report a process that already finished."""
    body = _json_body(request)
    body = body if isinstance(body, dict) else {}
    source = _source_path(body.get("source_file"))
    remote = _remote_path(body.get("remote_file"))
    errors = {}
    if source is None:
        errors["sourceFile"] = FILE_NOT_FOUND
    if remote is None:
        errors["remoteFile"] = BAD_PATH
    if source is None or remote is None:
        return validation_failed(errors)
    _copy(source, state.out_dir / folder / remote)
    process = state.start_process(folder)
    return json_response(
        202,
        {
            "message": "Upload process started. You can check the status of the process via api "
            "with the given id.",
            "data": {"id": process.id},
        },
    )


def show_process(state: RunState, request: Request, process_id: str) -> Response:
    process = state.processes.get(process_id.lower()) if _UUID.fullmatch(process_id) else None
    if process is None:
        return json_response(404, {"message": "Process not found."})
    return json_response(200, {"message": "", "data": process.as_json()})


def pending_processes(state: RunState, request: Request) -> Response:
    """Always empty: emulated processes finish immediately (unknown 9)."""
    return json_response(200, {"message": "", "data": []})


def log_processes(state: RunState, request: Request) -> Response:
    return json_response(200, {"message": "Written successfully."})


def _bucket_file(state: RunState, remote_file: str) -> Path | None:
    # remoteFile may arrive with encoded or raw slashes (§3.15); both are accepted.
    remote = _remote_path(remote_file)
    return None if remote is None else state.out_dir / "buckets" / remote


def bucket_upload(state: RunState, request: Request, remote_file: str) -> Response:
    body = _json_body(request)
    body = body if isinstance(body, dict) else {}
    source = _source_path(body.get("source_file"))
    target = _bucket_file(state, remote_file)
    errors = {}
    if source is None:
        errors["sourceFile"] = FILE_NOT_FOUND
    if target is None:
        errors["remoteFile"] = BAD_PATH
    if source is None or target is None:
        return validation_failed(errors)
    _copy(source, target)
    return json_response(202, {"message": "File has been uploaded."})


def bucket_download(state: RunState, request: Request, remote_file: str) -> Response:
    """Copy the bucket file to OUT/downloads/<remoteFile>.

    Where a real download lands in the connector's filesystem is undocumented (unknown 8).
    """
    source = _bucket_file(state, remote_file)
    if source is None:
        return validation_failed({"remoteFile": BAD_PATH})
    if not source.is_file():
        return validation_failed({"remoteFile": FILE_NOT_FOUND})
    _copy(source, state.out_dir / "downloads" / source.relative_to(state.out_dir / "buckets"))
    return json_response(202, {"message": "File has been downloaded."})


def bucket_delete(state: RunState, request: Request, remote_file: str) -> Response:
    """The 202 body is not known (unknown 11); `{"message": ...}` is assumed."""
    target = _bucket_file(state, remote_file)
    if target is None:
        return validation_failed({"remoteFile": BAD_PATH})
    if not target.is_file():
        return validation_failed({"remoteFile": FILE_NOT_FOUND})
    target.unlink()
    return json_response(202, {"message": "File has been deleted."})


def csa_classifications(state: RunState, request: Request) -> Response:
    """From DATA/csa-classifications.json (a list, or an object with `data`), else empty.

    `classification-path` filters by exact path: the filter's semantics are undocumented
    (unknown 13), exact match is the strict reading.
    """
    path = state.data_dir / "csa-classifications.json"
    items: Any = []
    if path.is_file():
        items = json.loads(path.read_text(encoding="utf-8"))
        if isinstance(items, dict):
            items = items.get("data", [])
    wanted = _param(request, "classification-path")
    if wanted is not None:
        items = [i for i in items if isinstance(i, dict) and i.get("classification-path") == wanted]
    return json_response(200, {"message": "successful operation", "data": items})


def ping(state: RunState, request: Request) -> Response:
    return json_response(200, {"message": "pong"})


# -- routing ---------------------------------------------------------------------------------------

Handler = Callable[..., Response]


@dataclass(frozen=True)
class Route:
    """A path pattern (matched on the raw, still-encoded path), its handlers, and its fault kind."""

    pattern: re.Pattern[str]
    methods: Mapping[str, Handler]
    kind: str | None = None


def _route(pattern: str, kind: str | None = None, **methods: Handler) -> Route:
    return Route(re.compile(pattern), methods, kind)


ROUTES = (
    _route(r"/ping", GET=ping),
    _route(r"/output/([^/]+)", "write", POST=write_output),
    _route(r"/output/([^/]+)/close", "close", POST=close_output),
    _route(r"/input/([^/]+)/next", "read", GET=read_next),
    _route(r"/input/([^/]+)/next_batch", "read", GET=read_next_batch),
    _route(r"/input/([^/]+)/restart", GET=restart),
    _route(r"/items/([^/]+)/count", "count", GET=count),
    _route(r"/store/to-transport", POST=lambda s, r: store(s, r, "transport")),
    _route(r"/storage/internal", POST=lambda s, r: store(s, r, "internal")),
    _route(r"/logs/([^/]+)", "log", POST=write_log),
    _route(r"/processes/pending", GET=pending_processes),
    _route(r"/processes/log", POST=log_processes),
    _route(r"/processes/([^/]+)", GET=show_process),
    _route(r"/csa-classifications", GET=csa_classifications),
    _route(r"/buckets/exchange/upload/(.+)", PUT=bucket_upload),
    _route(r"/buckets/exchange/download/(.+)", GET=bucket_download),
    _route(r"/buckets/delete/(.+)", DELETE=bucket_delete),
)


@dataclass(frozen=True)
class Match:
    """The outcome of routing: a handler with its path arguments, or the methods the path allows."""

    handler: Handler | None
    args: tuple[str, ...]
    kind: str | None
    allowed: tuple[str, ...]


def resolve(method: str, raw_path: str) -> Match | None:
    """Find the handler for `method raw_path`; None when no route has this path (404).

    The first route whose pattern matches owns the path (literal paths such as /processes/log come
    before /processes/{uuid}), so a wrong method there is a 405 naming that route's methods.
    """
    for route in ROUTES:
        found = route.pattern.fullmatch(raw_path)
        if found is None:
            continue
        handler = route.methods.get(method)
        if handler is None:
            return Match(None, (), None, tuple(route.methods))
        return Match(handler, tuple(unquote(group) for group in found.groups()), route.kind, ())
    return None


def handle(state: RunState, request: Request, match: Match) -> Response:
    """Run a matched handler, turning parameter errors into their 400 response."""
    assert match.handler is not None
    try:
        return match.handler(state, request, *match.args)
    except InputError as error:
        return error.response
