"""Invariants the runtime enforces itself, whatever its peers answer (docs/runtime.md).

The Container API, a product feed and a channel are peers the run cannot trust to behave: a
cursor that does not move, a page number an API ignores, two rows with one id, a value JSON
cannot carry. Each check here turns such an answer into one line that ends the run (or, for
repeated ids, a counted skip) instead of an endless run, a duplicate or a traceback.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Generator, Iterable, Iterator, Mapping
from typing import Any, TypeVar

from cde_runtime.errors import RunFailed

__all__ = [
    "FirstOfEachId",
    "RepeatedPage",
    "UnencodableData",
    "describe_unencodable",
    "new_pages",
]

Row = dict[str, Any]
T = TypeVar("T")


class RepeatedPage(RunFailed):
    """An outside feed sent a page it had sent before: it would never end, or import twice."""


class UnencodableData(RunFailed):
    """A row holds a value JSON cannot carry (a lone surrogate, NaN, Infinity)."""


def _digest(page: list[Any]) -> bytes:
    encoded = json.dumps(page, ensure_ascii=True, separators=(",", ":"), default=repr)
    return hashlib.blake2b(encoded.encode(), digest_size=16).digest()


def new_pages(
    pages: Iterable[list[T]], where: str = "The product feed"
) -> Generator[list[T], None, None]:
    """`pages` as they come, failing at the first page that repeats an earlier one.

    A numbered API that ignores or clamps the page number answers the same page again and again;
    a feed whose links loop sends a sequence again. Either would never end, or would import the
    same products twice: the run fails with one line naming both page numbers. Empty pages are
    not compared (they end a numbered feed). One 16-byte digest is kept per page.
    """
    seen: dict[bytes, int] = {}
    source = iter(pages)
    try:
        for number, page in enumerate(source, start=1):
            if page:
                digest = _digest(page)
                first = seen.setdefault(digest, number)
                if first != number:
                    raise RepeatedPage(
                        f"{where} sent page {number} with exactly the products of page {first}: "
                        "its API repeats pages (it ignores or clamps the page number, or its "
                        "links loop); failing so the import neither runs forever nor doubles "
                        "products."
                    )
            yield page
    finally:
        close = getattr(source, "close", None)
        if close is not None:  # stop the source's requests too (it may read ahead)
            close()


class FirstOfEachId:
    """The first row of each id in one input; later rows with an id already seen are skipped.

    The rule for a row whose `key` repeats within one input (docs/runtime.md): the first is
    delivered, each later one is skipped, counted in `repeated` and its id kept in `examples`
    (the first few), so feedback stays one row per delivered product. Rows without an id pass.
    """

    def __init__(self, key: str = "id", examples: int = 3) -> None:
        self.key = key
        self.repeated = 0
        self.examples: list[str] = []
        self._max_examples = examples

    def __call__(self, rows: Iterable[Row]) -> Iterator[Row]:
        """Filter one input (a fresh set of ids per call)."""
        seen: set[str] = set()
        for row in rows:
            value = row.get(self.key) if isinstance(row, Mapping) else None
            if value is None or value == "":
                yield row
                continue
            ident = str(value)
            if ident in seen:
                self.repeated += 1
                if len(self.examples) < self._max_examples:
                    self.examples.append(ident)
                continue
            seen.add(ident)
            yield row


def describe_unencodable(rows: Iterable[Any], id_key: str = "id") -> str | None:
    """Where JSON cannot carry a value of `rows`: `product 'p1', column 'title' (why)`.

    None when every value can be carried. Nested columns are named with dots (`a.b`), list
    items by their index.
    """
    for index, row in enumerate(rows):
        found = _first_problem(row, [])
        if found is None:
            continue
        path, why = found
        ident = row.get(id_key) if isinstance(row, Mapping) else None
        who = f"product {ident!r}" if ident not in (None, "") else f"row {index + 1} (no id)"
        column = ".".join(path) if path else "(the row itself)"
        return f"{who}, column {column!r}: {why}"
    return None


def rows_in(body: Any) -> list[Any]:
    """The rows of a request body: the items of its lists (`data`, `products`), or the body."""
    if isinstance(body, Mapping):
        lists = [value for value in body.values() if isinstance(value, list)]
        return [row for value in lists for row in value] if lists else [body]
    return list(body) if isinstance(body, list) else [body]


_JSON_TYPES = (str, int, float, bool, type(None), Mapping, list, tuple)


def _problem(value: Any) -> str | None:
    if not isinstance(value, _JSON_TYPES):
        return f"a {type(value).__name__}, which JSON cannot carry"
    if isinstance(value, float) and not math.isfinite(value):
        return f"{value!r}, which JSON cannot carry"
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return "a lone surrogate (half of a character, such as a cut-off emoji)"
    return None


def _first_problem(value: Any, path: list[str]) -> tuple[list[str], str] | None:
    if isinstance(value, Mapping):
        for key, item in value.items():
            name = str(key)
            why = _problem(key)
            if why is not None:
                return [
                    *path,
                    name.encode("utf-8", "backslashreplace").decode(),
                ], f"its name holds {why}"
            found = _first_problem(item, [*path, name])
            if found is not None:
                return found
        return None
    if isinstance(value, list | tuple):
        for index, item in enumerate(value):
            found = _first_problem(item, [*path, str(index)])
            if found is not None:
                return found
        return None
    why = _problem(value)
    return None if why is None else (path, why)
