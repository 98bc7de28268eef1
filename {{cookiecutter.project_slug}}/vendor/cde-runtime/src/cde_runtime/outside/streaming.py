"""Items of large answers, read as they arrive: memory stays bounded by one item, not the answer.

- `json_items(stream, prefix="item")`: the items of a JSON array anywhere in a JSON document
  (`"item"`: the document is the array; `"products.item"`: the array under `products`), parsed
  incrementally by ijson.
- `jsonl_items(stream)`: one JSON value per line (blank lines skipped).
- `xml_items(stream, tag)`: each `<tag>` element, parsed by defusedxml (no entity expansion,
  no external entities or DTD fetching: a hostile feed cannot explode or read files), cleared
  once handed over so the tree never grows; each item is a dict of its children's text and
  attributes (`xml_item` below) or, with `raw=True`, the ElementTree element itself.
- `gunzipped(stream)`: the bytes of a `.gz` file (gzip inside the body, not as
  `Content-Encoding`, which httpx decodes on its own).

`stream` is any binary file object; `OutsideApi.stream_items(...)` opens one on an HTTP answer
(and unpacks a `.gz` body when the URL or the content says it is gzip).
"""

from __future__ import annotations

import gzip
import io
import json
from collections.abc import Iterable, Iterator
from typing import IO, Any
from xml.etree.ElementTree import Element

import ijson  # type: ignore[import-untyped]
from defusedxml.ElementTree import iterparse  # type: ignore[import-untyped]

__all__ = [
    "ChunkReader",
    "gunzipped",
    "is_gzip",
    "json_items",
    "jsonl_items",
    "xml_item",
    "xml_items",
]

GZIP_MAGIC = b"\x1f\x8b"


class ChunkReader(io.RawIOBase):
    """A read-only binary file over an iterable of byte chunks (e.g. `response.iter_bytes()`)."""

    def __init__(self, chunks: Iterable[bytes]) -> None:
        self._chunks = iter(chunks)
        self._buffer = b""

    def readable(self) -> bool:
        return True

    def readinto(self, target: Any) -> int:
        while not self._buffer:
            chunk = next(self._chunks, None)
            if chunk is None:
                return 0
            self._buffer = chunk
        size = min(len(target), len(self._buffer))
        target[:size] = self._buffer[:size]
        self._buffer = self._buffer[size:]
        return size


def is_gzip(head: bytes) -> bool:
    return head.startswith(GZIP_MAGIC)


def gunzipped(stream: IO[bytes]) -> gzip.GzipFile:
    """The unpacked bytes of a gzip file, read as they are asked for."""
    return gzip.GzipFile(fileobj=stream, mode="rb")


def json_items(stream: IO[bytes], prefix: str = "item") -> Iterator[Any]:
    """The items of the JSON array at `prefix` (ijson's notation), one at a time."""
    yield from ijson.items(stream, prefix, use_float=True)


def jsonl_items(stream: IO[bytes]) -> Iterator[Any]:
    """One JSON value per line; blank lines are skipped."""
    for number, line in enumerate(io.TextIOWrapper(stream, encoding="utf-8"), start=1):
        if line.strip():
            try:
                yield json.loads(line)
            except ValueError as error:
                raise ValueError(f"line {number} is not valid JSON: {error}") from error


def xml_item(element: Element) -> dict[str, Any]:
    """An element as a dict: attributes as `@name`, each child's text under its tag (children
    that repeat become a list), nested children as nested dicts."""
    item: dict[str, Any] = {f"@{k}": v for k, v in element.attrib.items()}
    for child in element:
        value: Any = xml_item(child) if len(child) or child.attrib else (child.text or "").strip()
        tag = _local(child.tag)
        if tag in item:
            previous = item[tag]
            item[tag] = [*previous, value] if isinstance(previous, list) else [previous, value]
        else:
            item[tag] = value
    if not len(element) and (element.text or "").strip():
        item["#text"] = (element.text or "").strip()
    return item


def xml_items(stream: IO[bytes], tag: str, *, raw: bool = False) -> Iterator[Any]:
    """Each `<tag>` element (namespaces ignored) as `xml_item` makes it, or as an Element."""
    open_elements: list[Element] = []  # the elements around the one being read
    inside = 0  # how many `<tag>` elements are open (an item may nest one of its own tag)
    for event, element in iterparse(stream, events=("start", "end"), forbid_dtd=True):
        if event == "start":
            open_elements.append(element)
            inside += _local(element.tag) == tag
            continue
        open_elements.pop()
        if _local(element.tag) != tag:
            continue
        inside -= 1
        if inside == 0:
            yield element if raw else xml_item(element)
            # Drop what was read: the tree never holds more than the item being read.
            element.clear()
            if open_elements:
                open_elements[-1].remove(element)


def _local(tag: str) -> str:
    return tag.rpartition("}")[2]
