"""A stand-in for the product feed a connector imports products from (FEED_URL).

Served by the emulator under `/feed` once it is given products (`--feed FILE`, a JSON Lines file
of product objects; `Emulator(feed=path)`; `emulator(feed=[...])` in tests), so a local run
exercises the HTTP paths of a feed import without a real product API. It is not part of the
Container API; it is shaped as the template's handler reads a feed:

- `GET /feed` → the first page `{"products": [{...}, ...], "next": "/feed?page=2"}`. `next` is
  relative (resolved against the page's URL) and null on the last page: an API with `next` links.
- `GET /feed?page=N` → page N (from 1) in the same shape: an API that numbers its pages. A page
  past the end has no products and `next: null`, which ends a numbered feed.

Pages hold `page_size` products (`--feed-page-size`, 100 by default). Products are served as the
file holds them, nested values included: each line is parsed once at start and kept encoded, so
a page costs a bytes join, not a JSON encode.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from cde_emulator.rows import InvalidInputFileError, encode, read_objects

DEFAULT_PAGE_SIZE = 100


@dataclass(frozen=True)
class FeedAnswer:
    """What the server sends back for one feed request, and how many products it carries."""

    status: int
    body: bytes
    products: int = 0


class Feed:
    """The products of one feed, split into numbered pages of `page_size`."""

    def __init__(self, products: list[bytes], page_size: int = DEFAULT_PAGE_SIZE) -> None:
        if page_size < 1:
            raise ValueError(f"a feed page holds at least one product, not {page_size}")
        self._products = products
        self.page_size = page_size

    @classmethod
    def load(cls, path: Path, page_size: int = DEFAULT_PAGE_SIZE) -> Feed:
        """Read a JSON Lines file; InvalidInputFileError names the line that is not an object."""
        try:
            return cls([encode(product).encode() for product in read_objects(path)], page_size)
        except (OSError, UnicodeDecodeError) as error:
            raise InvalidInputFileError(f"{path}: {error}") from error

    @property
    def count(self) -> int:
        return len(self._products)

    @property
    def pages(self) -> int:
        return -(-self.count // self.page_size)

    def page(self, number: int) -> FeedAnswer:
        """Page `number` (from 1); past the end, a page without products."""
        start = (number - 1) * self.page_size
        products = self._products[start : start + self.page_size]
        link = b'"/feed?page=%d"' % (number + 1) if number < self.pages else b"null"
        body = b'{"products":[' + b",".join(products) + b'],"next":' + link + b"}"
        return FeedAnswer(200, body, len(products))


def _error(status: int, message: str) -> FeedAnswer:
    return FeedAnswer(status, encode({"message": message}).encode())


def handle(feed: Feed | None, method: str, path: str, query: Mapping[str, list[str]]) -> FeedAnswer:
    """Answer one feed request; `path` is the whole request path."""
    if path.rstrip("/") != "/feed":
        return _error(404, "Not found.")
    if method not in ("GET", "HEAD"):
        return _error(405, "Method not allowed.")
    if feed is None:
        return _error(404, "No feed is served: start the emulator with --feed FILE (JSON Lines).")
    raw = query.get("page", ["1"])[-1]
    if not raw.isdecimal() or int(raw) < 1:
        return _error(400, f"page must be a whole number from 1, not {raw!r}")
    return feed.page(int(raw))
