"""The local Container API behaves as docs/container-api.md says (strict where it is silent)."""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import re
import socket
import ssl
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from cde_emulator import Emulator, Fault, runner
from cde_emulator.__main__ import main as emulator_main
from cde_emulator.state import format_summary
from cde_runtime.testing import EmulatorFactory
from connector.modes import MODES

from tests.runtime.conftest import PROJECT_ROOT

PRODUCTS = [
    {"id": "1", "title": "Merino Sweater", "___internal_note": "restock"},
    {"id": "2", "title": "Café au Lait Mug", "___internal_note": ""},
    {"id": "3", "title": "日本製 包丁", "___internal_note": "margin"},
]
Connect = Callable[[Emulator], httpx.Client]
# One TLS context for every client: httpx builds a new one per client otherwise (~0.25 s each).
TLS = ssl.create_default_context()
VALIDATION_FAILED_DATA = {
    "message": "Validation failed",
    "errors": {"data": "This value should be an array of items."},
}


@pytest.fixture
def connect() -> Iterator[Connect]:
    """Make an HTTP client for an emulator; closed at teardown."""
    clients: list[httpx.Client] = []

    def make(emu: Emulator) -> httpx.Client:
        clients.append(httpx.Client(base_url=emu.url, timeout=5, verify=TLS))
        return clients[-1]

    yield make
    for client in clients:
        client.close()


@pytest.fixture
def api(emulator: EmulatorFactory, connect: Connect) -> httpx.Client:
    """A client for an emulator serving PRODUCTS as `input`."""
    return connect(emulator(input=PRODUCTS))


def ids(response: httpx.Response) -> list[str]:
    return [row["id"] for row in response.json()["data"]]


# -- liveness and routing ----------------------------------------------------------------------


def test_ping_answers_pong(api: httpx.Client) -> None:
    response = api.get("/ping")
    assert (response.status_code, response.json()) == (200, {"message": "pong"})


def test_unknown_path_is_a_json_404(api: httpx.Client) -> None:
    response = api.get("/nowhere")
    assert response.status_code == 404
    assert "message" in response.json()


def test_known_path_with_wrong_method_is_405_with_allow_header(api: httpx.Client) -> None:
    response = api.post("/input/input/next")
    assert response.status_code == 405
    assert response.headers["allow"] == "GET"


def test_every_response_with_a_body_has_a_content_length(api: httpx.Client) -> None:
    for response in (api.get("/ping"), api.get("/nowhere")):
        assert response.headers["content-length"] == str(len(response.content))


def test_a_204_has_neither_body_nor_content_length(api: httpx.Client) -> None:
    response = api.post("/output/output/close")

    assert (response.status_code, response.content) == (204, b"")
    assert "content-length" not in response.headers


def test_one_connection_serves_many_requests(emulator: EmulatorFactory) -> None:
    emu = emulator(input=PRODUCTS)
    connection = http.client.HTTPConnection("127.0.0.1", emu.port, timeout=5)
    try:
        for _ in range(3):
            connection.request("GET", "/ping")
            response = connection.getresponse()
            assert (response.status, response.read()) == (200, b'{"message":"pong"}')
    finally:
        connection.close()


# -- reading input ---------------------------------------------------------------------------------


def test_next_batch_serves_rows_in_file_order_up_to_size(api: httpx.Client) -> None:
    response = api.get("/input/input/next_batch", params={"size": 2})
    assert response.status_code == 200
    assert response.json()["message"] == ""
    assert ids(response) == ["1", "2"]


def test_next_batch_without_size_serves_one_row(api: httpx.Client) -> None:
    assert ids(api.get("/input/input/next_batch")) == ["1"]


def test_next_batch_at_end_of_input_is_200_with_empty_data(api: httpx.Client) -> None:
    api.get("/input/input/next_batch", params={"size": 999})
    response = api.get("/input/input/next_batch", params={"size": 999})
    assert (response.status_code, response.json()) == (200, {"message": "", "data": []})


def test_next_serves_one_row_object(api: httpx.Client) -> None:
    response = api.get("/input/input/next")
    assert response.json() == {"message": "", "data": {"id": "1", "title": "Merino Sweater"}}


def test_next_at_end_of_input_is_204_without_body(api: httpx.Client) -> None:
    api.get("/input/input/next_batch", params={"size": 3})
    response = api.get("/input/input/next")
    assert (response.status_code, response.content) == (204, b"")


