"""Specification of the Container API client, run against httpx.MockTransport (no network)."""

from __future__ import annotations

import gc
import json
import logging
import ssl
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any

import httpx
import pytest
from cde_runtime.container_api import (
    INPUT_TYPES,
    LOG_LEVELS,
    MAX_RETRY_AFTER,
    MAX_WRITE_BYTES,
    Classification,
    ContainerApi,
    ContainerApiError,
    ContainerApiUnavailable,
    IncompleteInput,
    InputNotProvided,
    OutputWriter,
    Process,
)
from cde_runtime.container_api.client import _byte_bounded, _verify
from cde_runtime.container_api.errors import parse_retry_after
from hypothesis import given
from hypothesis import strategies as st

Answer = httpx.Response | Exception | Callable[[httpx.Request], httpx.Response]
Row = dict[str, Any]


class Server:
    """A scripted server: answers in order (the last answer repeats) and records every request."""

    def __init__(self, *answers: Answer) -> None:
        self.answers = list(answers)
        self.requests: list[httpx.Request] = []
        self._lock = threading.Lock()

    def __call__(self, request: httpx.Request) -> httpx.Response:
        with self._lock:
            self.requests.append(request)
            answer = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        if isinstance(answer, Exception):
            raise answer
        if callable(answer):
            return answer(request)
        return answer

    @property
    def bodies(self) -> list[Any]:
        return [json.loads(request.content) for request in self.requests]


class InputFile:
    """Serves rows through next_batch like the real server: a cursor and `size` rows per call.

    `/items/{type}/count` answers `count` (default: the number of rows) and is not a call.
    """

    def __init__(
        self,
        rows: list[Row],
        *,
        fail_after_calls: int | None = None,
        count: int | None = None,
        end_early_after: int | None = None,
    ) -> None:
        self.rows = rows
        self.cursor = 0
        self.calls = 0
        self.fail_after_calls = fail_after_calls
        self.count = len(rows) if count is None else count
        self.end_early_after = end_early_after

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/count"):
            return reply(200, {"message": "", "data": {"count": self.count}})
        self.calls += 1
        if self.end_early_after is not None and self.cursor >= self.end_early_after:
            return reply(204)
        if self.fail_after_calls is not None and self.calls > self.fail_after_calls:
            return httpx.Response(502, text="Bad Gateway")
        size = int(request.url.params["size"])
        batch = self.rows[self.cursor : self.cursor + size]
        self.cursor += len(batch)
        return reply(200, {"message": "", "data": batch})


def reply(status: int, body: Any = None) -> httpx.Response:
    if body is None:
        return httpx.Response(status)
    return httpx.Response(status, json=body)


def make_api(handler: Callable[[httpx.Request], httpx.Response], **options: Any) -> ContainerApi:
    options.setdefault("backoff", 0)
    return ContainerApi("http://api.test", transport=httpx.MockTransport(handler), **options)


def rows(count: int) -> list[Row]:
    return [{"id": str(index), "name": f"product {index}"} for index in range(count)]


def read_ahead_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "container-api-read-ahead"]


@pytest.fixture(autouse=True)
def _no_leaked_reader_threads() -> Iterator[None]:
    yield
    for thread in read_ahead_threads():
        thread.join(timeout=5)


WRITTEN = reply(201, {"message": "Written successfully."})
ACCEPTED = reply(202, {"message": "Upload process started.", "data": {"id": "p-1"}})
OK = reply(200, {"message": "successful request"})
PROCESS = {"id": "p-1", "status": "running", "exit-code": None, "seconds-remaining": 21600}


# -- construction ----------------------------------------------------------------------------


