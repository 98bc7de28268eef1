"""The feed stand-in serves products as a paginated API: `next` links and numbered pages."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest
from cde_emulator import Emulator, Fault
from cde_emulator.__main__ import _serve_parser, main
from cde_emulator.rows import InvalidInputFileError
from cde_runtime.testing import EmulatorFactory

PRODUCTS = [{"id": f"P{n}", "title": f"Product {n}", "price": {"amount": n}} for n in range(5)]


def get(emu: Emulator, path: str) -> httpx.Response:
    return httpx.get(emu.url + path, timeout=5)


def ids(response: httpx.Response) -> list[str]:
    return [product["id"] for product in response.json()["products"]]


def test_next_links_lead_through_every_page_to_a_null_next(emulator: EmulatorFactory) -> None:
    emu = emulator(feed=PRODUCTS, feed_page_size=2)
    pages, url = [], "/feed"
    while url:
        page = get(emu, url).json()
        pages.append(page["products"])
        url = page["next"]
    assert pages == [PRODUCTS[0:2], PRODUCTS[2:4], PRODUCTS[4:5]]  # nested values as given
    assert emu.summary()["feed"] == {"pages": 3, "products": 5}


def test_numbered_pages_end_with_a_page_without_products(emulator: EmulatorFactory) -> None:
    emu = emulator(feed=PRODUCTS, feed_page_size=2)
    assert [ids(get(emu, f"/feed?page={n}")) for n in (1, 2, 3)] == [
        ["P0", "P1"],
        ["P2", "P3"],
        ["P4"],
    ]
    assert get(emu, "/feed?page=3").json()["next"] is None
    assert get(emu, "/feed?page=4").json() == {"products": [], "next": None}
    assert get(emu, "/feed?page=2").json()["next"] == "/feed?page=3"


@pytest.mark.parametrize(
    ("method", "path", "status", "message"),
    [
        ("GET", "/feed?page=0", 400, "page must be a whole number from 1, not '0'"),
        ("GET", "/feed?page=two", 400, "page must be a whole number from 1, not 'two'"),
        ("POST", "/feed", 405, "Method not allowed."),
        ("GET", "/feed/products", 404, "Not found."),
    ],
)
def test_bad_requests_are_answered_with_a_message(
    emulator: EmulatorFactory, method: str, path: str, status: int, message: str
) -> None:
    emu = emulator(feed=PRODUCTS)
    response = httpx.request(method, emu.url + path, timeout=5)
    assert (response.status_code, response.json()) == (status, {"message": message})
    assert emu.summary()["feed"] == {"pages": 0, "products": 0}


def test_without_a_feed_the_answer_says_how_to_serve_one(emulator: EmulatorFactory) -> None:
    response = get(emulator(), "/feed")
    assert response.status_code == 404
    assert "start the emulator with --feed FILE" in response.json()["message"]


def test_feed_faults_hit_the_nth_page_and_empty_ends_the_feed(emulator: EmulatorFactory) -> None:
    emu = emulator(
        feed=PRODUCTS,
        feed_page_size=1,
        faults=[Fault("feed", 2, "503"), Fault("feed", 3, "empty"), Fault("read", 1, "500")],
    )
    assert get(emu, "/feed").status_code == 200
    assert get(emu, "/feed?page=2").status_code == 503
    assert get(emu, "/feed?page=2").json() == {"products": [], "next": None}
    assert get(emu, "/feed?page=2").json()["products"] == [PRODUCTS[1]]  # a read fault: not ours
    assert emu.summary()["faults_fired"] == ["feed:2:503", "feed:3:empty"]


def test_feed_latency_delays_feed_pages_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    waits: list[float] = []
    monkeypatch.setattr(time, "sleep", waits.append)  # record, do not wait
    feed = tmp_path / "feed.jsonl"
    feed.write_text('{"id": "1"}\n', encoding="utf-8")
    (tmp_path / "input.jsonl").write_text('{"id": "1"}\n', encoding="utf-8")
    with Emulator(tmp_path, feed=feed, feed_latency=0.05) as emu:
        get(emu, "/input/input/next_batch")
        assert waits == []
        get(emu, "/feed")
    assert waits == [0.05]


def test_the_feed_options_of_the_command_line() -> None:
    args = _serve_parser().parse_args(
        ["--feed", "products.jsonl", "--feed-page-size", "250", "--feed-latency", "50"]
    )
    assert (args.feed, args.feed_page_size, args.feed_latency) == (
        Path("products.jsonl"),
        250,
        0.05,
    )


def test_a_broken_feed_file_stops_the_start_naming_the_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    feed = tmp_path / "feed.jsonl"
    feed.write_text('{"id": "1"}\n["not", "an", "object"]\n', encoding="utf-8")
    with pytest.raises(InvalidInputFileError, match="row 2 is not a JSON object"):
        Emulator(tmp_path, feed=feed).start()
    code = main(["--port", "0", "--feed", str(feed), "--out", str(tmp_path / "out")])
    assert code == 2
    assert capsys.readouterr().err == (
        f"python -m cde_emulator: invalid feed file {feed}: row 2 is not a JSON object\n"
    )


def test_a_missing_feed_file_is_named(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / "missing.jsonl"
    assert main(["--port", "0", "--feed", str(missing), "--out", str(tmp_path / "out")]) == 2
    message = capsys.readouterr().err
    assert message.startswith(f"python -m cde_emulator: invalid feed file {missing}: ")
    assert "No such file" in message
    assert message.count("\n") == 1  # one line, no traceback
