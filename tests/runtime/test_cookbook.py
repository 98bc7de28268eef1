"""Every recipe of the generated docs/cookbook.md runs, against a fake of its API, and is
ruff and mypy (strict) clean: the cookbook cannot drift from the toolkit."""

from __future__ import annotations

import gzip
import re
import subprocess
import sys
import types
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import pytest
from cde_emulator import Fault
from cde_emulator.fake_api import Answer, Call, FakeApi
from cde_runtime import chunked, redaction

from tests.bake import TEMPLATE

COOKBOOK = TEMPLATE / "{{cookiecutter.project_slug}}" / "docs" / "cookbook.md"
BIN = Path(sys.executable).parent


def recipes() -> dict[str, str]:
    """The cookbook's `# recipe: NAME` code blocks, by name."""
    text = COOKBOOK.read_text(encoding="utf-8")
    blocks = re.findall(r"```python\n(# recipe: ([\w-]+)\n.*?)```", text, flags=re.DOTALL)
    return {name: code for code, name in blocks}


RECIPES = recipes()


def recipe(name: str) -> Any:
    """The recipe as a module."""
    module = types.ModuleType(f"cookbook_{name.replace('-', '_')}")
    exec(compile(RECIPES[name], f"docs/cookbook.md ({name})", "exec"), module.__dict__)
    return module


@pytest.fixture
def fake() -> Iterator[Any]:
    started: list[FakeApi] = []

    def start(routes: dict[str, Any], faults: list[Fault] | None = None) -> FakeApi:
        api = FakeApi(routes, faults=faults or []).start()
        started.append(api)
        return api

    yield start
    for api in started:
        api.stop()


def test_the_cookbook_has_the_recipes_the_issue_asks_for() -> None:
    assert {"shop", "catalogue", "marketplace", "bulk-job", "xml-feed", "pricing"} <= set(RECIPES)


def test_every_recipe_is_ruff_and_mypy_strict_clean(tmp_path: Path) -> None:
    for name, code in RECIPES.items():
        (tmp_path / f"recipe_{name.replace('-', '_')}.py").write_text(code, encoding="utf-8")
    files = sorted(str(path) for path in tmp_path.glob("*.py"))
    lint = subprocess.run(
        [str(BIN / "ruff"), "check", "--no-cache", "--isolated", "--line-length", "100",
         "--select", "E,F,W,I,B,UP,SIM,RUF,S,N", *files],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert lint.returncode == 0, lint.stdout
    typed = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-incremental", *files],
        capture_output=True, text=True, check=False, cwd=tmp_path,
    )  # fmt: skip
    assert typed.returncode == 0, typed.stdout


SHOP = [
    {"id": "P1", "title": "Shirt", "variants": [{"sku": "P1-S", "size": "S"}, {"sku": "P1-M"}]},
    {"id": "P2", "title": "Mug", "variants": []},
    {"id": "P3", "title": "Cap", "variants": [{"sku": "P3-red", "color": "red"}]},
]


def test_shop_reads_link_header_pages_with_a_bearer_token_and_makes_a_row_per_variant(
    fake: Any,
) -> None:
    def products(call: Call) -> Answer:
        page = int(call.arg("page") or 1)
        link = {"Link": f'</products?page={page + 1}>; rel="next"'} if page < 3 else {}
        return Answer(200, {"products": SHOP[page - 1 : page]}, link)

    shop = fake({"GET /products": products}, [Fault("channel", 2, "429,retry-after=0")])
    rows = list(recipe("shop").shop_rows(shop.url, "shop-token"))
    assert [row["id"] for row in rows] == ["P1-S", "P1-M", "P2", "P3-red"]
    assert rows[0] == {
        "id": "P1-S",
        "title": "Shirt",
        "size": "S",
        "sku": "P1-S",
        "parent_id": "P1",
    }
    assert {call.headers["authorization"] for call in shop.calls} == {"Bearer shop-token"}


def test_catalogue_follows_the_cursor_with_the_key_in_the_query(fake: Any) -> None:
    def items(call: Call) -> Any:
        cursor = int(call.arg("cursor") or 0)
        return {
            "data": [{"id": str(cursor)}],
            "meta": {"next": str(cursor + 1) if cursor < 4 else None},
        }

    catalogue = fake({"GET /items": items})
    got = list(recipe("catalogue").catalogue_items(catalogue.url, "key-123"))
    assert [item["id"] for item in got] == ["0", "1", "2", "3", "4"]
    assert {call.arg("api_key") for call in catalogue.calls} == {"key-123"}
    assert "key-123" not in redaction.redact("GET /items?api_key=key-123")


