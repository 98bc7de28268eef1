{%- set options = cookiecutter.export_delta_options -%}
{#- The example code uses a default option only while it is declared with a type the code can use. -#}
{%- set uses_channel_url = options.get("CHANNEL_URL") is mapping and options["CHANNEL_URL"].get("type", "input") in ["input", "textarea"] -%}
{%- set uses_channel_token = options.get("CHANNEL_TOKEN") is mapping and options["CHANNEL_TOKEN"].get("type", "input") in ["password"] -%}
"""Export delta: send only what changed since the last export to the channel.

The platform splits the products into four input streams: `new` and `modified` are created or
updated on the channel, `deleted` are removed from it by their delta key
(settings.DELTA_KEY), `unchanged` are only counted. A run gets only some of the streams; one it
does not provide counts as empty. Feedback and the failure policy are as for the export
(connector/channel.py).

Up to CHANNEL_CONCURRENCY requests are in flight within a stream, but streams go one after the
other: every upsert has been answered before the first delete is sent. So a delete never
overtakes an upsert of the same product, or the reverse, even when a product appears in more
than one stream.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

from cde_runtime import (
    SUCCESS,
    ContainerApi,
    ContainerApiError,
    ExportReport,
    InputNotProvided,
    Progress,
    Result,
    chunked,
)

from connector.channel import CHANNEL_BATCH_SIZE, CHANNEL_CONCURRENCY, Channel
from connector.settings import DELTA_KEY, FEEDBACK_FILE, FEEDBACK_SUCCESSES, ExportDeltaSettings

log = logging.getLogger(__name__)

{%- if not uses_channel_url %}
# No CHANNEL_URL option is declared: put the channel's base URL here.
CHANNEL_URL = "https://channel.example.com/api"
{%- endif %}

Product = dict[str, Any]


def run(settings: ExportDeltaSettings, api: ContainerApi) -> None:
    progress = Progress(log, "products")
    with (
        open_channel(settings) as channel,
        ExportReport(api, feedback_file=FEEDBACK_FILE, successes=FEEDBACK_SUCCESSES) as report,
    ):
        # send_all returns only once all its requests are answered: a barrier between streams.
        for stream in ("new", "modified"):
            upserts = batches(api, stream, report)
            for results in channel.send_all(upserts, lambda batch: upsert(channel, batch)):
                report.record(results)
                progress.add(len(results))
        deletes = batches(api, "deleted", report)
        for results in channel.send_all(deletes, lambda batch: delete(channel, batch)):
            report.record(results)
            progress.add(len(results))
        report.skip(count(api, "unchanged"))

    report.check()  # the failure policy: RunFailed when too many products were rejected
    log.log(SUCCESS, "Exported the delta, %s: %s", progress.summary(), report.summary())


def open_channel(settings: ExportDeltaSettings) -> Channel:
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


def delete(channel: Channel, rows: list[Product]) -> list[Result]:
    """Delete the rows' products by delta key; a row without a key cannot be deleted."""
    keys = [row.get(DELTA_KEY) for row in rows]
    deleted = iter(channel.delete([key for key in keys if key not in (None, "")]))
    missing = Result("", ok=False, message=f"no {DELTA_KEY} to delete by")
    return [missing if key in (None, "") else next(deleted) for key in keys]


def batches(api: ContainerApi, stream: str, report: ExportReport) -> Iterator[list[Product]]:
    """Channel-sized batches of one delta stream; a stream the run does not provide is empty.

    Each id goes once per stream: a repeated one is skipped and counted (docs/runtime.md).
    """
    reader = api.read(stream)
    with reader:
        try:
            yield from chunked(report.first_of_each_id(reader), CHANNEL_BATCH_SIZE)
        except InputNotProvided:
            if reader.rows_read:
                raise
            log.info("No %s products in this run", stream)


def count(api: ContainerApi, stream: str) -> int:
    """Rows in a stream without reading them, for the summary only; 0 when the run does not
    provide it. Every product was delivered by now: a failing count costs the figure (with a
    warning), never the run."""
    try:
        return api.count(stream)
    except InputNotProvided:
        return 0
    except ContainerApiError as error:
        log.warning("Could not count the %s products for the summary: %s", stream, error)
        return 0
