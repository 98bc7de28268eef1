"""How an outside API splits a long answer into pages: one strategy object per API shape.

`OutsideApi.pages(path, pagination=..., items=...)` sends the first request, hands each page's
items to the caller, and asks the strategy for the next request until it says the pages ended:

- `NextLink(field="next")`: the body names the next page's URL (relative or absolute, a dotted
  path such as `"links.next"`); no, a null or an empty value ends the pages.
- `LinkHeader(rel="next")`: the HTTP `Link: <url>; rel="next"` header (httpx's
  `response.links`); no such link ends the pages.
- `Cursor(param="cursor", field="next_cursor")`: the body holds a token the next request
  sends as a query parameter; no or an empty token ends the pages.
- `OffsetLimit(limit=100)`: `?offset=0&limit=100`, then 100, 200, ...; a page with fewer
  than `limit` items is the last one.
- `PageNumber(param="page", start=1)`: `?page=1`, 2, 3, ...; the first page without items
  ends the pages.
- `SinglePage()`: one request, one page.

Whatever the strategy, pages must move forward: a request the run already sent, or a page whose
body is the same as an earlier page's (an API that ignores or clamps the page number), ends the
run with one line rather than importing the same products again and again. A strategy other than
`LinkHeader` that ends while the answer still carries a `Link: rel="next"` header logs a warning:
the API probably has more pages the strategy does not follow.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import httpx

__all__ = [
    "Cursor",
    "LinkHeader",
    "NextLink",
    "NextRequest",
    "OffsetLimit",
    "PageNumber",
    "Pagination",
    "SinglePage",
    "dig",
]

Params = dict[str, Any]


@dataclass(frozen=True)
class NextRequest:
    """The next page's request: a URL (absolute or relative to the API) and its query."""

    url: str
    params: Params


def dig(body: Any, path: str) -> Any:
    """`body["a"]["b"]` for the dotted path `"a.b"`; `""` is the body itself; None if absent."""
    value = body
    for key in path.split(".") if path else []:
        if not isinstance(value, Mapping):
            return None
        value = value.get(key)
    return value


class Pagination:
    """A pagination strategy: the first request's query, and the request after each page."""

    def first(self, params: Params) -> Params:
        """The query of the first request (`params` as the caller gave them)."""
        return dict(params)

    def after(
        self, response: httpx.Response, body: Any, items: list[Any], request: NextRequest
    ) -> NextRequest | None:
        """The request for the page after this one, or None when this was the last page."""
        raise NotImplementedError

    def __repr__(self) -> str:
        fields = ", ".join(f"{k}={v!r}" for k, v in vars(self).items())
        return f"{type(self).__name__}({fields})"


class SinglePage(Pagination):
    """The API answers with everything at once."""

    def after(
        self, response: httpx.Response, body: Any, items: list[Any], request: NextRequest
    ) -> NextRequest | None:
        return None


class NextLink(Pagination):
    """The body names the next page's URL, e.g. `{"products": [...], "next": "/p?page=2"}`."""

    def __init__(self, field: str = "next") -> None:
        self.field = field

    def after(
        self, response: httpx.Response, body: Any, items: list[Any], request: NextRequest
    ) -> NextRequest | None:
        link = dig(body, self.field)
        if not isinstance(link, str) or not link:
            return None
        return NextRequest(str(response.url.join(link)), {})


class LinkHeader(Pagination):
    """The `Link: <...>; rel="next"` header names the next page (RFC 8288)."""

    def __init__(self, rel: str = "next") -> None:
        self.rel = rel

    def after(
        self, response: httpx.Response, body: Any, items: list[Any], request: NextRequest
    ) -> NextRequest | None:
        link = response.links.get(self.rel, {}).get("url")
        if not link:
            return None
        return NextRequest(str(response.url.join(link)), {})


class Cursor(Pagination):
    """The body holds a cursor token that the next request sends as `?{param}=<token>`."""

    def __init__(self, param: str = "cursor", field: str = "next_cursor") -> None:
        self.param = param
        self.field = field

    def after(
        self, response: httpx.Response, body: Any, items: list[Any], request: NextRequest
    ) -> NextRequest | None:
        token = dig(body, self.field)
        if token is None or token == "" or token is False:
            return None
        return NextRequest(request.url, {**request.params, self.param: str(token)})


class OffsetLimit(Pagination):
    """`?offset=0&limit=N`, then offset N, 2N, ...; a short page is the last."""

    def __init__(self, limit: int = 100, offset_param: str = "offset", limit_param: str = "limit"):
        if limit < 1:
            raise ValueError(f"a page holds at least 1 item, not {limit}")
        self.limit = limit
        self.offset_param = offset_param
        self.limit_param = limit_param

    def first(self, params: Params) -> Params:
        return {**params, self.offset_param: 0, self.limit_param: self.limit}

    def after(
        self, response: httpx.Response, body: Any, items: list[Any], request: NextRequest
    ) -> NextRequest | None:
        if len(items) < self.limit:
            return None
        offset = int(request.params[self.offset_param]) + len(items)
        return NextRequest(request.url, {**request.params, self.offset_param: offset})


class PageNumber(Pagination):
    """`?page=1`, 2, 3, ...: the first page without items ends the pages."""

    def __init__(self, param: str = "page", start: int = 1) -> None:
        self.param = param
        self.start = start

    def first(self, params: Params) -> Params:
        return {**params, self.param: self.start}

    def after(
        self, response: httpx.Response, body: Any, items: list[Any], request: NextRequest
    ) -> NextRequest | None:
        if not items:
            return None
        number = int(request.params[self.param]) + 1
        return NextRequest(request.url, {**request.params, self.param: number})
