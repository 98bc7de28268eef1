"""The channel stand-in answers like a product API with per-item results, and records calls."""

from __future__ import annotations

import gc
import json
import ssl
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from conftest import PROJECT_ROOT, EmulatorFactory

from emulator import Emulator, Fault
from emulator.channel import rejected_by_rate

Connect = Callable[[Emulator], httpx.Client]
# One TLS context for every client: httpx builds a new one per client otherwise (~0.25 s each).
TLS = ssl.create_default_context()
EXPORT_SAMPLES = [PROJECT_ROOT / "sample_data" / name for name in [{% if cookiecutter.mode_export %}"export"{% if cookiecutter.mode_export_delta %}, {% endif %}{% endif %}{% if cookiecutter.mode_export_delta %}"export_delta"{% endif %}]]


@pytest.fixture
def connect() -> Iterator[Connect]:
    """Make an HTTP client for an emulator's channel; closed at teardown."""
    clients: list[httpx.Client] = []

    def make(emu: Emulator) -> httpx.Client:
        clients.append(httpx.Client(base_url=f"{emu.url}/channel", timeout=5, verify=TLS))
        return clients[-1]

    yield make
    for client in clients:
        client.close()


@pytest.fixture
def channel(emulator: EmulatorFactory, connect: Connect) -> httpx.Client:
    return connect(emulator())


def test_products_with_a_title_are_accepted(channel: httpx.Client) -> None:
    response = channel.post("/products", json={"products": [{"id": "1", "title": "Mug"}]})
    assert (response.status_code, response.json()) == (
        200,
        {"results": [{"id": "1", "status": "ok"}]},
    )


@pytest.mark.parametrize(
    "product", [{"id": "1"}, {"id": "1", "title": ""}, {"id": "1", "title": " "}]
)
def test_products_without_a_title_are_rejected(
    channel: httpx.Client, product: dict[str, str]
) -> None:
    result = channel.post("/products", json={"products": [product]}).json()["results"][0]
    assert result == {"id": "1", "status": "error", "message": "title is required"}


def test_deletes_answer_one_result_per_id(channel: httpx.Client) -> None:
    response = channel.post("/products/delete", json={"ids": ["1", "2"]})
    assert response.json() == {
        "results": [{"id": "1", "status": "ok"}, {"id": "2", "status": "ok"}]
    }


@pytest.mark.parametrize(
    ("path", "body"),
    [("/products", {"products": "x"}), ("/products", {"products": [1]}), ("/products/delete", {})],
)
def test_malformed_bodies_are_400(channel: httpx.Client, path: str, body: object) -> None:
    assert channel.post(path, json=body).status_code == 400


def test_unknown_channel_path_is_404(channel: httpx.Client) -> None:
    assert channel.post("/orders", json={}).status_code == 404


def test_reject_rate_rejects_the_same_ids_every_run(
    emulator: EmulatorFactory, connect: Connect
) -> None:
    products = [{"id": str(i), "title": "t"} for i in range(50)]
    runs = [
        connect(emulator(channel_reject_rate=0.3)).post("/products", json={"products": products})
        for _ in range(2)
    ]
    first, second = (r.json()["results"] for r in runs)
    assert first == second
    assert {r["message"] for r in first if r["status"] == "error"} == {"rejected by channel"}


def test_reject_rate_is_roughly_the_share_of_rejected_ids() -> None:
    rejected = sum(rejected_by_rate(i, 0.2) for i in range(10_000))
    assert 1_800 < rejected < 2_200


@pytest.mark.parametrize(("rate", "expected"), [(0.0, 0), (1.0, 100)])
def test_reject_rate_bounds_reject_none_or_all(rate: float, expected: int) -> None:
    assert sum(rejected_by_rate(i, rate) for i in range(100)) == expected


def test_bearer_invalid_is_401(channel: httpx.Client) -> None:
    response = channel.post(
        "/products",
        json={"products": [{"id": "1", "title": "t"}]},
        headers={"Authorization": "Bearer invalid"},
    )
    assert response.status_code == 401


def test_any_other_token_is_accepted(channel: httpx.Client) -> None:
    response = channel.post(
        "/products",
        json={"products": [{"id": "1", "title": "t"}]},
        headers={"Authorization": "Bearer s3cr3t"},
    )
    assert response.status_code == 200