def test_next_and_next_batch_share_one_cursor(api: httpx.Client) -> None:
    api.get("/input/input/next")
    assert ids(api.get("/input/input/next_batch", params={"size": 5})) == ["2", "3"]


def test_cursors_of_different_input_types_are_independent(
    emulator: EmulatorFactory, connect: Connect
) -> None:
    api = connect(emulator(new=PRODUCTS, modified=PRODUCTS))
    api.get("/input/new/next_batch", params={"size": 2})
    assert ids(api.get("/input/modified/next_batch")) == ["1"]


def test_restart_rewinds_the_cursor(api: httpx.Client) -> None:
    api.get("/input/input/next_batch", params={"size": 2})
    response = api.get("/input/input/restart")
    assert response.json() == {"message": "successful request"}
    assert ids(api.get("/input/input/next_batch")) == ["1"]


def test_count_is_the_total_whatever_the_cursor(api: httpx.Client) -> None:
    api.get("/input/input/next_batch", params={"size": 2})
    response = api.get("/items/input/count")
    assert response.json() == {"message": "Items counted successfully.", "data": {"count": 3}}


def test_full_is_an_alias_of_input_with_the_same_cursor(api: httpx.Client) -> None:
    api.get("/input/full/next")
    assert ids(api.get("/input/input/next_batch")) == ["2"]


@pytest.mark.parametrize(
    "path",
    ["/input/new/next", "/input/new/next_batch", "/input/new/restart", "/items/new/count"],
)
def test_input_the_run_does_not_provide_is_404(api: httpx.Client, path: str) -> None:
    response = api.get(path)
    assert (response.status_code, response.json()) == (
        404,
        {"message": "Requested file not provided."},
    )


def test_values_are_served_as_strings(emulator: EmulatorFactory, connect: Connect) -> None:
    api = connect(emulator(input=[{"id": 7, "price": 9.5, "active": True, "gone": None}]))
    row = api.get("/input/input/next").json()["data"]
    assert row == {"id": "7", "price": "9.5", "active": "1", "gone": ""}


def test_hidden_columns_are_left_out_by_default(api: httpx.Client) -> None:
    row = api.get("/input/input/next").json()["data"]
    assert "___internal_note" not in row


@pytest.mark.parametrize(
    ("value", "shown"), [("true", True), ("1", True), ("false", False), ("0", False)]
)
def test_show_hidden_accepts_true_false_1_0(api: httpx.Client, value: str, shown: bool) -> None:
    row = api.get("/input/input/next", params={"show-hidden": value}).json()["data"]
    assert ("___internal_note" in row) is shown


def test_show_hidden_rejects_other_values(api: httpx.Client) -> None:
    response = api.get("/input/input/next_batch", params={"show-hidden": "yes"})
    assert response.status_code == 400


@pytest.mark.parametrize("size", ["abc", "1.5", "", "1e3", " 5"])
def test_size_must_be_an_integer(api: httpx.Client, size: str) -> None:
    response = api.get("/input/input/next_batch", params={"size": size})
    assert (response.status_code, response.json()) == (
        400,
        {"message": "Bad request.", "errors": {"size": "This value does not have valid integer."}},
    )


@pytest.mark.parametrize("size", ["0", "1000", "-1"])
def test_size_must_be_between_1_and_999(api: httpx.Client, size: str) -> None:
    response = api.get("/input/input/next_batch", params={"size": size})
    assert response.status_code == 400
    assert response.json()["errors"] == {"size": "This value should be between 1 and 999."}


def test_size_999_is_the_largest_batch(emulator: EmulatorFactory, connect: Connect) -> None:
    api = connect(emulator(input=[{"id": str(i)} for i in range(1500)]))
    assert len(api.get("/input/input/next_batch", params={"size": 999}).json()["data"]) == 999


def test_classification_id_must_be_an_integer(api: httpx.Client) -> None:
    response = api.get("/input/input/next_batch", params={"classification-id": "x"})
    assert response.status_code == 400


def test_csv_input_is_read_with_its_header_row(tmp_path: Path, connect: Connect) -> None:
    (tmp_path / "input.csv").write_text('id,title\n1,"Mug, large"\n', encoding="utf-8")
    with Emulator(tmp_path) as emu:
        row = connect(emu).get("/input/input/next").json()["data"]
    assert row == {"id": "1", "title": "Mug, large"}


