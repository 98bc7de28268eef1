{%- set options = cookiecutter.data_source_options -%}
{#- The example code uses a default option only while it is declared with a type the code can use. -#}
{%- set uses_name = options.get("NAME") is mapping and options["NAME"].get("type", "input") in ["input", "textarea"] -%}
{%- set uses_should_fail = options.get("SHOULD_FAIL") is mapping and options["SHOULD_FAIL"].get("type", "input") in ["checkbox"] -%}
{%- set uses_feed_url = options.get("FEED_URL") is mapping and options["FEED_URL"].get("type", "input") in ["input", "textarea"] -%}
"""Data source: import products into the platform.

The story of a run: greet, read the product feed page by page, write every product to the
`output` file, summarise. Whatever this mode writes becomes the site's products.

Where the products come from:
- FEED_URL set to an http(s) URL: a paginated JSON API. Each page is a JSON object
  `{"products": [{...}, ...], "next": "<url of the next page>" | null}`; a relative `next` is
  resolved against the page's URL, the last page has no (or a null) `next`. The next page is
  fetched while the current one is written.
- FEED_URL with a `{page}` placeholder (e.g. `https://api.example.com/products?page={page}`):
  an API that numbers its pages. Pages 1, 2, 3, ... are fetched FEED_CONCURRENCY at a time and
  written in order; the feed ends at the first page without products.
- FEED_URL set to a file path (or a file:// URL): a JSON Lines file, one product object a line.
- FEED_URL empty: the sample feed bundled next to this file (data_source.jsonl), on local
  runs only (`python -m cde_emulator run`, the tests). On the platform an empty FEED_URL fails
  the run: importing the sample there would replace the site's products with it.

Writing never waits for the feed, nor the feed for writing: the output writer posts full
batches from a background thread while the next page is fetched. A page that fails in a way
that may pass (no answer, a timeout, 429 or 502-504) is asked for again, up to FEED_ATTEMPTS
times (`get_with_retries`: a GET changes nothing, so trying again is safe).

Locally, the emulator serves a feed of either kind from a JSON Lines file: `python3 dev.py run
data-source --feed FILE` with FEED_URL=${CONTAINER_API_URL}/feed (or .../feed?page={page}) in
.env; see docs/container-api.md, "The product feed stand-in".
"""

from __future__ import annotations

import json
import logging
from collections.abc import Generator
from contextlib import closing
from itertools import count
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urljoin, urlparse

import httpx
from cde_runtime import (
    SUCCESS,
    ContainerApi,
    InFlightLimit,
    Progress,
    RunFailed,
    feed_transport,
    get_with_retries,
    is_local_run,
    new_pages,
    read_ahead,
    send_in_order,
)

from connector.settings import DataSourceSettings

log = logging.getLogger(__name__)

SAMPLE_FEED = Path(__file__).with_suffix(".jsonl")
# Rows per Container API write, and per chunk of a JSON Lines file.
BATCH_SIZE = 999
# Seconds to wait for the product API: connecting, and each socket operation. Each whole
# request also has a deadline, CDE_FEED_TIMEOUT (60 s; `feed_transport`), and an answer may
# decode to at most CDE_MAX_ANSWER_BYTES (docs/runtime.md).
FEED_TIMEOUT = httpx.Timeout(60.0, connect=10.0)
# Tries per page: a GET may be sent again after a dropped connection, a timeout or a 429/50x.
FEED_ATTEMPTS = 3
# Pages of a numbered feed API (FEED_URL with `{page}`) requested at once: each page costs a
# round trip to a remote API, so fetching ahead hides that wait. Lower it if the API limits you.
FEED_CONCURRENCY = 4

Product = dict[str, Any]
# Pages of products, read as they are needed; close() stops the reading.
Pages = Generator[list[Product], None, None]


def run(settings: DataSourceSettings, api: ContainerApi) -> None:
{%- if uses_name %}
    log.log(SUCCESS, "Hello %s! Starting the import.", settings.NAME)
{%- endif %}
{%- if uses_should_fail %}
    if settings.SHOULD_FAIL:
        raise RunFailed("SHOULD_FAIL is checked, so this run fails on purpose.")
{%- endif %}
    feed = {{ "settings.FEED_URL or " if uses_feed_url else "" }}sample_feed()
    log.info("Reading products from %s", describe_feed(feed))

    progress = Progress(log, "products")
    # closing(): if writing fails, stop reading the feed at once (no request left running).
    with api.writer("output", batch_size=BATCH_SIZE) as output, closing(read_feed(feed)) as pages:
        for page in pages:
            output.write_many(to_platform_product(product) for product in page)
            progress.add(len(page))

    if output.rows_written != progress.count:
        raise RunFailed(
            f"Only {output.rows_written} of {progress.count} products reached the platform."
        )
    log.log(SUCCESS, "Imported %s", progress.summary())


def sample_feed() -> str:
    """The bundled sample feed, which only a local run may import."""
    if not is_local_run():
        raise RunFailed(
{%- if options.get("FEED_URL") %}
            "No product feed is set: set FEED_URL under Individual configurations in the Dev "
            "portal (the bundled sample feed is only imported on local runs)."
{%- else %}
            "No product feed is set: read your products in connector/modes/data_source.py "
            "(the bundled sample feed is only imported on local runs)."
{%- endif %}
        )
    return str(SAMPLE_FEED)


def to_platform_product(product: Product) -> Product:
    """Shape one feed product as a platform row: map, rename or compute columns here.

    Nested objects are fine: the Container API flattens them (`{"a": {"b": 1}}` → `a-b`).
    """
    return product


def describe_feed(feed: str) -> str:
    """The feed's location for logs, without credentials (user:password@) or query string."""
    if feed == str(SAMPLE_FEED):
        return "the bundled sample feed"
    parsed = urlparse(feed)
    if parsed.scheme in ("http", "https"):
        host = parsed.netloc.rpartition("@")[2]  # host and port
        return f"{parsed.scheme}://{host}{parsed.path}"
    return feed


def read_feed(feed: str) -> Pages:
    """Pages of products from an http(s) API or a JSON Lines file."""
    if urlparse(feed).scheme not in ("http", "https"):
        return read_jsonl(local_path(feed))
    # Every page must be new: an API that ignores or clamps the page number, or whose links
    # loop, fails the run with one line instead of importing forever (`new_pages`).
    if "{page}" in feed:
        return new_pages(read_numbered_pages(feed), f"The product feed {describe_feed(feed)}")
    # Each page names the next, so pages come one after the other; reading one page ahead
    # overlaps the wait for the next page with writing this one.
    return new_pages(read_ahead(read_api_pages(feed)), f"The product feed {describe_feed(feed)}")


def read_api_pages(url: str) -> Pages:
    """Follow the `next` links of a paginated JSON API, one request per page."""
    seen: set[str] = set()
    next_url: str | None = url
    with httpx.Client(
        timeout=FEED_TIMEOUT, follow_redirects=True, transport=feed_transport()
    ) as http:
        while next_url:
            if next_url in seen:
                raise RunFailed(f"The product feed links back to a page it sent before: {next_url}")
            seen.add(next_url)
            page = fetch_page(http, next_url)
            yield products_of(page, next_url)
            next_url = next_page(page, next_url)


def read_numbered_pages(template: str) -> Pages:
    """Pages 1, 2, 3, ... of `template` (its `{page}` replaced), several fetched at once.

    Pages come back in order; the first page without products ends the feed, and the requests
    already made for pages after it are awaited and dropped.
    """
    limits = httpx.Limits(max_connections=FEED_CONCURRENCY)
    with httpx.Client(
        timeout=FEED_TIMEOUT, follow_redirects=True, transport=feed_transport(limits)
    ) as http:

        def fetch(number: int) -> list[Product]:
            url = template.replace("{page}", str(number))
            return products_of(fetch_page(http, url), url)

        pages = send_in_order(count(1), fetch, InFlightLimit(FEED_CONCURRENCY))
        try:
            for page in pages:
                if not page:
                    return
                yield page
        finally:
            pages.close()


def fetch_page(http: httpx.Client, url: str) -> Any:
    try:
        response = get_with_retries(http, url, attempts=FEED_ATTEMPTS)
        response.raise_for_status()
        return response.json()
    except httpx.HTTPStatusError as error:
        raise RunFailed(
            f"The product feed answered {error.response.status_code} for {describe_feed(url)}."
        ) from error
    except httpx.HTTPError as error:
        raise RunFailed(f"Could not read the product feed {describe_feed(url)}: {error}") from error
    except ValueError as error:
        raise RunFailed(f"The product feed {describe_feed(url)} did not send JSON.") from error


def products_of(page: Any, url: str) -> list[Product]:
    products = page.get("products") if isinstance(page, dict) else None
    if not isinstance(products, list) or not all(isinstance(p, dict) for p in products):
        raise RunFailed(
            f'The product feed page {describe_feed(url)} has no "products" list of objects.'
        )
    return products


def next_page(page: dict[str, Any], url: str) -> str | None:
    """The URL of the page after `page`, or None on the last page."""
    link = page.get("next")
    return urljoin(url, link) if isinstance(link, str) and link else None


def local_path(feed: str) -> Path:
    parsed = urlparse(feed)
    return Path(unquote(parsed.path)) if parsed.scheme == "file" else Path(feed)


def read_jsonl(path: Path) -> Pages:
    """Products of a JSON Lines file in chunks of BATCH_SIZE; blank lines are skipped."""
    try:
        with path.open(encoding="utf-8") as lines:
            chunk: list[Product] = []
            for number, line in enumerate(lines, start=1):
                if not line.strip():
                    continue
                chunk.append(parse_line(line, path, number))
                if len(chunk) == BATCH_SIZE:
                    yield chunk
                    chunk = []
            if chunk:
                yield chunk
    except OSError as error:
        raise RunFailed(f"Could not read the product feed {path}: {error.strerror}") from error


def parse_line(line: str, path: Path, number: int) -> Product:
    try:
        product = json.loads(line)
    except ValueError as error:
        raise RunFailed(f"Line {number} of {path} is not valid JSON: {error}") from error
    if not isinstance(product, dict):
        raise RunFailed(f"Line {number} of {path} is not a JSON object.")
    return product