def test_calls_are_recorded_with_counts_and_ids(
    emulator: EmulatorFactory, connect: Connect
) -> None:
    emu = emulator()
    products = [{"id": "1", "title": "t"}, {"id": "2", "title": ""}]
    connect(emu).post("/products", json={"products": products})
    [call] = emu.channel_calls()
    assert (call["endpoint"], call["products"], call["rejected"], call["rejected_ids"]) == (
        "products",
        2,
        1,
        ["2"],
    )


def test_recorded_calls_never_contain_the_token(
    emulator: EmulatorFactory, connect: Connect
) -> None:
    emu = emulator()
    connect(emu).post(
        "/products",
        json={"products": [{"id": "1", "title": "t"}]},
        headers={"Authorization": "Bearer s3cr3t-token"},
    )
    emu.summary()  # flushes the record files
    assert "s3cr3t-token" not in (emu.out_dir / "channel.jsonl").read_text(encoding="utf-8")


def test_channel_faults_hit_the_nth_channel_call(
    emulator: EmulatorFactory, connect: Connect
) -> None:
    channel = connect(emulator(faults=[Fault("channel", 1, "429")]))
    body = {"products": [{"id": "1", "title": "t"}]}
    assert [channel.post("/products", json=body).status_code for _ in "ab"] == [429, 200]


def test_summary_counts_channel_calls(emulator: EmulatorFactory, connect: Connect) -> None:
    emu = emulator()
    channel = connect(emu)
    channel.post("/products", json={"products": [{"id": "1", "title": ""}]})
    channel.post("/products/delete", json={"ids": ["9"]})
    assert emu.summary()["channel"] == {"calls": 2, "products": 1, "deleted": 1, "rejected": 1}


@pytest.mark.parametrize("folder", EXPORT_SAMPLES, ids=lambda folder: folder.name)
def test_export_samples_show_rejections_yet_pass_the_failure_policy(folder: Path) -> None:
    # A local run should show feedback rows for rejected products and still succeed.
    from connector.channel import MAX_REJECTED_SHARE

    products = [
        json.loads(line)
        for name in ("input.jsonl", "new.jsonl", "modified.jsonl")
        if (folder / name).is_file()
        for line in (folder / name).read_text(encoding="utf-8").splitlines()
    ]
    rejected = sum(1 for p in products if not p["title"])
    assert 0 < rejected <= MAX_REJECTED_SHARE * len(products)


# -- The export destination client (connector/channel.py), against httpx.MockTransport ---------

from connector.channel import (  # noqa: E402 - this section tests the connector's side
    MAX_REJECTED_SHARE,
    Channel,
    ChannelError,
    ExportReport,
    Result,
)
from connector.container_api import ContainerApi  # noqa: E402
from connector.errors import RunFailed  # noqa: E402

Reply = Callable[[httpx.Request], httpx.Response]


def channel_client(*replies: Reply, token: str = "") -> tuple[Channel, list[httpx.Request]]:
    """A Channel whose requests get `replies` in turn (the last one repeats); no network."""
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


def test_channel_error_fails_the_run() -> None:
    assert issubclass(ChannelError, RunFailed)


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


def report_of(accepted: int, rejected: int) -> ExportReport:
    """An ExportReport without a feedback file (so it never calls the Container API)."""
    report = ExportReport(ContainerApi("http://unused.test"), feedback_file=False, successes=False)
    report.record([Result(str(n), ok=True) for n in range(accepted)])
    report.record([Result(f"r{n}", ok=False, message="bad") for n in range(rejected)])
    return report


def test_export_policy_passes_when_nothing_is_rejected() -> None:
    report_of(100, 0).check()


def test_export_policy_passes_at_exactly_the_allowed_share() -> None:
    rejected = round(1000 * MAX_REJECTED_SHARE)
    report_of(1000 - rejected, rejected).check()


def test_export_policy_fails_above_the_allowed_share_quoting_examples() -> None:
    rejected = round(1000 * MAX_REJECTED_SHARE) + 1
    with pytest.raises(
        RunFailed, match=rf"rejected {rejected} of 1000 products.*e\.g\. r0 \(bad\)"
    ):
        report_of(1000 - rejected, rejected).check()


def test_export_report_summarises_the_counts() -> None:
    report = report_of(7, 2)
    report.skip(5)
    assert report.summary() == "7 accepted, 2 rejected, 5 skipped as unchanged"


def test_channel_batches_are_freed_without_waiting_for_the_garbage_collector() -> None:
    # Memory must not grow with the export: no request or response may outlive its batch.
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