def test_unparseable_input_file_is_500_invalid_file(tmp_path: Path, connect: Connect) -> None:
    (tmp_path / "input.jsonl").write_text("{not json\n", encoding="utf-8")
    with Emulator(tmp_path) as emu:
        response = connect(emu).get("/input/input/next_batch")
    assert (response.status_code, response.json()) == (500, {"message": "Invalid file."})


# -- writing output and feedback -------------------------------------------------------------------


def test_write_appends_rows_to_the_output_file(emulator: EmulatorFactory, connect: Connect) -> None:
    emu = emulator()
    api = connect(emu)
    response = api.post("/output/output", json={"data": [{"id": "1"}]})
    api.post("/output/output", json={"data": [{"id": "2"}]})
    assert (response.status_code, response.json()) == (201, {"message": "Written successfully."})
    assert emu.output_rows() == [{"id": "1"}, {"id": "2"}]


def test_feedback_rows_go_to_the_feedback_file(emulator: EmulatorFactory, connect: Connect) -> None:
    emu = emulator()
    connect(emu).post("/output/feedback", json={"data": [{"id": "1", "error": "x"}]})
    assert (emu.output_rows("output"), emu.output_rows("feedback")) == (
        [],
        [{"id": "1", "error": "x"}],
    )


def test_written_values_are_stored_as_strings(emulator: EmulatorFactory, connect: Connect) -> None:
    emu = emulator()
    connect(emu).post("/output/output", json={"data": [{"id": 1, "price": 2.5, "ok": False}]})
    assert emu.output_rows() == [{"id": "1", "price": "2.5", "ok": ""}]


def test_nested_values_are_flattened_with_the_default_separator(
    emulator: EmulatorFactory, connect: Connect
) -> None:
    emu = emulator()
    row = {"id": 1, "taxon": [{"id": 11, "name": "taxon0"}], "tags": []}
    connect(emu).post("/output/output", json={"data": [row]})
    assert emu.output_rows() == [
        {"id": "1", "taxon-0-id": "11", "taxon-0-name": "taxon0", "tags": ""}
    ]


def test_meta_separator_changes_the_flattening(emulator: EmulatorFactory, connect: Connect) -> None:
    emu = emulator()
    body = {"meta": {"separator": "."}, "data": [{"size": {"eu": "42"}}]}
    connect(emu).post("/output/output", json=body)
    assert emu.output_rows() == [{"size.eu": "42"}]


@pytest.mark.parametrize(
    "body",
    [{}, {"data": []}, {"data": "rows"}, {"data": [1]}, {"data": [{"id": "1"}, "x"]}, []],
    ids=["missing", "empty", "string", "not-objects", "one-not-object", "body-not-object"],
)
def test_write_without_a_list_of_row_objects_is_rejected(api: httpx.Client, body: Any) -> None:
    response = api.post("/output/output", json=body)
    assert (response.status_code, response.json()) == (400, VALIDATION_FAILED_DATA)


def test_write_with_a_body_that_is_not_json_is_rejected(api: httpx.Client) -> None:
    response = api.post("/output/output", content=b"{nope")
    assert (response.status_code, response.json()) == (400, VALIDATION_FAILED_DATA)


def test_write_to_an_unknown_output_type_is_rejected(api: httpx.Client) -> None:
    response = api.post("/output/events", json={"data": [{"id": "1"}]})
    assert response.status_code == 400
    assert response.json()["message"] == "Validation failed"


def test_rejected_write_writes_nothing(emulator: EmulatorFactory, connect: Connect) -> None:
    emu = emulator()
    connect(emu).post("/output/output", json={"data": [{"id": "1"}, 2]})
    assert emu.output_rows() == []


def test_close_output_answers_204_without_body(api: httpx.Client) -> None:
    response = api.post("/output/output/close")
    assert (response.status_code, response.content) == (204, b"")


def test_output_files_start_empty_each_run(tmp_path: Path, connect: Connect) -> None:
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "output.jsonl").write_text('{"id":"old"}\n', encoding="utf-8")
    with Emulator(tmp_path) as emu:
        assert emu.output_rows() == []


# -- logs ------------------------------------------------------------------------------------------


def test_log_is_recorded_with_level_message_and_context(
    emulator: EmulatorFactory, connect: Connect
) -> None:
    emu = emulator()
    response = connect(emu).post("/logs/warning", json={"message": "slow", "context": {"code": 10}})
    assert (response.status_code, response.json()) == (201, {"message": "Written successfully."})
    assert emu.logs() == [{"level": "warning", "message": "slow", "context": {"code": 10}}]


