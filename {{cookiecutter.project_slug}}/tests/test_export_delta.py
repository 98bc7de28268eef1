{%- set options = cookiecutter.export_delta_options -%}
{%- set text = ["input", "textarea"] -%}
{#- The channel's URL and token options, as connector/modes/export_delta.py picks them. -#}
{%- set found = namespace(url="", token="") -%}
{%- for name, spec in options.items() if spec is mapping and not spec.get("choices") -%}
{%- if not found.url and spec.get("type", "input") in text and (name | upper | replace("-", "_")).endswith("URL") %}{% set found.url = name %}{% endif -%}
{%- if not found.token and spec.get("type", "input") == "password" %}{% set found.token = name %}{% endif -%}
{%- endfor -%}
{%- if options.get("CHANNEL_URL") is mapping and options["CHANNEL_URL"].get("type", "input") in text %}{% set found.url = "CHANNEL_URL" %}{% endif -%}
{%- if options.get("CHANNEL_TOKEN") is mapping and options["CHANNEL_TOKEN"].get("type", "input") == "password" %}{% set found.token = "CHANNEL_TOKEN" %}{% endif -%}
{%- set uses_channel_url = found.url != "" -%}
{%- set uses_channel_token = found.token != "" -%}
"""Specification of the export-delta mode, run as the platform runs it: subprocess, emulator."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from cde_emulator import {% if uses_channel_url %}Emulator, {% endif %}Fault
from cde_runtime.testing import (
    ConnectorRunner,
    EmulatorFactory,
    closed_port_url,
    pass_options,
    required_values,
)

{% if uses_channel_url -%}
{% endif -%}
from connector.settings import (
    DELTA_KEY,
{%- if uses_channel_url %}
    FEEDBACK_FILE,
{%- endif %}
    ExportDeltaSettings,
)


def products(prefix: str, count: int) -> list[dict[str, str]]:
    return [
        {DELTA_KEY: f"{prefix}{n}", "id": f"{prefix}{n}", "title": f"T{n}"} for n in range(count)
    ]


NEW, MODIFIED, UNCHANGED, DELETED = (
    products("N", 120),
    products("M", 30),
    products("U", 40),
    products("D", 20),
)
REQUIRED = required_values(ExportDeltaSettings)


def configure(
    options: Mapping[str, str] | None = None, *, env: dict[str, str] | None = None, **named: str
) -> dict[str, Any]:
    """run_connector arguments: the required options, with `options` and `named` on top."""
    return pass_options({**REQUIRED, **(options or {}), **named}, env)

{%- if uses_channel_url %}


#: The option holding the channel's URL (connector/modes/export_delta.py sends to it).
CHANNEL = {{ found.url | tojson }}
{%- if uses_channel_token %}
#: The option holding the channel's token.
TOKEN = {{ found.token | tojson }}  # noqa: S105 - an option name, not a secret
{%- endif %}


def channel_at(emu: Emulator) -> dict[str, str]:
    """The channel option pointed at the emulator's channel stand-in."""
    return {CHANNEL: f"{emu.url}/channel"}
{%- endif %}


def test_export_delta_fails_with_one_line_when_the_container_api_is_unreachable(
    run_connector: ConnectorRunner,
) -> None:
    config = configure(env={"CONTAINER_API_MAX_ATTEMPTS": "1"})
    result = run_connector("export-delta", closed_port_url(), **config)
    assert result.returncode == 1
    assert result.stderr.splitlines()[-1].startswith(
        "Run failed: Container API GET /items/new/count: no answer"
    )


def test_export_delta_fails_when_a_stream_cannot_be_read(
    emulator: EmulatorFactory, run_connector: ConnectorRunner
) -> None:
    emu = emulator(new=NEW, faults=[Fault(kind="read", n=1, action="500")])
    result = run_connector("export-delta", emu, **configure())
    assert result.returncode == 1
    assert "Container API GET /input/new/next_batch answered 500" in result.stderr
{%- if uses_channel_url %}


def test_export_delta_upserts_new_and_modified_deletes_deleted_and_skips_unchanged(
    emulator: EmulatorFactory, run_connector: ConnectorRunner
) -> None:
    emu = emulator(new=NEW, modified=MODIFIED, unchanged=UNCHANGED, deleted=DELETED)
    result = run_connector("export-delta", emu, **configure(channel_at(emu)))
    assert result.returncode == 0, result.stderr
    calls = emu.channel_calls()
    upserted = [i for c in calls if c["endpoint"] == "products" for i in c["ids"]]
    deleted = [i for c in calls if c["endpoint"] == "products/delete" for i in c["ids"]]
    assert upserted == [p["id"] for p in NEW + MODIFIED]
    assert deleted == [p[DELTA_KEY] for p in DELETED]
    assert emu.summary()["rows_served"].get("unchanged", 0) == 0  # counted, never read
    assert emu.logs()[-1]["message"].endswith("170 accepted, 0 rejected, 40 skipped as unchanged")


def test_export_delta_treats_streams_the_run_does_not_provide_as_empty(
    emulator: EmulatorFactory, run_connector: ConnectorRunner
) -> None:
    emu = emulator(modified=MODIFIED)
    result = run_connector("export-delta", emu, **configure(channel_at(emu)))
    assert result.returncode == 0, result.stderr
    assert [c["endpoint"] for c in emu.channel_calls()] == ["products"]
    assert emu.logs()[-1]["level"] == "success"


def test_export_delta_reports_rejected_products_in_the_feedback_file(
    emulator: EmulatorFactory, run_connector: ConnectorRunner
) -> None:
    modified = [{**MODIFIED[0], "title": ""}, *MODIFIED[1:]]
    emu = emulator(new=NEW, modified=modified)
    result = run_connector("export-delta", emu, **configure(channel_at(emu)))
    assert result.returncode == 0, result.stderr
    errors = [row for row in emu.output_rows("feedback") if row["status"] == "error"]
    expected = [{"id": "M0", "status": "error", "message": "title is required"}]
    assert errors == (expected if FEEDBACK_FILE else [])


def test_export_delta_never_lets_a_delete_overtake_an_upsert_of_the_same_product(
    emulator: EmulatorFactory, run_connector: ConnectorRunner
) -> None:
    from connector.channel import CHANNEL_BATCH_SIZE

    # Streams of several channel batches each, so requests are in flight together, and ids that
    # are both upserted and deleted in one run (a feed can list a product in more than one).
    new = products("N", 3 * CHANNEL_BATCH_SIZE + 1)
    deleted = new[::7] + products("D", 2 * CHANNEL_BATCH_SIZE)
    emu = emulator(new=new, modified=MODIFIED, deleted=deleted)
    result = run_connector("export-delta", emu, **configure(channel_at(emu)))
    assert result.returncode == 0, result.stderr
    endpoints = [c["endpoint"] for c in emu.channel_calls()]  # in the order they were answered
    upserts = endpoints.count("products")
    assert upserts == -(-len(new) // CHANNEL_BATCH_SIZE) + 1
    # Every upsert was answered before the first delete arrived: deletes come last.
    assert endpoints == ["products"] * upserts + ["products/delete"] * (len(endpoints) - upserts)


def test_export_delta_fails_on_a_404_that_is_not_the_platforms_not_provided(
    emulator: EmulatorFactory, run_connector: ConnectorRunner
) -> None:
    # A 404 from anything but the platform (here the emulator's injected fault, whose body is
    # not "Requested file not provided.") must not pass for "no new products this run".
    emu = emulator(new=NEW, faults=[Fault(kind="count", n=1, action="404")])
    result = run_connector("export-delta", emu, **configure(channel_at(emu)))
    assert result.returncode == 1
    assert "GET /items/new/count answered 404" in result.stderr.splitlines()[-1]
    assert emu.channel_calls() == []


def test_export_delta_passes_when_only_the_summary_count_fails(
    emulator: EmulatorFactory, run_connector: ConnectorRunner
) -> None:
    # new, modified and deleted are counted when read; the 4th count is `unchanged`, only
    # for the summary: every product was delivered, so its failure costs the figure only.
    emu = emulator(
        new=NEW,
        modified=MODIFIED,
        unchanged=UNCHANGED,
        deleted=DELETED,
        faults=[Fault(kind="count", n=4, action="500")],
    )
    result = run_connector("export-delta", emu, **configure(channel_at(emu)))
    assert result.returncode == 0, result.stderr
    warnings = [line["message"] for line in emu.logs() if line["level"] == "warning"]
    assert any(w.startswith("Could not count the unchanged products") for w in warnings)
    assert emu.logs()[-1]["message"].endswith("170 accepted, 0 rejected")
{%- endif %}
