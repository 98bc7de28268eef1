{%- set options = cookiecutter.data_source_options -%}
{%- set text = ["input", "textarea"] -%}
{#- The example code uses a default option only while it is declared with a type the code can use. -#}
{%- set uses_name = options.get("NAME") is mapping and options["NAME"].get("type", "input") in text -%}
{%- set uses_should_fail = options.get("SHOULD_FAIL") is mapping and options["SHOULD_FAIL"].get("type", "input") in ["checkbox"] -%}
{#- The feed's URL: FEED_URL, else the first text option named ...URL; its token: the first password option. -#}
{%- set found = namespace(url="", token="") -%}
{%- for name, spec in options.items() if spec is mapping and not spec.get("choices") -%}
{%- if not found.url and spec.get("type", "input") in text and (name | upper | replace("-", "_")).endswith("URL") %}{% set found.url = name %}{% endif -%}
{%- if not found.token and spec.get("type", "input") == "password" %}{% set found.token = name %}{% endif -%}
{%- endfor -%}
{%- if options.get("FEED_URL") is mapping and options["FEED_URL"].get("type", "input") in text %}{% set found.url = "FEED_URL" %}{% endif -%}
{%- set url_attr = found.url | upper | replace("-", "_") -%}
{%- set token_attr = found.token | upper | replace("-", "_") -%}
"""Data source: import products into the platform.

The story of a run: greet, read the product feed page by page, turn each product into platform
rows, write them to the `output` file, summarise. Whatever this mode writes becomes the site's
products.

Where the products come from ({{ found.url or "no URL option is declared: set FEED_URL_VALUE below" }}):
- an http(s) URL: a paginated JSON API, read with `cde_runtime.outside.OutsideApi`. How its
  pages link up is FEED_PAGINATION (one line: `NextLink("next")` follows a `next` field in the
  body, `LinkHeader()` the HTTP `Link: <...>; rel="next"` header, `Cursor(...)`,
  `OffsetLimit(...)`, `PageNumber(...)`); where a page holds its products is FEED_ITEMS; how
  the API checks who calls is `feed_auth` (one line: `Bearer`, `Basic`, `ApiKeyHeader`,
  `ApiKeyQuery`, `OAuth2ClientCredentials`, `OAuth2RefreshToken`). A page that fails in a way
  that may pass (no answer, a timeout, 429 or 502-504) is asked for again, up to FEED_ATTEMPTS
  times, after the API's `Retry-After`; FEED_QUOTA keeps under the API's request quota. The
  next page is fetched while the current one is written.
- a URL with a `{page}` placeholder (e.g. `https://api.example.com/products?page={page}`): an
  API that numbers its pages. Pages 1, 2, 3, ... are fetched FEED_CONCURRENCY at a time and
  written in order; the feed ends at the first page without products.
- a file path (or a file:// URL): a JSON Lines file, one product object a line.
- empty: the sample feed bundled next to this file (data_source.jsonl), on local runs only
  (`python -m cde_emulator run`, the tests). On the platform an empty URL fails the run:
  importing the sample there would replace the site's products with it.

Each product becomes the rows `to_platform_rows` yields: one (the default), several (one per
variant, say) or none (a product to leave out); `combine_rows` may then merge neighbouring rows
(many products into one row). Writing never waits for the feed, nor the feed for writing: the
output writer posts full batches from a background thread while the next page is fetched.

Locally, the emulator serves a feed of either kind from a JSON Lines file: `python3 dev.py run
data-source --feed FILE` with the URL option set to ${CONTAINER_API_URL}/feed (or
.../feed?page={page}) in .env; see docs/container-api.md, "The product feed stand-in", and
docs/cookbook.md for other API shapes.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Generator, Iterable, Iterator
from contextlib import closing
from itertools import count
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

import httpx
from cde_runtime import (
    SUCCESS,
    ContainerApi,
    InFlightLimit,
    Progress,
    RunFailed,
    is_local_run,
    new_pages,
    read_ahead,
    send_in_order,
)
from cde_runtime.outside import {% if found.token %}Bearer, {% endif %}NextLink, OutsideApi, Pagination, Quota

from connector.settings import DataSourceSettings

log = logging.getLogger(__name__)

SAMPLE_FEED = Path(__file__).with_suffix(".jsonl")
{%- if not found.url %}
# No URL option is declared: the feed's URL, a file path, or "" for the bundled sample feed.
FEED_URL_VALUE = ""
{%- endif %}
# Rows per Container API write, and per chunk of a JSON Lines file.
BATCH_SIZE = 999
# How the product API's pages link up (cde_runtime/outside/pagination.py): one line to change.
FEED_PAGINATION: Pagination = NextLink("next")
# Where a page's JSON body holds its products: a dotted path ("data.items"), "" for a list.
FEED_ITEMS = "products"
# Seconds to wait for the product API: connecting, and each socket operation. Each whole
# request also has a deadline, CDE_FEED_TIMEOUT (60 s), and an answer may decode to at most
# CDE_MAX_ANSWER_BYTES (docs/runtime.md).
FEED_TIMEOUT = httpx.Timeout(60.0, connect=10.0)
# Tries per page: a GET may be sent again after a dropped connection, a timeout or a 429/50x.
FEED_ATTEMPTS = 3
# Pages of a numbered feed API (a URL with `{page}`) requested at once: each page costs a
# round trip to a remote API, so fetching ahead hides that wait. Lower it if the API limits you.
FEED_CONCURRENCY = 4
# The product API's request quota, e.g. Quota.per_second(10) or Quota.per_minute(120).
FEED_QUOTA: Quota | None = None

Product = dict[str, Any]
# Pages of products, read as they are needed; close() stops the reading.
Pages = Generator[list[Product], None, None]


def feed_auth(settings: DataSourceSettings) -> httpx.Auth | None:
    """How the product API checks who calls it (cde_runtime/outside/auth.py): one line."""
{%- if found.token %}
    return Bearer(settings.{{ token_attr }}, option={{ found.token | tojson }})
{%- else %}
    return None  # e.g. Bearer(settings.TOKEN, option="TOKEN") once you declare a password option
{%- endif %}


def run(settings: DataSourceSettings, api: ContainerApi) -> None:
{%- if uses_name %}
    log.log(SUCCESS, "Hello %s! Starting the import.", settings.NAME)
{%- endif %}
{%- if uses_should_fail %}
    if settings.SHOULD_FAIL:
        raise RunFailed("SHOULD_FAIL is checked, so this run fails on purpose.")
{%- endif %}
    feed = {{ ("settings." ~ url_attr) if found.url else "FEED_URL_VALUE" }} or sample_feed()
    log.info("Reading products from %s", describe_feed(feed))

    progress = Progress(log, "products")
    written = 0

    def platform_rows(pages: Pages) -> Iterator[Product]:
        for page in pages:
            for product in page:
                yield from to_platform_rows(product)
            progress.add(len(page))

    def counted(rows: Iterable[Product]) -> Iterator[Product]:
        nonlocal written
        for row in rows:
            written += 1
            yield row

    # closing(): if writing fails, stop reading the feed at once (no request left running).
    with (
        api.writer("output", batch_size=BATCH_SIZE) as output,
        closing(read_feed(feed, settings)) as pages,
    ):
        output.write_many(counted(combine_rows(platform_rows(pages))))

    if output.rows_written != written:
        raise RunFailed(f"Only {output.rows_written} of {written} rows reached the platform.")
    log.log(SUCCESS, "Imported %s", progress.summary())


def sample_feed() -> str:
    """The bundled sample feed, which only a local run may import."""
    if not is_local_run():
        raise RunFailed(
{%- if found.url %}
            "No product feed is set: set {{ found.url }} under Individual configurations in the "
            "Dev portal (the bundled sample feed is only imported on local runs)."
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


def to_platform_rows(product: Product) -> Iterable[Product]:
    """The platform rows of one feed product: by default the one `to_platform_product` makes.

    Yield one row per variant instead (each with its own `id`), or none to leave the product out.
    """
    yield to_platform_product(product)


def combine_rows(rows: Iterator[Product]) -> Iterator[Product]:
    """Merge neighbouring rows into one (many products → one row) here; the default keeps all.

    For instance `itertools.groupby(rows, key=...)` merges rows that arrive one after the other.
    """
    return rows


def describe_feed(feed: str) -> str:
    """The feed's location for logs, without credentials (user:password@) or query string."""
    if feed == str(SAMPLE_FEED):
        return "the bundled sample feed"
    parsed = urlparse(feed)
    if parsed.scheme in ("http", "https"):
        host = parsed.netloc.rpartition("@")[2]  # host and port
        return f"{parsed.scheme}://{host}{parsed.path}"
    return feed


def open_feed_api(url: str, settings: DataSourceSettings) -> OutsideApi:
    """The product API's client: auth, quota, retries and timeouts as declared above."""
    return OutsideApi(
        url.replace("{page}", "1"),
        name="The product feed",
{%- if found.url %}
        option={{ found.url | tojson }},
{%- endif %}
        auth=feed_auth(settings),
        quota=FEED_QUOTA,
        concurrency=FEED_CONCURRENCY,
        timeout=FEED_TIMEOUT,
        attempts=FEED_ATTEMPTS,
    )


def read_feed(feed: str, settings: DataSourceSettings) -> Pages:
    """Pages of products from an http(s) API or a JSON Lines file."""
    if urlparse(feed).scheme not in ("http", "https"):
        return read_jsonl(local_path(feed))
    # Every page must be new: an API that ignores or clamps the page number, or whose links
    # loop, fails the run with one line instead of importing forever (`new_pages`).
    if "{page}" in feed:
        return new_pages(
            read_numbered_pages(feed, settings), f"The product feed {describe_feed(feed)}"
        )
    # Reading one page ahead overlaps the wait for the next page with writing this one.
    return new_pages(
        read_ahead(read_api_pages(feed, settings)), f"The product feed {describe_feed(feed)}"
    )


def read_api_pages(url: str, settings: DataSourceSettings) -> Pages:
    """Every page of the listing at `url`, as FEED_PAGINATION walks it."""
    with open_feed_api(url, settings) as product_api:
        for page in product_api.pages(url, pagination=FEED_PAGINATION, items=FEED_ITEMS):
            yield products_of(page, url)


def read_numbered_pages(template: str, settings: DataSourceSettings) -> Pages:
    """Pages 1, 2, 3, ... of `template` (its `{page}` replaced), several fetched at once.

    Pages come back in order; the first page without products ends the feed, and the requests
    already made for pages after it are awaited and dropped. A page that repeats an earlier one
    (an API that ignores or clamps the page number) ends the run instead of looping.
    """
    with open_feed_api(template, settings) as product_api:

        def fetch(number: int) -> list[Product]:
            url = template.replace("{page}", str(number))
            body = product_api.get_json(url)
            found = body.get(FEED_ITEMS) if isinstance(body, dict) else body
            return products_of(found, url)

        pages = send_in_order(count(1), fetch, InFlightLimit(FEED_CONCURRENCY))
        seen: set[str] = set()
        try:
            for number, page in enumerate(pages, start=1):
                if not page:
                    return
                digest = json.dumps(page, sort_keys=True)
                if digest in seen:
                    raise RunFailed(
                        f"The product feed sent page {number} of {describe_feed(template)} "
                        "before: it ignores or clamps the page number, so the feed never ends."
                    )
                seen.add(digest)
                yield page
        finally:
            pages.close()


def products_of(page: Any, url: str) -> list[Product]:
    if not isinstance(page, list) or not all(isinstance(p, dict) for p in page):
        raise RunFailed(
            f'The product feed page {describe_feed(url)} has no "{FEED_ITEMS}" list of objects.'
        )
    return page


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
