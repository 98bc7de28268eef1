{%- set options = cookiecutter.export_options -%}
{%- set text = ["input", "textarea"] -%}
{#- The channel's URL and token options, as connector/modes/export.py picks them. -#}
{%- set found = namespace(url="", token="") -%}
{%- for name, spec in options.items() if spec is mapping and not spec.get("choices") -%}
{%- if not found.url and spec.get("type", "input") in text and (name | upper | replace("-", "_")).endswith("URL") %}{% set found.url = name %}{% endif -%}
{%- if not found.token and spec.get("type", "input") == "password" %}{% set found.token = name %}{% endif -%}
{%- endfor -%}
{%- if options.get("CHANNEL_URL") is mapping and options["CHANNEL_URL"].get("type", "input") in text %}{% set found.url = "CHANNEL_URL" %}{% endif -%}
{%- if options.get("CHANNEL_TOKEN") is mapping and options["CHANNEL_TOKEN"].get("type", "input") == "password" %}{% set found.token = "CHANNEL_TOKEN" %}{% endif -%}
{%- set uses_channel_url = found.url != "" -%}
{%- set uses_channel_token = found.token != "" -%}
"""Specification of the export mode, run as the platform runs it: subprocess, emulator, channel."""

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
from connector.settings import FEEDBACK_FILE, FEEDBACK_SUCCESSES, ExportSettings
{%- else -%}
from connector.settings import ExportSettings
{%- endif %}

# More than two channel batches, so batching, ordering and mid-run failures all show.
PRODUCTS = [{"id": f"P{n}", "title": f"Product {n}", "price": "9.99"} for n in range(1050)]
REQUIRED = required_values(ExportSettings)


def configure(
    options: Mapping[str, str] | None = None, *, env: dict[str, str] | None = None, **named: str
) -> dict[str, Any]:
    """run_connector arguments: the required options, with `options` and `named` on top."""
    return pass_options({**REQUIRED, **(options or {}), **named}, env)

{%- if uses_channel_url %}


#: The option holding the channel's URL (connector/modes/export.py sends to it).
CHANNEL = {{ found.url | tojson }}
{%- if uses_channel_token %}
#: The option holding the channel's token.
TOKEN = {{ found.token | tojson }}  # noqa: S105 - an option name, not a secret
{%- endif %}


def channel_at(emu: Emulator) -> dict[str, str]:
    """The channel option pointed at the emulator's channel stand-in."""
    return {CHANNEL: f"{emu.url}/channel"}
{%- endif %}


def without_title(products: list[dict[str, str]], count: int) -> list[dict[str, str]]:
    """The products with the first `count` titles blanked: the channel rejects those."""
    return [{**p, "title": ""} if i < count else p for i, p in enumerate(products)]


def test_export_fails_with_one_line_when_the_container_api_is_unreachable(
    run_connector: ConnectorRunner,
) -> None:
    config = configure(env={"CONTAINER_API_MAX_ATTEMPTS": "1"})
    result = run_connector("export", closed_port_url(), **config)
    assert result.returncode == 1
    assert result.stderr.splitlines()[-1].startswith(
        "Run failed: Container API GET /items/input/count: no answer"
    )
    assert "Traceback" not in result.stderr


def test_export_fails_when_the_input_cannot_be_read(
    emulator: EmulatorFactory, run_connector: ConnectorRunner
) -> None:
    emu = emulator(input=PRODUCTS, faults=[Fault(kind="read", n=1, action="500")])
    result = run_connector("export", emu, **configure())
    assert result.returncode == 1
    assert "Container API GET /input/input/next_batch answered 500" in result.stderr
    assert emu.channel_calls() == []
{%- if uses_channel_url %}


def test_export_sends_every_product_to_the_channel_in_batches(
    emulator: EmulatorFactory, run_connector: ConnectorRunner
) -> None:
    from connector.channel import CHANNEL_BATCH_SIZE

    emu = emulator(input=PRODUCTS)
    result = run_connector("export", emu, **configure(channel_at(emu)))
    assert result.returncode == 0, result.stderr
    calls = emu.channel_calls()
    full, rest = divmod(len(PRODUCTS), CHANNEL_BATCH_SIZE)
    # Calls are listed as answered; with several in flight that need not be input order.
    assert sorted(call["products"] for call in calls) == [rest] + [CHANNEL_BATCH_SIZE] * full
    position = {p["id"]: n for n, p in enumerate(PRODUCTS)}
    batches = sorted((call["ids"] for call in calls), key=lambda ids: position[ids[0]])
    assert [i for ids in batches for i in ids] == [p["id"] for p in PRODUCTS]  # each sent once
    final = emu.logs()[-1]
    assert final["level"] == "success"
    assert final["message"].startswith(f"Exported {len(PRODUCTS):,} products in ")
    assert final["message"].endswith(f": {len(PRODUCTS)} accepted, 0 rejected")


def test_export_reports_rejected_products_in_the_feedback_file(
    emulator: EmulatorFactory, run_connector: ConnectorRunner
) -> None:
    emu = emulator(input=without_title(PRODUCTS, 2))
    result = run_connector("export", emu, **configure(channel_at(emu)))
    assert result.returncode == 0, result.stderr
    rejected = [
        {"id": "P0", "status": "error", "message": "title is required"},
        {"id": "P1", "status": "error", "message": "title is required"},
    ]
    feedback = emu.output_rows("feedback")
    if not FEEDBACK_FILE:
        assert feedback == []
    elif FEEDBACK_SUCCESSES:
        assert feedback[:2] == rejected
        assert len(feedback) == len(PRODUCTS)
    else:
        assert feedback == rejected


def test_export_passes_with_a_warning_when_few_products_are_rejected(
    emulator: EmulatorFactory, run_connector: ConnectorRunner
) -> None:
    from connector.modes.export import MAX_REJECTED_SHARE

    few = int(len(PRODUCTS) * MAX_REJECTED_SHARE)
    emu = emulator(input=without_title(PRODUCTS, few))
    result = run_connector("export", emu, **configure(channel_at(emu)))
    assert result.returncode == 0, result.stderr
    warnings = [line for line in emu.logs() if line["level"] == "warning"]
    assert len(warnings) == 1
    assert warnings[0]["message"].startswith(
        f"The channel rejected {few} of {len(PRODUCTS)} products"
    )


def test_export_fails_when_more_than_the_allowed_share_is_rejected(
    emulator: EmulatorFactory, run_connector: ConnectorRunner
) -> None:
    from connector.modes.export import MAX_REJECTED_SHARE

    many = int(len(PRODUCTS) * MAX_REJECTED_SHARE) + 1
    emu = emulator(input=without_title(PRODUCTS, many))
    result = run_connector("export", emu, **configure(channel_at(emu)))
    assert result.returncode == 1
    assert result.stderr.startswith(
        f"Run failed: The channel rejected {many} of {len(PRODUCTS)} products"
    )
    assert result.stderr.count("\n") == 1
    assert emu.logs()[-1]["level"] == "error"


def test_export_fails_at_once_when_the_channel_fails_and_keeps_the_feedback_so_far(
    emulator: EmulatorFactory, run_connector: ConnectorRunner
) -> None:
    from connector.channel import CHANNEL_BATCH_SIZE

    emu = emulator(
        input=without_title(PRODUCTS, 1), faults=[Fault(kind="channel", n=2, action="500")]
    )
    result = run_connector("export", emu, **configure(channel_at(emu)))
    assert result.returncode == 1
    assert result.stderr.startswith("Run failed: Channel POST /products answered 500")
    calls = emu.channel_calls()  # the failed request is not among them
    assert len(calls) < -(-len(PRODUCTS) // CHANNEL_BATCH_SIZE)  # not every batch arrived
    # The requests answered before or alongside the failure were delivered: their feedback is
    # kept, once per product, in input order.
    assert_feedback_matches(calls, emu.output_rows("feedback"))


def test_export_records_feedback_once_per_product_in_input_order_with_requests_in_flight(
    emulator: EmulatorFactory, run_connector: ConnectorRunner
) -> None:
    emu = emulator(input=PRODUCTS, channel_reject_rate=0.03)
    result = run_connector("export", emu, **configure(channel_at(emu)))
    assert result.returncode == 0, result.stderr
    calls = emu.channel_calls()
    assert sorted(i for call in calls for i in call["ids"]) == sorted(p["id"] for p in PRODUCTS)
    assert any(call["rejected_ids"] for call in calls)
    assert_feedback_matches(calls, emu.output_rows("feedback"))


def assert_feedback_matches(calls: list[dict[str, Any]], feedback: list[dict[str, Any]]) -> None:
    """Feedback names each product the channel answered for (per the feedback settings) once,
    in input order, whatever order the requests in flight were answered in."""
    position = {p["id"]: n for n, p in enumerate(PRODUCTS)}
    key = "ids" if FEEDBACK_SUCCESSES else "rejected_ids"
    expected = sorted((i for call in calls for i in call[key]), key=position.__getitem__)
    assert [row["id"] for row in feedback] == (expected if FEEDBACK_FILE else [])


def test_export_fails_when_the_feedback_write_is_rejected(
    emulator: EmulatorFactory, run_connector: ConnectorRunner
) -> None:
    emu = emulator(
        input=without_title(PRODUCTS, 1), faults=[Fault(kind="write", n=1, action="500")]
    )
    result = run_connector("export", emu, **configure(channel_at(emu)))
    if FEEDBACK_FILE:
        assert result.returncode == 1
        assert "Container API POST /output/feedback answered 500" in result.stderr
    else:
        assert result.returncode == 0, result.stderr
{%- endif %}
{%- if uses_channel_url and uses_channel_token %}


def test_export_fails_with_a_clear_message_when_the_channel_refuses_the_token(
    emulator: EmulatorFactory, run_connector: ConnectorRunner
) -> None:
    emu = emulator(input=PRODUCTS)
    config = configure({**channel_at(emu), TOKEN: "invalid"})
    result = run_connector("export", emu, **config)
    assert result.returncode == 1
    assert result.stderr == (
        f"Run failed: Channel POST /products answered 401: Invalid credentials.; check {TOKEN}\n"
    )


def test_export_never_shows_the_channel_token_in_logs_stderr_or_stdout(
    emulator: EmulatorFactory, run_connector: ConnectorRunner
) -> None:
    token = "tok-7c1d-secret"  # noqa: S105 - a test value that must not leak
    emu = emulator(input=PRODUCTS)
    # The token is also in the URL, so the failure message would print it if not redacted.
    config = configure({CHANNEL: f"{closed_port_url()}/{token}", TOKEN: token})
    result = run_connector("export", emu, **config)
    assert result.returncode == 1
    emu.summary()  # flushes the emulator's files
    logged = (emu.out_dir / "logs.jsonl").read_text()
    assert "Could not reach the channel" in result.stderr
    assert "*****" in result.stderr
    for text in (logged, result.stderr, result.stdout):
        assert token not in text
{%- endif %}
{%- if uses_channel_url %}


def test_export_keeps_the_feedback_of_delivered_products_when_a_later_read_fails(
    emulator: EmulatorFactory, run_connector: ConnectorRunner
) -> None:
    # The first 999 products are read and delivered; reading the next batch fails.
    fault = Fault(kind="read", n=2, action="500")
    emu = emulator(input=without_title(PRODUCTS, 1), faults=[fault])
    result = run_connector("export", emu, **configure(channel_at(emu)))
    assert result.returncode == 1
    assert "Container API GET /input/input/next_batch answered 500" in result.stderr
    delivered = [product_id for call in emu.channel_calls() for product_id in call["ids"]]
    assert delivered
    if FEEDBACK_FILE:
        feedback = {row["id"] for row in emu.output_rows("feedback")}
        assert "P0" in feedback  # rejected, so reported even without success rows
        if FEEDBACK_SUCCESSES:
            assert feedback == set(delivered)


def test_export_fails_when_the_input_ends_before_the_platforms_count(
    emulator: EmulatorFactory, run_connector: ConnectorRunner
) -> None:
    emu = emulator(input=PRODUCTS, faults=[Fault(kind="read", n=1, action="204")])
    result = run_connector("export", emu, **configure(channel_at(emu)))
    assert result.returncode == 1
    assert "ended after 0 rows but the platform counts 1050" in result.stderr


def test_export_sends_a_repeated_id_once_and_counts_the_repeat(
    emulator: EmulatorFactory, run_connector: ConnectorRunner
) -> None:
    # Two input rows with one id: the channel would keep one and the summary would say
    # nothing. The rule (docs/runtime.md): the first is sent, the repeat skipped and counted.
    repeated = [PRODUCTS[0], {**PRODUCTS[0], "title": "again"}, *PRODUCTS[1:3]]
    emu = emulator(input=repeated)
    result = run_connector("export", emu, **configure(channel_at(emu)))
    assert result.returncode == 0, result.stderr
    sent = [i for call in emu.channel_calls() for i in call["ids"]]
    assert sent == ["P0", "P1", "P2"]
    feedback_ids = [row["id"] for row in emu.output_rows("feedback")]
    assert len(feedback_ids) == len(set(feedback_ids))  # one feedback row per product at most
    assert emu.logs()[-1]["message"].endswith("3 accepted, 0 rejected, 1 skipped as repeated ids")
{%- endif %}
