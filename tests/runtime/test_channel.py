"""The channel stand-in answers like a product API with per-item results, and records calls."""

from __future__ import annotations

import json
import ssl
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from cde_emulator import Emulator, Fault
from cde_emulator.channel_stand_in import rejected_by_rate
from cde_runtime.testing import EmulatorFactory

from tests.runtime.conftest import PROJECT_ROOT

Connect = Callable[[Emulator], httpx.Client]
# One TLS context for every client: httpx builds a new one per client otherwise (~0.25 s each).
TLS = ssl.create_default_context()
EXPORT_SAMPLES = [PROJECT_ROOT / "sample_data" / name for name in ["export", "export_delta"]]


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
    from cde_runtime.channel_client import MAX_REJECTED_SHARE

    products = [
        json.loads(line)
        for name in ("input.jsonl", "new.jsonl", "modified.jsonl")
        if (folder / name).is_file()
        for line in (folder / name).read_text(encoding="utf-8").splitlines()
    ]
    rejected = sum(1 for p in products if not p["title"])
    assert 0 < rejected <= MAX_REJECTED_SHARE * len(products)
