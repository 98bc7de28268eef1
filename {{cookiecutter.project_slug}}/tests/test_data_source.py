{%- set options = cookiecutter.data_source_options -%}
{%- set text = ["input", "textarea"] -%}
{#- The example code uses a default option only while it is declared with a type the code can use. -#}
{%- set uses_name = options.get("NAME") is mapping and options["NAME"].get("type", "input") in text -%}
{%- set uses_should_fail = options.get("SHOULD_FAIL") is mapping and options["SHOULD_FAIL"].get("type", "input") in ["checkbox"] -%}
{#- The feed's URL option, as connector/modes/data_source.py picks it. -#}
{%- set found = namespace(url="", token="") -%}
{%- for name, spec in options.items() if spec is mapping and not spec.get("choices") -%}
{%- if not found.url and spec.get("type", "input") in text and (name | upper | replace("-", "_")).endswith("URL") %}{% set found.url = name %}{% endif -%}
{%- if not found.token and spec.get("type", "input") == "password" %}{% set found.token = name %}{% endif -%}
{%- endfor -%}
{%- if options.get("FEED_URL") is mapping and options["FEED_URL"].get("type", "input") in text %}{% set found.url = "FEED_URL" %}{% endif -%}
{%- set uses_feed_url = found.url != "" -%}
"""Specification of the data-source mode, run as the platform runs it (subprocess + emulator)."""

from __future__ import annotations

import json
from collections.abc import Mapping
{%- if uses_feed_url %}
from pathlib import Path
{%- endif %}
from typing import Any

import pytest
from cde_emulator import Fault
from cde_runtime.testing import (
    PROJECT_ROOT,
{%- if uses_feed_url %}
    Answer,
    Call,
{%- endif %}
    ConnectorRunner,
    EmulatorFactory,
{%- if uses_feed_url %}
    FakeApiFactory,
{%- endif %}
    closed_port_url,
    pass_options,
    required_values,
)

from connector.settings import DataSourceSettings

# The example handler's sample feed, named here rather than imported: a suite whose handler was
# replaced still collects (only the tests of the example then fail, each on its own).
SAMPLE_FEED = PROJECT_ROOT / "connector" / "modes" / "data_source.jsonl"


def sample_ids() -> list[Any]:
    """The sample feed's ids, read when a test needs them (not at import)."""
    return [json.loads(line)["id"] for line in SAMPLE_FEED.read_text().splitlines() if line]


REQUIRED = required_values(DataSourceSettings)
{%- if uses_name %}
REQUIRED["NAME"] = "Ada"
{%- endif %}
{%- if uses_should_fail %}
REQUIRED["SHOULD_FAIL"] = "0"
{%- endif %}
{%- if uses_feed_url %}
# The feed's URL option ({{ found.url }}) also takes a file path: point it at the sample feed.
FEED = {{ found.url | tojson }}
REQUIRED[FEED] = str(SAMPLE_FEED)
{%- if found.token %}
#: The option holding the product API's token (connector/modes/data_source.py, feed_auth).
TOKEN = {{ found.token | tojson }}  # noqa: S105 - an option name, not a secret
{%- endif %}
{%- endif %}


def configure(
    options: Mapping[str, str] | None = None, *, env: dict[str, str] | None = None, **named: str
) -> dict[str, Any]:
    """run_connector arguments: the required options, with `options` and `named` on top."""
    return pass_options({**REQUIRED, **(options or {}), **named}, env)


def test_data_source_imports_the_bundled_sample_feed(
    emulator: EmulatorFactory, run_connector: ConnectorRunner
) -> None:
    emu = emulator()
    result = run_connector("data-source", emu, **configure())
    assert result.returncode == 0, result.stderr
    assert [row["id"] for row in emu.output_rows()] == sample_ids()
    assert len(sample_ids()) == 25
    final = emu.logs()[-1]
    assert final["level"] == "success"
    assert final["message"].startswith("Imported 25 products in ")
{%- if uses_name %}


def test_data_source_greets_name_in_a_success_log(
    emulator: EmulatorFactory, run_connector: ConnectorRunner
) -> None:
    emu = emulator()
    result = run_connector("data-source", emu, **configure(NAME="Grace"))
    assert result.returncode == 0, result.stderr
    assert emu.logs()[0] == {
        "level": "success",
        "message": "Hello Grace! Starting the import.",
        "context": {},
    }
{%- endif %}
{%- if uses_should_fail %}


def test_data_source_fails_on_purpose_when_should_fail_is_checked(
    emulator: EmulatorFactory, run_connector: ConnectorRunner
) -> None:
    emu = emulator()
    result = run_connector("data-source", emu, **configure(SHOULD_FAIL="1"))
    assert result.returncode == 1
    assert result.stderr == "Run failed: SHOULD_FAIL is checked, so this run fails on purpose.\n"
    assert emu.logs()[-1]["level"] == "error"
    assert emu.output_rows() == []
{%- endif %}


def test_the_feed_is_named_in_logs_without_credentials_or_query() -> None:
    from connector.modes.data_source import describe_feed

    url = "https://user:secret@api.example.com:8443/products?api_key=abc"
    assert describe_feed(url) == "https://api.example.com:8443/products"


def test_data_source_logs_progress_not_one_line_per_product(
    emulator: EmulatorFactory, run_connector: ConnectorRunner
) -> None:
    emu = emulator()
    result = run_connector("data-source", emu, **configure())
    assert result.returncode == 0, result.stderr
    assert len(emu.logs()) <= 5


def test_data_source_fails_with_one_line_when_the_container_api_is_unreachable(
    run_connector: ConnectorRunner,
) -> None:
    config = configure(env={"CONTAINER_API_MAX_ATTEMPTS": "1"})
    result = run_connector("data-source", closed_port_url(), **config)
    assert result.returncode == 1
    last = result.stderr.splitlines()[-1]
    assert last.startswith("Run failed: Container API POST /output/output")
    assert "ConnectError" in last
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("action", "expected"),
    [
        ("500", "answered 500"),
        ("400", "answered 400"),
        ("404", "answered 404"),
        ("drop", "Container API POST /output/output"),
        ("malformed", "answered 200"),
    ],
)
def test_data_source_fails_when_a_write_is_rejected(
    action: str, expected: str, emulator: EmulatorFactory, run_connector: ConnectorRunner
) -> None:
    emu = emulator(faults=[Fault(kind="write", n=1, action=action)])
    result = run_connector("data-source", emu, **configure())
    assert result.returncode == 1
    assert result.stderr.startswith("Run failed: ")
    assert expected in result.stderr
    assert result.stderr.count("\n") == 1
    assert emu.logs()[-1]["level"] == "error"
{%- if uses_feed_url %}


def jsonl(path: Path, count: int) -> Path:
    lines = (json.dumps({"id": f"P{n}", "title": f"Product {n}"}) + "\n" for n in range(count))
    path.write_text("".join(lines), encoding="utf-8")
    return path


# The emulator's feed stand-in (`emu.url + "/feed"`) pages these as a product API would.
PRODUCTS = [{"id": f"P{n}", "title": f"Product {n}"} for n in range(18)]
NEXT_LINKS = "/feed"  # each page links to the next one
NUMBERED = "/feed?page={page}"  # pages 1, 2, 3, ... until one has no products


@pytest.mark.parametrize("path", [NEXT_LINKS, NUMBERED])
def test_data_source_imports_every_page_of_a_product_api_in_order(
    path: str, emulator: EmulatorFactory, run_connector: ConnectorRunner
) -> None:
    emu = emulator(feed=PRODUCTS, feed_page_size=2)  # more pages than are fetched at once
    result = run_connector("data-source", emu, **configure({FEED: emu.url + path}))
    assert result.returncode == 0, result.stderr
    assert emu.output_rows() == PRODUCTS
    assert emu.summary()["feed"]["products"] == len(PRODUCTS)


@pytest.mark.parametrize("path", [NEXT_LINKS, NUMBERED])
def test_data_source_fails_when_a_page_of_the_product_api_fails(
    path: str, emulator: EmulatorFactory, run_connector: ConnectorRunner
) -> None:
    emu = emulator(feed=PRODUCTS, feed_page_size=2, faults=[Fault("feed", 5, "500")])
    result = run_connector("data-source", emu, **configure({FEED: emu.url + path}))
    assert result.returncode == 1
    assert result.stderr == (
        f"Run failed: The product feed GET {emu.url}/feed answered 500: Injected fault\n"
    )
    assert emu.output_rows() == []  # the pages before it were still buffered: dropped


def test_data_source_fails_when_a_feed_page_is_not_a_product_page(
    emulator: EmulatorFactory, run_connector: ConnectorRunner
) -> None:
    emu = emulator(feed=PRODUCTS, feed_page_size=2, faults=[Fault("feed", 2, "null")])
    result = run_connector("data-source", emu, **configure({FEED: emu.url + NEXT_LINKS}))
    assert result.returncode == 1
    assert 'has no list of items at "products"' in result.stderr


def test_a_fake_product_api_with_link_header_pages_worked_example(
    fake_api: FakeApiFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """How to test your feed code against a fake of your API (the `fake_api` fixture): here an
    API whose pages link up with `Link: <...>; rel="next"` headers, read with one line changed
    (FEED_PAGINATION = LinkHeader()). The handler runs in this process, against a real local
    HTTP server; `shop.calls` shows every request it made."""
    from cde_runtime.outside import LinkHeader

    from connector.modes import data_source

    def products(call: Call) -> Answer:
        page = int(call.arg("page") or 1)
        more = page * 5 < len(PRODUCTS)
        link = {"Link": f'</products?page={page + 1}>; rel="next"'} if more else {}
        return Answer(200, {"products": PRODUCTS[(page - 1) * 5 : page * 5]}, link)

    shop = fake_api({"GET /products": products})
    monkeypatch.setattr(data_source, "FEED_PAGINATION", LinkHeader())
    options = {**REQUIRED, FEED: f"{shop.url}/products"{% if found.token %}, TOKEN: "shop-token"{% endif %}}
    settings = DataSourceSettings.model_validate(options)  # the options, without the environment
    pages = list(data_source.read_api_pages(f"{shop.url}/products", settings))
    assert [product for page in pages for product in page] == PRODUCTS
    assert [call.arg("page") for call in shop.calls] == [None, "2", "3", "4"]
{%- if found.token %}
    assert {call.headers["authorization"] for call in shop.calls} == {"Bearer shop-token"}
{%- endif %}


def test_data_source_stops_reading_the_feed_when_a_write_fails(
    emulator: EmulatorFactory, run_connector: ConnectorRunner
) -> None:
    products = [{"id": f"P{n}", "title": "T"} for n in range(2500)]
    emu = emulator(feed=products, faults=[Fault("write", 1, "500")])
    result = run_connector("data-source", emu, **configure({FEED: emu.url + NEXT_LINKS}))
    assert result.returncode == 1
    assert "Container API POST /output/output answered 500" in result.stderr
    assert emu.summary()["feed"]["pages"] < 25  # not read to the end after the failure


def test_data_source_imports_a_json_lines_file_in_batches(
    tmp_path: Path, emulator: EmulatorFactory, run_connector: ConnectorRunner
) -> None:
    feed = jsonl(tmp_path / "feed.jsonl", 2500)
    emu = emulator()
    result = run_connector("data-source", emu, **configure({FEED: str(feed)}))
    assert result.returncode == 0, result.stderr
    rows = emu.output_rows()
    assert len(rows) == 2500
    assert rows[-1] == {"id": "P2499", "title": "Product 2499"}


def test_data_source_accepts_a_file_url(
    tmp_path: Path, emulator: EmulatorFactory, run_connector: ConnectorRunner
) -> None:
    feed = jsonl(tmp_path / "feed.jsonl", 3)
    emu = emulator()
    result = run_connector("data-source", emu, **configure({FEED: feed.as_uri()}))
    assert result.returncode == 0, result.stderr
    assert len(emu.output_rows()) == 3


def test_data_source_names_the_line_of_a_broken_json_lines_file(
    tmp_path: Path, emulator: EmulatorFactory, run_connector: ConnectorRunner
) -> None:
    feed = tmp_path / "feed.jsonl"
    feed.write_text('{"id": "1"}\n{"id": \n', encoding="utf-8")
    emu = emulator()
    result = run_connector("data-source", emu, **configure({FEED: str(feed)}))
    assert result.returncode == 1
    assert f"Line 2 of {feed} is not valid JSON" in result.stderr


def test_data_source_fails_when_a_write_is_rejected_mid_run(
    tmp_path: Path, emulator: EmulatorFactory, run_connector: ConnectorRunner
) -> None:
    feed = jsonl(tmp_path / "feed.jsonl", 2500)
    emu = emulator(faults=[Fault(kind="write", n=2, action="500")])
    result = run_connector("data-source", emu, **configure({FEED: str(feed)}))
    assert result.returncode == 1
    assert "Container API POST /output/output answered 500" in result.stderr
    assert len(emu.output_rows()) == 999  # the batch before the failure, nothing after it
{%- endif %}


def test_data_source_never_imports_the_sample_feed_in_production(
    emulator: EmulatorFactory, run_connector: ConnectorRunner
) -> None:
    emu = emulator()
    options = {{ '{name: value for name, value in REQUIRED.items() if name != FEED}' if uses_feed_url else "REQUIRED" }}
    # CDE_LOCAL_RUN=0: what the platform's environment looks like (the variable is not set there).
    result = run_connector("data-source", emu, **pass_options(options, {"CDE_LOCAL_RUN": "0"}))
    assert result.returncode == 1
    assert emu.output_rows() == []
{%- if uses_feed_url and options[found.url].get("required") %}
    assert "option {{ found.url }} is required but not set" in result.stderr
{%- else %}
    assert result.stderr.startswith("Run failed: No product feed is set")
    assert "only imported on local runs" in result.stderr
{%- endif %}
