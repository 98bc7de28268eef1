{%- set options = cookiecutter.export_delta_options -%}
{%- set text = ["input", "textarea"] -%}
{#- The channel's URL: CHANNEL_URL, else the first text option named ...URL; its token:
    CHANNEL_TOKEN, else the first password option (tests/test_export_delta.py picks them alike). -#}
{%- set found = namespace(url="", token="") -%}
{%- for name, spec in options.items() if spec is mapping and not spec.get("choices") -%}
{%- if not found.url and spec.get("type", "input") in text and (name | upper | replace("-", "_")).endswith("URL") %}{% set found.url = name %}{% endif -%}
{%- if not found.token and spec.get("type", "input") == "password" %}{% set found.token = name %}{% endif -%}
{%- endfor -%}
{%- if options.get("CHANNEL_URL") is mapping and options["CHANNEL_URL"].get("type", "input") in text %}{% set found.url = "CHANNEL_URL" %}{% endif -%}
{%- if options.get("CHANNEL_TOKEN") is mapping and options["CHANNEL_TOKEN"].get("type", "input") == "password" %}{% set found.token = "CHANNEL_TOKEN" %}{% endif -%}
{%- set uses_channel_url = found.url != "" -%}
{%- set uses_channel_token = found.token != "" -%}
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

import httpx
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
from cde_runtime.outside import {% if uses_channel_token %}Bearer, {% endif %}Quota

from connector.channel import (
    CHANNEL_BATCH_SIZE,
    CHANNEL_CONCURRENCY,
    Channel,
)
from connector.settings import DELTA_KEY, FEEDBACK_FILE, FEEDBACK_SUCCESSES, ExportDeltaSettings

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


def run(settings: ExportDeltaSettings, api: ContainerApi) -> None:
    progress = Progress(log, "products")
    with (
        open_channel(settings) as channel,
        ExportReport(
            api,
            feedback_file=FEEDBACK_FILE,
            successes=FEEDBACK_SUCCESSES,
            max_rejected_share=MAX_REJECTED_SHARE,
        ) as report,
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