@pytest.mark.parametrize("body", [{}, {"message": ""}, {"message": None}])
def test_log_with_a_blank_message_is_rejected(api: httpx.Client, body: dict[str, Any]) -> None:
    response = api.post("/logs/info", json=body)
    assert (response.status_code, response.json()) == (
        400,
        {"message": "Validation failed", "errors": {"message": "This value should not be blank."}},
    )


def test_log_with_an_unknown_level_is_rejected(api: httpx.Client) -> None:
    assert api.post("/logs/verbose", json={"message": "x"}).status_code == 400


@pytest.mark.parametrize(
    "level",
    [
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
    ],
)
def test_every_documented_log_level_is_accepted(api: httpx.Client, level: str) -> None:
    assert api.post(f"/logs/{level}", json={"message": "x"}).status_code == 201


# -- storage, processes, buckets, classifications --------------------------------------------------


@pytest.mark.parametrize(
    ("path", "folder"), [("/store/to-transport", "transport"), ("/storage/internal", "internal")]
)
def test_storage_copies_the_file_and_reports_a_finished_process(
    emulator: EmulatorFactory, connect: Connect, tmp_path: Path, path: str, folder: str
) -> None:
    emu = emulator()
    api = connect(emu)
    source = tmp_path / "feed.xml"
    source.write_text("<feed/>", encoding="utf-8")
    response = api.post(path, json={"source_file": str(source), "remote_file": "/out/feed.xml"})
    assert response.status_code == 202
    process = api.get(f"/processes/{response.json()['data']['id']}").json()["data"]
    assert (process["status"], process["exit-code"]) == ("finished", 0)
    assert (emu.out_dir / folder / "out" / "feed.xml").read_text(encoding="utf-8") == "<feed/>"


def test_storage_of_a_missing_source_file_is_rejected(api: httpx.Client) -> None:
    response = api.post("/store/to-transport", json={"source_file": "/no/such", "remote_file": "a"})
    assert (response.status_code, response.json()) == (
        400,
        {"message": "Validation failed", "errors": {"sourceFile": "File not found."}},
    )


def test_unknown_process_is_404(api: httpx.Client) -> None:
    response = api.get("/processes/93be0c83-6ce5-456a-936b-81ee3b486149")
    assert (response.status_code, response.json()) == (404, {"message": "Process not found."})


def test_no_process_is_ever_pending(api: httpx.Client) -> None:
    assert api.get("/processes/pending").json() == {"message": "", "data": []}


def test_log_all_processes_answers_written(api: httpx.Client) -> None:
    assert api.post("/processes/log").json() == {"message": "Written successfully."}


def test_bucket_upload_download_delete_round_trip(
    emulator: EmulatorFactory, connect: Connect, tmp_path: Path
) -> None:
    emu = emulator()
    api = connect(emu)
    source = tmp_path / "state.json"
    source.write_text("{}", encoding="utf-8")
    upload = api.put(
        "/buckets/exchange/upload/runs%2Fstate.json", json={"source_file": str(source)}
    )
    download = api.get("/buckets/exchange/download/runs/state.json")
    delete = api.delete("/buckets/delete/runs/state.json")
    assert [upload.status_code, download.status_code, delete.status_code] == [202, 202, 202]
    assert (emu.out_dir / "downloads" / "runs" / "state.json").is_file()
    assert not (emu.out_dir / "buckets" / "runs" / "state.json").exists()


def test_bucket_download_of_a_missing_file_is_rejected(api: httpx.Client) -> None:
    response = api.get("/buckets/exchange/download/nothing.txt")
    assert response.status_code == 400
    assert "remoteFile" in response.json()["errors"]


def test_bucket_paths_cannot_leave_the_bucket(api: httpx.Client, tmp_path: Path) -> None:
    source = tmp_path / "x"
    source.write_text("x", encoding="utf-8")
    response = api.put("/buckets/exchange/upload/..%2Fescape", json={"source_file": str(source)})
    assert response.json()["errors"] == {"remoteFile": "Not a valid file path."}


