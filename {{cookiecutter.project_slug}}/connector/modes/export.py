{%- set options = cookiecutter.export_options -%}
{#- The example code uses a default option only while it is declared with a type the code can use. -#}
{%- set uses_channel_url = options.get("CHANNEL_URL") is mapping and options["CHANNEL_URL"].get("type", "input") in ["input", "textarea"] -%}
{%- set uses_channel_token = options.get("CHANNEL_TOKEN") is mapping and options["CHANNEL_TOKEN"].get("type", "input") in ["password"] -%}
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

from cde_runtime import SUCCESS, ContainerApi, ExportReport, Progress, Result, chunked

from connector.channel import CHANNEL_BATCH_SIZE, CHANNEL_CONCURRENCY, Channel
from connector.settings import FEEDBACK_FILE, FEEDBACK_SUCCESSES, ExportSettings

log = logging.getLogger(__name__)

{%- if not uses_channel_url %}
# No CHANNEL_URL option is declared: put the channel's base URL here.
CHANNEL_URL = "https://channel.example.com/api"
{%- endif %}

Product = dict[str, Any]


def run(settings: ExportSettings, api: ContainerApi) -> None:
    progress = Progress(log, "products")
    with (
        open_channel(settings) as channel,
        api.read("input") as products,
        ExportReport(api, feedback_file=FEEDBACK_FILE, successes=FEEDBACK_SUCCESSES) as report,
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
    return Channel(
        {{ "settings.CHANNEL_URL" if uses_channel_url else "CHANNEL_URL" }},
        token={{ "settings.CHANNEL_TOKEN.get_secret_value()" if uses_channel_token else '""' }},
        concurrency=CHANNEL_CONCURRENCY,
    )


def upsert(channel: Channel, batch: list[Product]) -> list[Result]:
    """Send one batch; runs on a worker thread, several at once (see CHANNEL_CONCURRENCY)."""
    return channel.upsert([to_channel_product(product) for product in batch])


def to_channel_product(product: Product) -> Product:
    """Map one platform row to the channel's product fields here (the channel keys on `id`)."""
    return product