def test_base_url_defaults_to_the_platform_sidecar(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CONTAINER_API_URL", raising=False)
    with ContainerApi() as api:
        assert api.base_url == "http://cde-container-api"


def test_base_url_comes_from_the_environment_without_trailing_slash(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CONTAINER_API_URL", "http://localhost:8080/")
    with ContainerApi() as api:
        assert api.base_url == "http://localhost:8080"


def test_requests_carry_a_user_agent() -> None:
    server = Server(reply(200, {"message": "pong"}))
    make_api(server).ping()
    assert "productsup-cde-connector" in server.requests[0].headers["User-Agent"]


def test_a_closed_client_sends_nothing() -> None:
    server = Server(reply(200, {"message": "pong"}))
    with make_api(server) as api:
        pass
    with pytest.raises(RuntimeError):
        api.ping()
    assert server.requests == []


# -- request shapes --------------------------------------------------------------------------

ENDPOINTS: list[tuple[str, Callable[[ContainerApi], object], httpx.Response, str, str, Any]] = [
    # (id, call, answer, method, path with query, JSON body or None)
    ("ping", lambda api: api.ping(), reply(200, {"message": "pong"}), "GET", "/ping", None),
    (
        "next_row",
        lambda api: api.next_row("new", show_hidden=True, classification_id=7),
        reply(200, {"data": {"id": "1"}}),
        "GET",
        "/input/new/next?show-hidden=true&classification-id=7",
        None,
    ),
    (
        "next_batch",
        lambda api: api.next_batch("modified", 500, show_hidden=True, classification_id=7),
        reply(200, {"data": [{"id": "1"}]}),
        "GET",
        "/input/modified/next_batch?size=500&show-hidden=true&classification-id=7",
        None,
    ),
    (
        "next_batch_default_size",
        lambda api: api.next_batch(),
        reply(200, {"data": []}),
        "GET",
        "/input/input/next_batch?size=999",
        None,
    ),
    (
        "count",
        lambda api: api.count("deleted"),
        reply(200, {"data": {"count": 3}}),
        "GET",
        "/items/deleted/count",
        None,
    ),
    ("restart", lambda api: api.restart("full"), OK, "GET", "/input/full/restart", None),
    (
        "write",
        lambda api: api.write([{"id": "1"}]),
        WRITTEN,
        "POST",
        "/output/output",
        {"data": [{"id": "1"}]},
    ),
    (
        "write_feedback_with_separator",
        lambda api: api.write([{"id": "1"}], type="feedback", separator="_"),
        WRITTEN,
        "POST",
        "/output/feedback",
        {"data": [{"id": "1"}], "meta": {"separator": "_"}},
    ),
    (
        "close_output",
        lambda api: api.close_output(),
        reply(204),
        "POST",
        "/output/output/close",
        None,
    ),
    (
        "log",
        lambda api: api.log("warning", "slow channel", {"code": 10}),
        WRITTEN,
        "POST",
        "/logs/warning",
        {"message": "slow channel", "context": {"code": 10}},
    ),
    (
        "log_without_context",
        lambda api: api.log("info", "started"),
        WRITTEN,
        "POST",
        "/logs/info",
        {"message": "started"},
    ),
    (
        "store_to_transport",
        lambda api: api.store_to_transport("/data/feed.csv", "/remote/feed.csv"),
        ACCEPTED,
        "POST",
        "/store/to-transport",
        {"source_file": "/data/feed.csv", "remote_file": "/remote/feed.csv"},
    ),
    (
        "store_to_internal_storage",
        lambda api: api.store_to_internal_storage("/data/a.txt", "/b.txt"),
        ACCEPTED,
        "POST",
        "/storage/internal",
        {"source_file": "/data/a.txt", "remote_file": "/b.txt"},
    ),
    (
        "process",
        lambda api: api.process("p-1"),
        reply(200, {"data": PROCESS}),
        "GET",
        "/processes/p-1",
        None,
    ),
    (
        "pending_processes",
        lambda api: api.pending_processes(),
        reply(200, {"data": [PROCESS]}),
        "GET",
        "/processes/pending",
        None,
    ),
    (
        "log_all_processes",
        lambda api: api.log_all_processes(),
        reply(200, {"message": "Written successfully."}),
        "POST",
        "/processes/log",
        None,
    ),
    (
        "csa_classifications",
        lambda api: api.csa_classifications(),
        reply(200, {"data": []}),
        "GET",
        "/csa-classifications",
        None,
    ),
    (
        "csa_classifications_by_path",
        lambda api: api.csa_classifications("Shoes > Boots"),
        reply(200, {"data": []}),
        "GET",
        "/csa-classifications?classification-path=Shoes+%3E+Boots",
        None,
    ),
    (
        "bucket_upload",
        lambda api: api.bucket_upload("state.json", "/data/state.json"),
        reply(202, {"message": "File has been uploaded."}),
        "PUT",
        "/buckets/exchange/upload/state.json",
        {"source_file": "/data/state.json"},
    ),
    (
        "bucket_download",
        lambda api: api.bucket_download("state.json"),
        reply(202, {"message": "File has been downloaded."}),
        "GET",
        "/buckets/exchange/download/state.json",
        None,
    ),
    (
        "bucket_delete",
        lambda api: api.bucket_delete("state.json"),
        reply(202, {"message": "File has been deleted."}),
        "DELETE",
        "/buckets/delete/state.json",
        None,
    ),
]


@pytest.mark.parametrize(
    ("call", "answer", "method", "target", "body"),
    [case[1:] for case in ENDPOINTS],
    ids=[case[0] for case in ENDPOINTS],
)
def test_each_endpoint_sends_the_documented_request(
    call: Callable[[ContainerApi], object],
    answer: httpx.Response,
    method: str,
    target: str,
    body: Any,
) -> None:
    server = Server(answer)
    call(make_api(server))
    (request,) = server.requests
    assert request.method == method
    assert request.url.raw_path.decode() == target
    if body is None:
        assert request.content == b""
    else:
        assert request.headers["Content-Type"] == "application/json"
        assert json.loads(request.content) == body


def test_bodies_are_compact_utf8_json() -> None:
    server = Server(WRITTEN)
    make_api(server).write([{"id": "1", "name": "Käse"}])
    assert server.requests[0].content == '{"data":[{"id":"1","name":"Käse"}]}'.encode()


def test_filters_left_unset_are_not_sent() -> None:
    server = Server(reply(200, {"data": []}))
    make_api(server).next_batch("input", 10)
    assert dict(server.requests[0].url.params) == {"size": "10"}


def test_count_returns_the_row_count() -> None:
    assert make_api(Server(reply(200, {"data": {"count": 3}}))).count() == 3


def test_store_returns_the_process_id() -> None:
    assert make_api(Server(ACCEPTED)).store_to_transport("/a", "/b") == "p-1"


def test_process_is_parsed_from_kebab_case_keys() -> None:
    process = make_api(Server(reply(200, {"data": PROCESS}))).process("p-1")
    assert process == Process(id="p-1", status="running", exit_code=None, seconds_remaining=21600)


def test_process_tolerates_missing_fields() -> None:
    process = make_api(Server(reply(200, {"data": {"id": "p-2"}}))).process("p-2")
    assert process == Process(id="p-2", status="", exit_code=None, seconds_remaining=None)


def test_csa_classifications_are_parsed_from_kebab_case_keys() -> None:
    data = [{"classification-id": 111, "classification-path": "First category"}]
    assert make_api(Server(reply(200, {"data": data}))).csa_classifications() == [
        Classification(id=111, path="First category")
    ]


# -- local validation (nothing is sent) --------------------------------------------------------


@pytest.mark.parametrize("size", [0, 1000])
def test_next_batch_refuses_sizes_outside_1_to_999(size: int) -> None:
    server = Server(reply(200, {"data": []}))
    with pytest.raises(ValueError, match="1 to 999"):
        make_api(server).next_batch("input", size)
    assert server.requests == []


def test_unknown_input_types_are_refused_before_any_request() -> None:
    server = Server(reply(200, {"data": []}))
    with pytest.raises(ValueError, match="unknown input type"):
        make_api(server).next_batch("inputs")
    assert server.requests == []
    assert INPUT_TYPES == ("input", "full", "new", "modified", "unchanged", "deleted")


def test_write_refuses_empty_rows() -> None:
    server = Server(WRITTEN)
    with pytest.raises(ValueError, match="at least one row"):
        make_api(server).write([])
    assert server.requests == []


def test_log_refuses_unknown_levels() -> None:
    with pytest.raises(ValueError, match="unknown log level"):
        make_api(Server(WRITTEN)).log("fatal", "boom")
    assert "report" in LOG_LEVELS


def test_log_refuses_blank_messages() -> None:
    with pytest.raises(ValueError, match="blank"):
        make_api(Server(WRITTEN)).log("info", "   ")


# -- end of input ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "answer",
    [
        reply(204),
        reply(200, {"message": ""}),
        reply(200, {"message": "", "data": None}),
        reply(200, {"message": "", "data": {}}),
        reply(200, {"message": "", "data": []}),
    ],
    ids=["204", "data-absent", "data-null", "data-empty-object", "data-empty-list"],
)
def test_next_row_returns_none_at_end_of_input(answer: httpx.Response) -> None:
    assert make_api(Server(answer)).next_row() is None


@pytest.mark.parametrize(
    "answer",
    [
        reply(204),
        reply(200, {"message": ""}),
        reply(200, {"message": "", "data": None}),
        reply(200, {"message": "", "data": []}),
    ],
    ids=["204", "data-absent", "data-null", "data-empty-list"],
)
def test_next_batch_returns_an_empty_list_at_end_of_input(answer: httpx.Response) -> None:
    assert make_api(Server(answer)).next_batch() == []


def test_next_row_returns_the_row() -> None:
    assert make_api(Server(reply(200, {"data": {"id": "1"}}))).next_row() == {"id": "1"}


def test_reading_continues_after_a_short_batch() -> None:
    server = Server(
        reply(200, {"data": {"count": 5}}),
        reply(200, {"data": rows(2)}),
        reply(200, {"data": rows(1)}),
        reply(200, {"data": rows(2)}),
        reply(200, {"data": []}),
    )
    assert len(list(make_api(server).read(batch_size=2))) == 5
    assert len(server.requests) == 5  # the count, then four reads


# -- completeness ----------------------------------------------------------------------------


@pytest.mark.parametrize("end_after", [0, 10, 20], ids=["first-read", "mid-stream", "last-batch"])
@pytest.mark.parametrize("read_ahead", [True, False], ids=["read-ahead", "inline"])
def test_a_stream_that_ends_early_raises_naming_both_counts(
    end_after: int, read_ahead: bool
) -> None:
    source = InputFile(rows(30), end_early_after=end_after)
    reader = make_api(source).read(batch_size=10, read_ahead=read_ahead)
    with pytest.raises(IncompleteInput) as caught:
        list(reader)
    assert f"ended after {end_after} rows but the platform counts 30" in str(caught.value)


@pytest.mark.parametrize("end", [{"data": []}, {"data": None}, {"message": ""}])
def test_an_empty_or_null_batch_before_the_count_is_reached_raises(end: dict[str, Any]) -> None:
    server = Server(
        reply(200, {"data": {"count": 3}}), reply(200, {"data": rows(2)}), reply(200, end)
    )
    with pytest.raises(IncompleteInput, match="ended after 2 rows but the platform counts 3"):
        list(make_api(server).read(batch_size=2))


@pytest.mark.parametrize("stream", ["new", "input"])
def test_a_counted_stream_that_answers_not_provided_is_incomplete_not_empty(stream: str) -> None:
    # Found by the fault matrix: a delta export read "not provided" as an empty stream and
    # exited 0 without the stream's products. After a count the stream exists, so it is a fault.
    not_provided = reply(404, {"message": "Requested file not provided."})
    server = Server(reply(200, {"data": {"count": 3}}), reply(200, {"data": rows(2)}), not_provided)
    with pytest.raises(IncompleteInput, match=f"the {stream} stream could not be read although"):
        list(make_api(server).read(stream, batch_size=2))


def test_a_stream_with_more_rows_than_counted_raises() -> None:
    with pytest.raises(IncompleteInput, match="ended after 5 rows but the platform counts 4"):
        list(make_api(InputFile(rows(5), count=4)).read(batch_size=2))


def test_the_count_check_can_be_turned_off_for_a_cursor_not_at_the_start() -> None:
    source = InputFile(rows(5), count=9)
    assert len(list(make_api(source).read(batch_size=2, check_count=False))) == 5


# -- platform variants -----------------------------------------------------------------------


def old_api(rows_: list[Row]) -> Callable[[httpx.Request], httpx.Response]:
    """A Container API that predates `input`: 404 for it, `full` serves the feed."""
    feed = InputFile(rows_)

    def handle(request: httpx.Request) -> httpx.Response:
        if request.url.path.startswith(("/items/input/", "/input/input/")):
            return reply(404, {"message": "No route found"})
        return feed(request)

    return handle


def test_an_api_without_the_input_type_is_read_through_full_decided_once() -> None:
    seen: list[str] = []
    handle = old_api(rows(25))

    def record(request: httpx.Request) -> httpx.Response:
        seen.append(request.url.path)
        return handle(request)

    api = make_api(record)
    assert len(list(api.read(batch_size=10))) == 25
    assert api.count() == 25
    assert seen.count("/items/input/count") == 1  # asked once; the rest of the run reads full
    assert seen[-1] == "/items/full/count"
    assert "/input/full/next_batch" in seen


def test_an_input_not_provided_by_a_current_api_stays_an_error() -> None:
    server = Server(reply(404, {"message": "Requested file not provided."}))
    with pytest.raises(InputNotProvided):
        make_api(server).count()


def test_a_429_with_retry_after_seconds_waits_that_long() -> None:
    slept: list[float] = []
    server = Server(httpx.Response(429, headers={"Retry-After": "7"}), WRITTEN)
    make_api(server, sleep=slept.append).write(rows(1))
    assert slept == [7.0]


def test_a_503_with_retry_after_as_an_http_date_waits_until_then_capped() -> None:
    slept: list[float] = []
    later = "Wed, 01 Jan 2100 00:00:00 GMT"  # far away: capped
    server = Server(httpx.Response(503, headers={"Retry-After": later}), WRITTEN)
    make_api(server, sleep=slept.append).write(rows(1))
    assert slept == [MAX_RETRY_AFTER]


def test_retry_after_is_parsed_from_seconds_and_dates() -> None:
    now = datetime(2026, 1, 1, 0, 0, 0, tzinfo=UTC)
    assert parse_retry_after("12") == 12.0
    assert parse_retry_after("Thu, 01 Jan 2026 00:00:30 GMT", now=now) == 30.0
    assert parse_retry_after("Wed, 31 Dec 2025 23:00:00 GMT", now=now) == 0.0
    assert parse_retry_after("soon") is None


@given(st.integers(min_value=0, max_value=10**6))
def test_retry_after_seconds_are_read_as_given(seconds: int) -> None:
    assert parse_retry_after(str(seconds)) == float(seconds)
    assert parse_retry_after(f" {seconds} ") == float(seconds)


@given(st.integers(min_value=-(10**6), max_value=10**6))
def test_retry_after_dates_give_the_seconds_until_then_never_negative(offset: int) -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    header = format_datetime(now + timedelta(seconds=offset), usegmt=True)
    assert parse_retry_after(header, now=now) == max(0.0, float(offset))


@given(st.text())
def test_retry_after_never_raises_and_never_asks_for_a_negative_wait(header: str) -> None:
    seconds = parse_retry_after(header)
    assert seconds is None or 0.0 <= seconds < float("inf")


def test_writes_are_capped_in_bytes_and_an_oversize_row_goes_alone() -> None:
    server = Server(WRITTEN)
    wide = [{"id": str(i), "text": "x" * 300} for i in range(10)]
    huge = {"id": "huge", "text": "y" * 5000}
    with make_api(server).writer(max_bytes=1000, background=False) as writer:
        writer.write_many([*wide[:5], huge, *wide[5:]])
    sizes = [len(request.content) for request in server.requests]
    batches = [[row["id"] for row in body["data"]] for body in server.bodies]
    assert ["huge"] in batches
    assert [row_id for batch in batches for row_id in batch] == [
        *[str(i) for i in range(5)],
        "huge",
        *[str(i) for i in range(5, 10)],
    ]
    assert all(
        size <= 1000 for size, batch in zip(sizes, batches, strict=True) if batch != ["huge"]
    )
    assert len(batches) > 3


@given(st.lists(st.binary(max_size=300)), st.integers(min_value=1, max_value=1000))
def test_byte_bounded_parts_keep_every_row_in_order_within_the_cap(
    encoded: list[bytes], limit: int
) -> None:
    parts = _byte_bounded(encoded, limit)
    assert [row for part in parts for row in part] == encoded
    for part in parts:
        assert part  # no empty request
        assert len(part) == 1 or sum(len(row) + 1 for row in part) <= limit


def test_the_write_byte_cap_defaults_to_a_safe_size() -> None:
    server = Server(WRITTEN)
    with make_api(server).writer(background=False) as writer:
        writer.write_many({"id": str(i), "text": "z" * 2000} for i in range(999))
    assert len(server.requests) > 1
    assert max(len(request.content) for request in server.requests) <= MAX_WRITE_BYTES


# -- errors ----------------------------------------------------------------------------------


def test_an_error_reads_as_one_line_with_status_message_and_field_errors() -> None:
    body = {"message": "Validation failed", "errors": {"data": "This value should be an array."}}
    with pytest.raises(ContainerApiError) as caught:
        make_api(Server(reply(400, body))).write([{"id": "1"}])
    error = caught.value
    assert (error.status, error.method, error.path) == (400, "POST", "/output/output")
    assert error.errors == {"data": "This value should be an array."}
    assert str(error) == (
        "Container API POST /output/output answered 400 "
        "Validation failed: data: This value should be an array."
    )


def test_an_error_accepts_errors_as_an_empty_json_list() -> None:
    body = {"message": "Size should be an integer.", "errors": []}
    with pytest.raises(ContainerApiError) as caught:
        make_api(Server(reply(400, body))).next_batch()
    assert caught.value.errors == {}
    assert caught.value.message == "Size should be an integer."


def test_an_error_accepts_absent_errors() -> None:
    with pytest.raises(ContainerApiError) as caught:
        make_api(Server(reply(500, {"message": "Invalid file."}))).next_row()
    assert caught.value.errors == {}
    assert str(caught.value) == "Container API GET /input/input/next answered 500 Invalid file."


@pytest.mark.parametrize(
    "call",
    [
        lambda api: api.next_row("new"),
        lambda api: api.next_batch("new"),
        lambda api: api.count("new"),
        lambda api: api.restart("new"),
    ],
    ids=["next_row", "next_batch", "count", "restart"],
)
def test_a_404_on_an_input_raises_input_not_provided(
    call: Callable[[ContainerApi], object],
) -> None:
    with pytest.raises(InputNotProvided, match="Requested file not provided"):
        call(make_api(Server(reply(404, {"message": "Requested file not provided."}))))


def test_an_undeclared_status_on_next_batch_raises_instead_of_ending_input() -> None:
    server = Server(httpx.Response(502, text="<html>Bad Gateway</html>"))
    with pytest.raises(ContainerApiError) as caught:
        make_api(server).next_batch()
    assert caught.value.status == 502
    assert "Bad Gateway" in str(caught.value)


def test_a_success_status_the_endpoint_does_not_declare_raises() -> None:
    with pytest.raises(ContainerApiError) as caught:
        make_api(Server(reply(200, {"message": "ok"}))).write([{"id": "1"}])
    assert caught.value.status == 200


def test_malformed_json_in_a_success_body_raises() -> None:
    server = Server(httpx.Response(200, content=b'{"data": [{"id": '))
    with pytest.raises(ContainerApiError, match="malformed JSON"):
        make_api(server).next_batch()


def test_a_batch_whose_data_is_not_a_list_raises() -> None:
    with pytest.raises(ContainerApiError, match="not a list"):
        make_api(Server(reply(200, {"data": "rows"}))).next_batch()


# -- retries ---------------------------------------------------------------------------------


def test_a_refused_connection_is_retried_then_succeeds() -> None:
    server = Server(httpx.ConnectError("refused"), reply(200, {"data": rows(1)}))
    assert make_api(server).next_batch() == rows(1)
    assert len(server.requests) == 2


@pytest.mark.parametrize("status", [429, 503])
def test_a_write_is_retried_when_the_server_refused_it(status: int) -> None:
    server = Server(reply(status, {"message": "busy"}), WRITTEN)
    make_api(server).write([{"id": "1"}])
    assert len(server.requests) == 2


def test_a_502_on_a_write_is_not_retried_and_raises() -> None:
    server = Server(reply(502, {"message": "Bad Gateway"}), WRITTEN)
    with pytest.raises(ContainerApiError) as caught:
        make_api(server).write([{"id": "1"}])
    assert caught.value.status == 502
    assert len(server.requests) == 1


def test_a_read_timeout_on_next_batch_is_not_retried() -> None:
    server = Server(httpx.ReadTimeout("timed out"), reply(200, {"data": rows(1)}))
    with pytest.raises(ContainerApiUnavailable, match="not retried") as caught:
        make_api(server).next_batch()
    assert caught.value.status is None
    assert len(server.requests) == 1


def test_a_dropped_connection_on_a_write_is_not_retried() -> None:
    server = Server(httpx.RemoteProtocolError("Server disconnected"), WRITTEN)
    with pytest.raises(ContainerApiUnavailable):
        make_api(server).write([{"id": "1"}])
    assert len(server.requests) == 1


@pytest.mark.parametrize("status", [502, 504])
def test_side_effect_free_calls_are_retried_on_gateway_errors(status: int) -> None:
    server = Server(reply(status), reply(200, {"data": {"count": 3}}))
    assert make_api(server).count() == 3
    assert len(server.requests) == 2


def test_side_effect_free_calls_are_retried_after_a_read_timeout() -> None:
    server = Server(httpx.ReadTimeout("timed out"), reply(200, {"message": "pong"}))
    make_api(server).ping()
    assert len(server.requests) == 2


def test_retries_stop_after_max_attempts() -> None:
    server = Server(httpx.ConnectError("refused"))
    with pytest.raises(ContainerApiUnavailable, match="after 3 attempts") as caught:
        make_api(server, max_attempts=3).ping()
    assert len(server.requests) == 3
    assert str(caught.value).startswith("Container API GET /ping: no answer: ConnectError")


def test_retries_are_logged_as_warnings_without_row_data(caplog: pytest.LogCaptureFixture) -> None:
    server = Server(reply(503), WRITTEN)
    with caplog.at_level(logging.WARNING, logger="cde_runtime.container_api"):
        make_api(server).write([{"id": "secret-row-value"}])
    (record,) = caplog.records
    assert record.name == "cde_runtime.container_api"
    assert record.levelno == logging.WARNING
    assert "POST /output/output" in record.getMessage()
    assert "secret-row-value" not in caplog.text


# -- reading ---------------------------------------------------------------------------------


@pytest.mark.parametrize("read_ahead", [True, False], ids=["read-ahead", "inline"])
def test_read_yields_every_row_in_order_across_many_batches(read_ahead: bool) -> None:
    source = rows(2500)
    reader = make_api(InputFile(source)).read(batch_size=999, read_ahead=read_ahead)
    assert list(reader) == source
    assert reader.rows_read == 2500


def test_read_batches_yields_the_server_batches() -> None:
    reader = make_api(InputFile(rows(2500))).read(batch_size=999)
    assert [len(batch) for batch in reader.batches()] == [999, 999, 502]
    assert reader.rows_read == 2500


def test_read_ahead_reraises_a_mid_stream_error_after_the_rows_before_it() -> None:
    reader = make_api(InputFile(rows(50), fail_after_calls=2)).read(batch_size=10)
    seen: list[Row] = []
    with pytest.raises(ContainerApiError) as caught:
        seen.extend(reader)
    assert caught.value.status == 502
    assert seen == rows(20)


def test_a_closed_reader_stops_its_thread_and_reads_at_most_two_batches_ahead() -> None:
    source = InputFile(rows(1000))
    with make_api(source).read(batch_size=10) as reader:
        next(reader)
    for thread in read_ahead_threads():
        thread.join(timeout=5)
    assert read_ahead_threads() == []
    assert source.calls <= 3


def test_an_abandoned_reader_stops_its_thread() -> None:
    source = InputFile(rows(1000))
    for _row in make_api(source).read(batch_size=10):
        break
    for thread in read_ahead_threads():
        thread.join(timeout=5)
    assert read_ahead_threads() == []
    assert source.calls <= 3


# -- writing ---------------------------------------------------------------------------------


@pytest.mark.parametrize("background", [True, False], ids=["background", "inline"])
def test_writer_posts_full_batches_and_the_rest_on_close(background: bool) -> None:
    server = Server(WRITTEN)
    with make_api(server).writer(batch_size=999, background=background) as writer:
        writer.write_many(rows(2500))
    assert [len(body["data"]) for body in server.bodies] == [999, 999, 502]
    assert writer.rows_written == 2500


def test_writer_keeps_row_order() -> None:
    server = Server(WRITTEN)
    with make_api(server).writer(batch_size=7) as writer:
        for row in rows(100):
            writer.write(row)
    assert [row for body in server.bodies for row in body["data"]] == rows(100)


def test_writer_sends_the_separator_with_every_batch() -> None:
    server = Server(WRITTEN)
    with make_api(server).writer("feedback", batch_size=2, separator="_") as writer:
        writer.write_many(rows(3))
    assert [body["meta"] for body in server.bodies] == [{"separator": "_"}] * 2
    assert {request.url.path for request in server.requests} == {"/output/feedback"}


def test_writer_flush_sends_buffered_rows_and_waits_for_confirmation() -> None:
    server = Server(WRITTEN)
    writer = make_api(server).writer(batch_size=999)
    writer.write_many(rows(5))
    writer.flush()
    assert writer.rows_written == 5
    writer.close()


def test_writer_raises_a_background_error_on_the_next_call() -> None:
    server = Server(reply(400, {"message": "Validation failed", "errors": {"data": "bad"}}))
    writer = make_api(server).writer(batch_size=2)
    writer.write_many(rows(2))
    with pytest.raises(ContainerApiError, match="Validation failed"):
        writer.flush()
    assert writer.rows_written == 0


def test_writer_close_raises_when_the_last_batch_fails() -> None:
    server = Server(reply(400, {"message": "Validation failed"}))
    with pytest.raises(ContainerApiError), make_api(server).writer() as writer:
        writer.write(rows(1)[0])


def test_rows_written_counts_only_rows_the_server_confirmed() -> None:
    server = Server(WRITTEN, reply(400, {"message": "Validation failed"}))
    writer = make_api(server).writer(batch_size=2)
    writer.write_many(rows(4))
    with pytest.raises(ContainerApiError):
        writer.close()
    assert writer.rows_written == 2


class HandlerFailedError(Exception):
    """Stands for any exception a mode handler raises while a writer is open."""


def fail_while_writing(
    writer: OutputWriter, batch: list[Row], before_failing: Callable[[], object] = lambda: None
) -> None:
    with writer:
        writer.write_many(batch)
        before_failing()
        raise HandlerFailedError


def test_writer_exit_on_an_exception_sends_no_buffered_rows() -> None:
    server = Server(WRITTEN)
    writer = make_api(server).writer(batch_size=2, background=False)
    with pytest.raises(HandlerFailedError):
        fail_while_writing(writer, rows(3))
    assert [len(body["data"]) for body in server.bodies] == [2]


def test_writer_exit_on_an_exception_drops_queued_batches() -> None:
    in_flight, release = threading.Event(), threading.Event()

    def slow_first_write(request: httpx.Request) -> httpx.Response:
        in_flight.set()
        release.wait(timeout=5)
        return WRITTEN

    server = Server(slow_first_write, WRITTEN)
    writer = make_api(server).writer(batch_size=2)
    # 4 rows: batch 1 is in flight (held by the server), batch 2 waits in the queue.
    with pytest.raises(HandlerFailedError):
        fail_while_writing(writer, rows(4), before_failing=lambda: in_flight.wait(timeout=5))
    release.set()
    writer.close()  # only waits for the worker thread
    assert len(server.requests) == 1


def test_writer_refuses_rows_after_close() -> None:
    writer = make_api(Server(WRITTEN)).writer()
    writer.close()
    with pytest.raises(RuntimeError, match="closed"):
        writer.write({"id": "1"})


def test_batches_are_freed_without_waiting_for_the_garbage_collector() -> None:
    # Memory must not grow with the run: no response may outlive its batch in a reference cycle.
    def responses_alive() -> int:
        return sum(1 for o in gc.get_objects() if isinstance(o, httpx.Response))

    api = make_api(InputFile(rows(5000)))
    gc.collect()
    gc.disable()
    try:
        before = responses_alive()
        for _batch in api.read(batch_size=10, read_ahead=False).batches():
            pass
        left_behind = responses_alive() - before
    finally:
        gc.enable()
    assert left_behind < 5  # of the 501 batches read


def test_the_plain_http_sidecar_gets_a_tls_context_that_trusts_no_certificate() -> None:
    # Skips loading the CA bundle for a client that never speaks TLS, and fails closed if one
    # is ever attempted: certificates are required, and no CA is there to pass them.
    context = _verify("http://cde-container-api")
    assert isinstance(context, ssl.SSLContext)
    assert (context.verify_mode, context.check_hostname) == (ssl.CERT_REQUIRED, True)
    assert context.get_ca_certs() == []
    assert _verify("https://api.example.com") is True  # httpx's own verification