def test_classifications_come_from_the_data_dir(tmp_path: Path, connect: Connect) -> None:
    items = [
        {"classification-id": 111, "classification-path": "Shoes"},
        {"classification-id": 222, "classification-path": "Bags"},
    ]
    (tmp_path / "csa-classifications.json").write_text(json.dumps(items), encoding="utf-8")
    with Emulator(tmp_path) as emu:
        api = connect(emu)
        everything = api.get("/csa-classifications").json()["data"]
        bags = api.get("/csa-classifications", params={"classification-path": "Bags"}).json()
    assert (everything, bags["data"]) == (items, items[1:])


def test_classifications_are_empty_without_a_file(api: httpx.Client) -> None:
    assert api.get("/csa-classifications").json() == {"message": "successful operation", "data": []}


# -- faults ----------------------------------------------------------------------------------------


def test_status_fault_answers_the_nth_request_of_its_kind(
    emulator: EmulatorFactory, connect: Connect
) -> None:
    api = connect(emulator(faults=[Fault("write", 2, "503")]))
    statuses = [api.post("/output/output", json={"data": [{"id": "1"}]}).status_code for _ in "abc"]
    assert statuses == [201, 503, 201]


def test_status_fault_body_says_injected(emulator: EmulatorFactory, connect: Connect) -> None:
    api = connect(emulator(input=PRODUCTS, faults=[Fault("read", 1, "500")]))
    assert api.get("/input/input/next_batch").json() == {"message": "Injected fault"}


def test_faulted_request_has_no_effect(emulator: EmulatorFactory, connect: Connect) -> None:
    api = connect(emulator(input=PRODUCTS, faults=[Fault("read", 1, "500")]))
    api.get("/input/input/next_batch")
    assert ids(api.get("/input/input/next_batch")) == ["1"]


def test_requests_of_other_kinds_do_not_count(emulator: EmulatorFactory, connect: Connect) -> None:
    api = connect(emulator(input=PRODUCTS, faults=[Fault("log", 1, "500")]))
    api.get("/input/input/next")
    api.post("/output/output", json={"data": [{"id": "1"}]})
    assert api.post("/logs/info", json={"message": "x"}).status_code == 500


def test_any_fault_counts_every_contract_request(
    emulator: EmulatorFactory, connect: Connect
) -> None:
    api = connect(emulator(faults=[Fault("any", 2, "502")]))
    assert [api.get("/ping").status_code for _ in "abc"] == [200, 502, 200]


def test_drop_fault_closes_the_connection_without_a_response(
    emulator: EmulatorFactory, connect: Connect
) -> None:
    api = connect(emulator(input=PRODUCTS, faults=[Fault("read", 1, "drop")]))
    with pytest.raises(httpx.RemoteProtocolError):
        api.get("/input/input/next")
    assert api.get("/input/input/next").json()["data"]["id"] == "1"


def test_malformed_fault_answers_200_with_a_body_that_is_not_json(
    emulator: EmulatorFactory, connect: Connect
) -> None:
    api = connect(emulator(input=PRODUCTS, faults=[Fault("read", 1, "malformed")]))
    response = api.get("/input/input/next_batch")
    assert response.status_code == 200
    with pytest.raises(json.JSONDecodeError):
        response.json()


def test_cut_fault_does_the_work_then_drops_the_connection_mid_response(
    emulator: EmulatorFactory, connect: Connect
) -> None:
    emu = emulator(faults=[Fault("write", 1, "cut")])
    with pytest.raises(httpx.RemoteProtocolError):
        connect(emu).post("/output/output", json={"data": [{"id": "1"}]})
    assert emu.output_rows() == [{"id": "1"}]


def test_delay_fault_postpones_a_normal_answer(emulator: EmulatorFactory, connect: Connect) -> None:
    api = connect(emulator(faults=[Fault("any", 1, "delay=0.2")]))
    started = time.monotonic()
    response = api.get("/ping")
    assert time.monotonic() - started >= 0.2
    assert response.json() == {"message": "pong"}


def test_fault_spec_parses_kind_number_and_action() -> None:
    assert Fault.parse("write:3:500") == Fault(kind="write", n=3, action="500")


@pytest.mark.parametrize(
    "spec", ["write:3", "disk:1:500", "read:0:500", "read:x:500", "log:1:boom"]
)
def test_invalid_fault_specs_are_refused(spec: str) -> None:
    with pytest.raises(ValueError, match="fault"):
        Fault.parse(spec)


def test_cli_refuses_an_invalid_fault_spec() -> None:
    with pytest.raises(SystemExit) as exit_info:
        emulator_main(["--fault", "read:0:500"])
    assert exit_info.value.code == 2


