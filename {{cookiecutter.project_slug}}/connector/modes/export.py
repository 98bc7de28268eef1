{%- set options = cookiecutter.export_options -%}
{%- set text = ["input", "textarea"] -%}
{#- The channel's URL: CHANNEL_URL, else the first text option named ...URL; its token:
    CHANNEL_TOKEN, else the first password option (tests/test_export.py picks them alike). -#}
{%- set found = namespace(url="", token="") -%}
{%- for name, spec in options.items() if spec is mapping and not spec.get("choices") -%}
{%- if not found.url and spec.get("type", "input") in text and (name | upper | replace("-", "_")).endswith("URL") %}{% set found.url = name %}{% endif -%}
{%- if not found.token and spec.get("type", "input") == "password" %}{% set found.token = name %}{% endif -%}
{%- endfor -%}
{%- if options.get("CHANNEL_URL") is mapping and options["CHANNEL_URL"].get("type", "input") in text %}{% set found.url = "CHANNEL_URL" %}{% endif -%}
{%- if options.get("CHANNEL_TOKEN") is mapping and options["CHANNEL_TOKEN"].get("type", "input") == "password" %}{% set found.token = "CHANNEL_TOKEN" %}{% endif -%}
{%- set uses_channel_url = found.url != "" -%}
{%- set uses_channel_token = found.token != "" -%}
"""Export: send every product to the channel and report the outcome per product.

The story of a run: open the channel, read the input in batches, map and send each batch,
record the channel's verdict per product in the feedback file, summarise, and apply the
failure policy documented in connector/channel.py (the channel failing ends the run at once;
rejected products fail it only above MAX_REJECTED_SHARE).

Reading is done ahead in a background thread, and up to CHANNEL_CONCURRENCY channel requests
are in flight at once (`channel.send_all`); results still come back in input order, so the
feedback file lists each product once, in the input's order.
"""

from __future__ import annotations

import logging
from typing import Any

import httpx
from cde_runtime import SUCCESS, ContainerApi, ExportReport, Progress, Result, chunked
from cde_runtime.outside import {% if uses_channel_token %}Bearer, {% endif %}Quota

from connector.channel import (
    CHANNEL_BATCH_SIZE,
    CHANNEL_CONCURRENCY,
    Channel,
)
from connector.settings import FEEDBACK_FILE, FEEDBACK_SUCCESSES, ExportSettings

log = logging.getLogger(__name__)

# This mode's channel policy (kept here, not in connector/channel.py, so a channel you rewrote
# needs none of them): the request quota shared by every request in flight, e.g.
# Quota.per_second(20) or Quota.per_minute(600) (None: as fast as CHANNEL_CONCURRENCY allows);
# seconds to wait for the channel (connecting, and each answer); and the failure policy: the run
# fails when more than this share of the products sent is rejected (0.05 = 5 %), below it the
# rejected products are reported in feedback and warned about.
CHANNEL_QUOTA: Quota | None = None
CHANNEL_TIMEOUT = httpx.Timeout(60.0, connect=10.0)
MAX_REJECTED_SHARE = 0.05

{%- if not uses_channel_url %}
# No URL option is declared: put the channel's base URL here.
CHANNEL_URL = "https://channel.example.com/api"
{%- endif %}

Product = dict[str, Any]


def run(settings: ExportSettings, api: ContainerApi) -> None:
    progress = Progress(log, "products")
    with (
        open_channel(settings) as channel,
        api.read("input") as products,
        ExportReport(
            api,
            feedback_file=FEEDBACK_FILE,
            successes=FEEDBACK_SUCCESSES,
            max_rejected_share=MAX_REJECTED_SHARE,
        ) as report,
    ):
        # Full Container API batches (999) are read ahead; the channel gets its own batch size.
        # Each id goes once: a repeated one is skipped and counted (docs/runtime.md).
        batches = chunked(report.first_of_each_id(products), CHANNEL_BATCH_SIZE)
        for results in channel.send_all(batches, lambda batch: upsert(channel, batch)):
            report.record(results)
            progress.add(len(results))

    report.check()  # the failure policy: RunFailed when too many products were rejected
    log.log(SUCCESS, "Exported %s: %s", progress.summary(), report.summary())


def open_channel(settings: ExportSettings) -> Channel:
    """The channel's client; how it authenticates is one line (cde_runtime/outside/auth.py),
    e.g. `auth=OAuth2ClientCredentials(token_url, settings.CLIENT_ID, settings.CLIENT_SECRET)`."""
    return Channel(
        {{ ("settings." ~ (found.url | upper | replace("-", "_"))) if uses_channel_url else "CHANNEL_URL" }},
{%- if uses_channel_token %}
        auth=Bearer(
            settings.{{ found.token | upper | replace("-", "_") }},
            option={{ found.token | tojson }},
        ),
{%- endif %}
        concurrency=CHANNEL_CONCURRENCY,
        quota=CHANNEL_QUOTA,
        timeout=CHANNEL_TIMEOUT,
    )


def upsert(channel: Channel, batch: list[Product]) -> list[Result]:
    """Send one batch; runs on a worker thread, several at once (see CHANNEL_CONCURRENCY)."""
    return channel.upsert([to_channel_product(product) for product in batch])


def to_channel_product(product: Product) -> Product:
    """Map one platform row to the channel's product fields here (the channel keys on `id`)."""
    return product
