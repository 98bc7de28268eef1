"""Row shaping shared by reads and writes: loading input files, flattening, string values.

Input files are parsed once at start and every row is pre-encoded to JSON, so serving a batch is a
bytes join, not a per-request `json.dumps` of hundreds of dicts.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Iterator
from itertools import islice
from pathlib import Path
from typing import Any

Row = dict[str, str]

#: Input types docs/container-api.md §2 lists; `full` is the deprecated alias of `input`.
INPUT_TYPES = ("input", "new", "modified", "unchanged", "deleted")
INPUT_ALIASES = {"full": "input"}
DEFAULT_SEPARATOR = "-"
#: Lines parsed per json.loads call when loading an input file.
_PARSE_CHUNK = 10_000
#: Columns starting with this are hidden unless `show-hidden` (§4): "columns with double
#: underscore in name. Hidden by default".
HIDDEN_PREFIX = "__"
#: ...but not these: the reference's own default reads return `___some_column` and
#: `___skipped_export`, and the platform's columns (`___id`, a data service's `___prefix`) start so.
PLATFORM_PREFIX = "___"


# One encoder reused for every call: json.dumps with non-default options builds a new encoder each
# time, which costs more than encoding a typical row.
_ENCODER = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False)


def encode(value: Any) -> str:
    """Compact UTF-8-friendly JSON, the one encoding used on the wire and in output files."""
    return _ENCODER.encode(value)


def as_string(value: Any) -> str:
    """A scalar as the platform stores it.

    docs/container-api.md §3.2: values are stored and served as strings. Booleans and
    null follow PHP's string cast (true → "1", false/null → ""), the server being PHP; this is our
    choice for unknown 2, not a documented rule.
    """
    if isinstance(value, str):
        return value
    if value is True:
        return "1"
    if value is False or value is None:
        return ""
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return str(value)


def flatten(row: dict[str, Any], separator: str = DEFAULT_SEPARATOR) -> Row:
    """Flatten nested dicts/lists into `parent<sep>key` / `parent<sep>index` columns.

    `{"taxon": [{"id": 11}]}` becomes `{"taxon-0-id": "11"}` as docs/container-api.md shows (§3.2,
    unknown 2). Our choices where the docs are silent: an empty dict or list becomes one
    column with an empty string; keys that already contain the separator are kept as they are; a
    later column silently wins over an earlier one with the same flattened name.
    """
    if all(type(v) is str for v in row.values()):
        return row  # fast path: the usual flat string row needs no work
    flat: Row = {}
    for key, value in row.items():
        _flatten_into(flat, str(key), value, separator)
    return flat


def _flatten_into(flat: Row, prefix: str, value: Any, separator: str) -> None:
    if isinstance(value, dict):
        items: Iterator[tuple[str, Any]] = ((str(k), v) for k, v in value.items())
    elif isinstance(value, list):
        items = ((str(i), v) for i, v in enumerate(value))
    else:
        flat[prefix] = as_string(value)
        return
    empty = True
    for key, child in items:
        empty = False
        _flatten_into(flat, f"{prefix}{separator}{key}", child, separator)
    if empty:
        flat[prefix] = ""


def is_hidden(column: str) -> bool:
    """Whether a default read leaves the column out: `__name` is hidden, `___name` is not (§4)."""
    return column.startswith(HIDDEN_PREFIX) and not column.startswith(PLATFORM_PREFIX)


def visible(row: Row) -> Row:
    """The row without hidden (`__name`) columns; `___name` columns stay."""
    return {k: v for k, v in row.items() if not is_hidden(k)}


class InvalidInputFileError(ValueError):
    """An input file that cannot be parsed; the emulator answers 500 "Invalid file." for it."""


class InputFile:
    """One input stream, parsed once; rows are pre-encoded so a batch is a bytes join.

    Only the encoded rows are kept, as UTF-8 bytes ready for the wire, never the parsed dicts
    (several times the memory at a million rows); a row without hidden columns shares one
    encoding for both variants.
    """

    def __init__(self, path: Path, rows: Iterable[Row]) -> None:
        self.path = path
        self._all: list[bytes] = []
        self._visible: list[bytes] = []
        for row in rows:
            encoded = encode(row).encode()
            self._all.append(encoded)
            hidden = any(is_hidden(key) for key in row)
            self._visible.append(encode(visible(row)).encode() if hidden else encoded)

    @property
    def count(self) -> int:
        return len(self._visible)

    def encoded(self, show_hidden: bool) -> list[bytes]:
        return self._all if show_hidden else self._visible


def load_input(path: Path) -> InputFile:
    """Parse a `.jsonl` (one object per line) or `.csv` (header row) file into memory."""
    return InputFile(path, _read_jsonl(path) if path.suffix == ".jsonl" else _read_csv(path))


def find_input(data_dir: Path, input_type: str) -> Path | None:
    """The file for `input_type`: `<type>.jsonl` wins over `<type>.csv`; `full.*` backs `input`."""
    names = [input_type] + [
        alias for alias, target in INPUT_ALIASES.items() if target == input_type
    ]
    for name in names:
        for suffix in (".jsonl", ".csv"):
            candidate = data_dir / f"{name}{suffix}"
            if candidate.is_file():
                return candidate
    return None


def _read_jsonl(path: Path) -> Iterator[Row]:
    """Rows of a JSON Lines file, flattened, streamed: never held in memory whole."""
    return (flatten(row) for row in read_objects(path))


def read_objects(path: Path) -> Iterator[dict[str, Any]]:
    """The objects of a JSON Lines file as they are (nested values kept), streamed.

    Blank lines are skipped; a line that is not a JSON object raises InvalidInputFileError
    naming the row.
    """
    with path.open(encoding="utf-8") as handle:
        lines = (line for line in handle if line.strip())
        number = 0
        while chunk := list(islice(lines, _PARSE_CHUNK)):
            for row in _parse_chunk(path, number, chunk):
                number += 1
                if not isinstance(row, dict):
                    raise InvalidInputFileError(f"{path}: row {number} is not a JSON object")
                yield row


def _parse_chunk(path: Path, first: int, lines: list[str]) -> list[Any]:
    try:
        # One C-level parse of many lines is much faster than a json.loads per line.
        parsed = json.loads("[" + ",".join(lines) + "]")
    except json.JSONDecodeError:
        parsed = None
    if not isinstance(parsed, list) or len(parsed) != len(lines):
        # Either a line is broken or it held more than one value: find the line to blame.
        parsed = [_parse_line(path, first + n, line) for n, line in enumerate(lines, start=1)]
    return parsed


def _parse_line(path: Path, number: int, line: str) -> Any:
    try:
        return json.loads(line)
    except json.JSONDecodeError as error:
        raise InvalidInputFileError(f"{path}: row {number}: {error}") from error


def _read_csv(path: Path) -> Iterator[Row]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.DictReader(handle)
        for row in reader:
            if None in row:
                raise InvalidInputFileError(f"{path}:{reader.line_num}: more cells than headers")
            yield {key: value or "" for key, value in row.items()}