def test_a_204_fault_sends_no_body_and_keeps_the_connection_usable(
    emulator: EmulatorFactory,
) -> None:
    emu = emulator(input=PRODUCTS, faults=[Fault("read", 1, "204")])
    # A raw connection: a body after the 204 would show up as garbage before the next answer.
    connection = http.client.HTTPConnection(emu.host, emu.port, timeout=5)
    connection.request("GET", "/input/input/next_batch")
    first = connection.getresponse()
    assert (first.status, first.read(), first.getheader("content-length")) == (204, b"", None)
    connection.request("GET", "/input/input/next_batch")
    second = connection.getresponse()
    assert json.loads(second.read())["data"][0]["id"] == "1"
    connection.close()


def test_a_204_with_a_body_fault_closes_the_connection(emulator: EmulatorFactory) -> None:
    emu = emulator(input=PRODUCTS, faults=[Fault("read", 1, "204body")])
    with socket.create_connection((emu.host, emu.port), timeout=5) as raw:
        raw.sendall(b"GET /input/input/next HTTP/1.1\r\nHost: x\r\n\r\n")
        answer = b""
        while chunk := raw.recv(4096):
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 204")
    assert b"Connection: close" in head
    assert body == b'{"message":"Injected fault"}'


@pytest.mark.parametrize(("action", "data"), [("empty", []), ("null", None)])
def test_early_end_faults_answer_an_empty_read_and_read_nothing(
    emulator: EmulatorFactory, connect: Connect, action: str, data: object
) -> None:
    api = connect(emulator(input=PRODUCTS, faults=[Fault("read", 2, action)]))
    assert ids(api.get("/input/input/next_batch")) == ["1"]
    assert api.get("/input/input/next_batch").json() == {"message": "", "data": data}
    assert ids(api.get("/input/input/next_batch")) == ["2"]


def test_retry_after_is_sent_with_an_injected_status(
    emulator: EmulatorFactory, connect: Connect
) -> None:
    api = connect(emulator(faults=[Fault.parse("any:1:429,retry-after=2")]))
    response = api.get("/ping")
    assert (response.status_code, response.headers["retry-after"]) == (429, "2")
    assert "retry-after" not in api.get("/ping").headers


def test_a_repeating_fault_hits_every_request_from_the_nth(
    emulator: EmulatorFactory, connect: Connect
) -> None:
    api = connect(emulator(faults=[Fault.parse("any:2+:503")]))
    assert [api.get("/ping").status_code for _ in "abcd"] == [200, 503, 503, 503]


@pytest.mark.parametrize(
    ("kind", "method", "path"),
    [("count", "GET", "/items/input/count"), ("close", "POST", "/output/output/close")],
)
def test_count_and_close_are_fault_kinds_of_their_own(
    emulator: EmulatorFactory, connect: Connect, kind: str, method: str, path: str
) -> None:
    api = connect(emulator(input=PRODUCTS, faults=[Fault(kind, 1, "500")]))
    api.get("/input/input/next")
    assert api.request(method, path).status_code == 500


def test_timeout_fault_never_answers(emulator: EmulatorFactory) -> None:
    emu = emulator(faults=[Fault("any", 1, "timeout")])
    with httpx.Client(base_url=emu.url, timeout=0.3, verify=TLS) as api:
        with pytest.raises(httpx.ReadTimeout):
            api.get("/ping")
        assert api.get("/ping").json() == {"message": "pong"}


def test_a_body_above_the_limit_gets_413_and_writes_nothing(
    tmp_path: Path, connect: Connect
) -> None:
    with Emulator(tmp_path, max_body_bytes=100) as emu:
        api = connect(emu)
        small = api.post("/output/output", json={"data": [{"id": "1"}]})
        large = api.post("/output/output", json={"data": [{"id": "2", "text": "x" * 100}]})
        assert (small.status_code, large.status_code) == (201, 413)
        assert emu.output_rows() == [{"id": "1"}]


def test_the_old_api_serves_full_and_does_not_know_input(tmp_path: Path, connect: Connect) -> None:
    (tmp_path / "input.jsonl").write_text('{"id": "1"}\n', encoding="utf-8")
    with Emulator(tmp_path, old_api=True) as emu:
        api = connect(emu)
        for path in ("/input/input/next_batch", "/items/input/count", "/input/input/next"):
            response = api.get(path)
            assert response.status_code == 404
            assert response.json()["message"].startswith("No route found")
        assert api.get("/items/full/count").json()["data"] == {"count": 1}
        assert ids(api.get("/input/full/next_batch")) == ["1"]