def test_marketplace_delivers_bulks_of_50_with_oauth2_and_reports_rejections(fake: Any) -> None:
    issued: list[str] = []

    def token(call: Call) -> Any:
        assert parse_qs(call.body.decode())["grant_type"] == ["client_credentials"]
        issued.append(f"t{len(issued) + 1}")
        return {"access_token": issued[-1], "token_type": "Bearer", "expires_in": 3600}

    def bulk(call: Call) -> Answer:
        if call.headers.get("authorization") != f"Bearer {issued[-1]}" or len(issued) == 1:
            return Answer(401, {"message": "token expired"})  # the first token is revoked
        items = call.json()["items"]
        assert len(items) <= 50
        verdicts = [
            {"sku": i["sku"], "ok": bool(i["name"]), "reason": "name missing"} for i in items
        ]
        return Answer(200, {"items": verdicts})

    market = fake({"POST /oauth/token": token, "POST /v1/items/bulk": bulk})
    cookbook = recipe("marketplace")
    products = [{"id": f"P{n}", "title": "" if n % 40 == 0 else "T"} for n in range(120)]
    with cookbook.open_marketplace(market.url, "id", "secret") as channel:
        batches = chunked(products, cookbook.BULK_LIMIT)
        results = [r for rs in channel.send_all(batches, channel.upsert) for r in rs]
    assert [r.id for r in results] == [p["id"] for p in products]
    assert [r.id for r in results if not r.ok] == ["P0", "P40", "P80"]
    assert {r.message for r in results if not r.ok} == {"name missing"}
    assert len(issued) == 2  # one token renewal, however many requests met the 401 at once
    delivered = [c for c in market.calls if c.headers.get("authorization") == "Bearer t2"]
    assert len(delivered) == 3  # 120 products in bulks of 50


def test_bulk_job_is_submitted_polled_and_collected(fake: Any) -> None:
    polls: list[int] = []

    def status(call: Call) -> Any:
        polls.append(1)
        if len(polls) < 2:
            return {"status": "running"}
        return {"status": "done", "errors": [{"id": "B", "error": "price missing"}]}

    api_fake = fake({"POST /jobs": Answer(202, {"id": "7"}), "GET /jobs/{job}": status})
    from cde_runtime.outside import OutsideApi

    with OutsideApi(api_fake.url, name="Bulk API") as api:
        results = recipe("bulk-job").submit_and_collect(api, [{"id": "A"}, {"id": "B"}])
    assert [(r.id, r.ok, r.message) for r in results] == [
        ("A", True, ""),
        ("B", False, "price missing"),
    ]
    assert [call.path for call in api_fake.calls] == ["/jobs", "/jobs/7", "/jobs/7"]


def test_xml_feed_streams_gzip_xml_item_by_item(fake: Any) -> None:
    xml = (
        b"<catalog>"
        + b"".join(b"<product><id>%d</id><title>T%d</title></product>" % (n, n) for n in range(300))
        + b"</catalog>"
    )
    feed = fake(
        {"GET /feed.xml.gz": Answer(200, gzip.compress(xml), content_type="application/gzip")}
    )
    products = list(recipe("xml-feed").feed_products(f"{feed.url}/feed.xml.gz"))
    assert len(products) == 300
    assert products[7] == {"id": "7", "title": "T7"}


def test_pricing_lookups_are_retried_as_idempotent_posts(fake: Any) -> None:
    def lookup(call: Call) -> Any:
        return {"prices": [{"sku": s, "price": "9.99"} for s in call.json()["skus"]]}

    pricing_fake = fake({"POST /prices/lookup": lookup}, [Fault("channel", 1, "502")])
    cookbook = recipe("pricing")
    with cookbook.open_pricing(pricing_fake.url, "price-key") as pricing:
        pricing.backoff = 0
        assert cookbook.prices(pricing, ["A", "B"]) == {"A": "9.99", "B": "9.99"}
        assert pricing.requests == 2
    assert pricing_fake.calls[0].headers["x-api-key"] == "price-key"