def test_a_stalled_log_echo_never_blocks_requests(tmp_path: Path, connect: Connect) -> None:
    read_end, write_end = os.pipe()
    stream = os.fdopen(write_end, "w")
    try:
        with Emulator(tmp_path, echo=stream) as emu:
            api = connect(emu)
            # Nobody reads the pipe: it is full after ~64 lines of 1 KiB and the echo blocks.
            for number in range(200):
                status = api.post("/logs/info", json={"message": f"{number} " + "x" * 1024})
                assert status.status_code == 201
            assert api.get("/ping").status_code == 200
            assert len(emu.logs()) == 200
    finally:
        os.close(read_end)  # the blocked echo write fails with EPIPE and the echo ends
        with contextlib.suppress(OSError):
            stream.close()


def test_the_standalone_default_out_folder_is_git_ignored() -> None:
    out = runner.default_out_dir("serve")
    ignored = (PROJECT_ROOT / ".gitignore").read_text(encoding="utf-8").splitlines()
    assert out.relative_to(PROJECT_ROOT).parts[0] + "/" in ignored
    assert "sample_data" not in out.parts


def test_run_refuses_an_unknown_mode_before_starting_anything(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        emulator_main(["run", "no-such-mode", "--out", str(tmp_path / "out")])
    assert exit_info.value.code == 2
    assert "unknown mode 'no-such-mode'" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_the_readme_fault_example_fails_the_run_with_its_fault(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    readme = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
    found = re.search(r"^python3 dev\.py run (\S+) --fault '([^']+)'$", readme, re.MULTILINE)
    assert found, "README.md shows no fault example"
    mode, spec = found.groups()
    monkeypatch.setenv("CONTAINER_API_MAX_ATTEMPTS", "1")  # the same failure, without the backoff

    code = emulator_main(["run", mode, "--fault", spec, "--out", str(tmp_path / "out")])

    printed = capsys.readouterr()
    assert code == 1
    assert f"faults fired:  {spec}" in printed.out


def test_shell_variables_win_over_the_options_file() -> None:
    options = runner.shell_wins(
        {"NAME": "from-file", "OTHER": "file"}, {"NAME", "UNSET"}, {"NAME": "from-shell"}
    )
    assert options == {"NAME": "from-shell", "OTHER": "file"}
    env = runner.connector_environment({"NAME": "from-file"}, "http://e", {"NAME": "shell"})
    assert env["NAME"] == "shell"


# -- status and summary ----------------------------------------------------------------------------


def test_status_endpoint_summarises_the_run(emulator: EmulatorFactory, connect: Connect) -> None:
    api = connect(emulator(input=PRODUCTS, faults=[Fault("log", 1, "500")]))
    api.get("/input/input/next_batch", params={"size": 2})
    api.post("/output/feedback", json={"data": [{"id": "1"}]})
    api.post("/logs/info", json={"message": "x"})
    api.post("/logs/error", json={"message": "y"})
    status = api.get("/_emulator/status").json()
    assert status["rows_served"] == {"input": 2}
    assert status["rows_written"] == {"output": 0, "feedback": 1}
    assert status["logs"] == {"error": 1}
    assert status["faults_fired"] == ["log:1:500"]


def test_status_request_flushes_the_output_files(
    emulator: EmulatorFactory, connect: Connect
) -> None:
    emu = emulator()
    api = connect(emu)
    api.post("/output/output", json={"data": [{"id": "1"}]})
    api.get("/_emulator/status")
    assert (emu.out_dir / "output.jsonl").read_text(encoding="utf-8") == '{"id":"1"}\n'


def test_printed_summary_names_each_count(emulator: EmulatorFactory, connect: Connect) -> None:
    emu = emulator(input=PRODUCTS)
    connect(emu).get("/input/input/next_batch", params={"size": 3})
    text = format_summary(emu.summary())
    assert "rows served:   input 3" in text
    assert "rows written:  output 0, feedback 0" in text


# -- the one-command local run ---------------------------------------------------------------------


def test_sample_data_folder_is_named_after_the_mode_with_underscores(tmp_path: Path) -> None:
    (tmp_path / "sample_data" / "some_mode").mkdir(parents=True)
    assert runner.sample_data_dir("some-mode", tmp_path) == tmp_path / "sample_data" / "some_mode"


def test_a_mode_without_sample_data_reads_no_input(tmp_path: Path) -> None:
    assert runner.sample_data_dir("some-mode", tmp_path) is None


def test_a_command_line_connector_gets_its_own_options_as_arguments() -> None:
    options = {"GREETING": "Hello World", "URL": "http://127.0.0.1:1/x", "OTHER_MODES": "1"}
    assert runner.connector_arguments(options, declared={"GREETING", "URL"}) == [
        "--GREETING=Hello World",
        "--URL=http://127.0.0.1:1/x",
    ]


def test_a_mode_the_connector_lacks_declares_no_options() -> None:
    assert runner.declared_options("no-such-mode") == set()


def test_default_out_dir_is_per_mode_under_emulator_out(tmp_path: Path) -> None:
    assert runner.default_out_dir("export", tmp_path) == tmp_path / ".emulator-out" / "export"


def test_out_dir_is_emptied_before_a_run(tmp_path: Path) -> None:
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "output.jsonl").write_text("old", encoding="utf-8")
    assert list(runner.reset_dir(tmp_path / "out").iterdir()) == []


def test_env_file_prefers_dot_env_over_the_example(tmp_path: Path) -> None:
    (tmp_path / ".env.example").write_text("A=1\n", encoding="utf-8")
    (tmp_path / ".env").write_text("A=2\n", encoding="utf-8")
    assert runner.find_env_file(tmp_path) == tmp_path / ".env"


def test_env_file_falls_back_to_the_example(tmp_path: Path) -> None:
    (tmp_path / ".env.example").write_text("A=1\n", encoding="utf-8")
    assert runner.find_env_file(tmp_path) == tmp_path / ".env.example"


def test_an_explicit_env_file_must_exist(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        runner.find_env_file(tmp_path, tmp_path / "missing.env")


def test_options_can_refer_to_the_emulator_url(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text("CHANNEL_URL=${CONTAINER_API_URL}/channel\nNAME=World\n", encoding="utf-8")
    options = runner.load_options(env_file, "http://127.0.0.1:5555")
    assert options == {"CHANNEL_URL": "http://127.0.0.1:5555/channel", "NAME": "World"}


def test_options_without_a_value_are_left_out(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text("JUST_A_NAME\nSET=1\n", encoding="utf-8")
    assert runner.load_options(env_file, "http://x") == {"SET": "1"}


def test_loading_options_leaves_the_environment_as_it_was(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CONTAINER_API_URL", raising=False)
    env_file = tmp_path / ".env"
    env_file.write_text("A=1\n", encoding="utf-8")
    runner.load_options(env_file, "http://x")
    assert "CONTAINER_API_URL" not in os.environ


def test_the_emulator_url_wins_over_the_options() -> None:
    env = runner.connector_environment(
        {"CONTAINER_API_URL": "http://wrong", "A": "1"}, "http://e", {}
    )
    assert env == {"CONTAINER_API_URL": "http://e", "A": "1", "CDE_LOCAL_RUN": "1"}


def test_run_returns_the_connector_exit_code(tmp_path: Path) -> None:
    # The connector, not the runner, knows its modes: an unknown one is its usage error (2).
    assert runner.run("no-such-mode", out_dir=tmp_path / "out") == 2


# -- sample data -----------------------------------------------------------------------------------

SAMPLE_FILES = sorted((PROJECT_ROOT / "sample_data").glob("*/*.jsonl"))


@pytest.mark.parametrize("path", SAMPLE_FILES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_sample_files_are_string_rows_with_a_hidden_column(path: Path) -> None:
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    assert len(rows) >= 10
    assert all(isinstance(v, str) for row in rows for v in row.values())
    assert all("___internal_note" in row for row in rows)


LOCAL_RUN_MODES = sorted(MODES)


@pytest.mark.parametrize("mode", LOCAL_RUN_MODES)
def test_the_readme_local_run_succeeds_for_every_mode(mode: str, tmp_path: Path) -> None:
    # `python -m cde_emulator run <mode>` with the bundled sample data and .env.example.
    out = tmp_path / "out"
    assert runner.run(mode, out_dir=out, env_file=PROJECT_ROOT / ".env.example") == 0
    assert (out / "logs.jsonl").read_text(encoding="utf-8")
