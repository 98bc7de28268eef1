"""Everything one emulated run remembers: inputs and cursors, output files, logs, processes, counts.

The Container API keeps state per run (§1, inference high), so a fresh `RunState` starts
with empty output files. Every method takes the lock: the HTTP server handles requests in threads.
"""

from __future__ import annotations

import contextlib
import json
import queue
import threading
import uuid
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, TextIO

from cde_emulator.rows import (
    INPUT_ALIASES,
    INPUT_TYPES,
    InputFile,
    InvalidInputFileError,
    encode,
    find_input,
    load_input,
)

#: Output types docs/container-api.md §2 lists. Anything else is rejected (strict reading of
#: unknown 3).
OUTPUT_TYPES = ("output", "feedback")
#: Files the emulator writes in the out dir; truncated at start because each run starts empty.
RECORD_FILES = ("output.jsonl", "feedback.jsonl", "logs.jsonl", "channel.jsonl")
_BUFFER_BYTES = 1 << 20


class Echo:
    """Copies log lines to a stream from its own thread, so requests never wait on it.

    A reader that stops draining the stream (a full stderr pipe) would otherwise block the request
    thread that echoes, and with it every request waiting for the state lock. Lines beyond
    `capacity` waiting lines are dropped and counted instead; logs.jsonl still has every line.
    """

    def __init__(self, stream: TextIO, capacity: int = 10_000) -> None:
        self._stream = stream
        self._lines: queue.Queue[str | None] = queue.Queue(capacity)
        self.dropped = 0
        self._thread = threading.Thread(target=self._drain, name="emulator-echo", daemon=True)
        self._thread.start()

    def put(self, line: str) -> None:
        try:
            self._lines.put_nowait(line)
        except queue.Full:
            self.dropped += 1

    def _drain(self) -> None:
        while (line := self._lines.get()) is not None:
            with contextlib.suppress(OSError, ValueError):
                print(line, file=self._stream, flush=True)

    def close(self, timeout: float = 1.0) -> None:
        """Let waiting lines out (briefly: a blocked stream must not hang the shutdown)."""
        with contextlib.suppress(queue.Full):
            self._lines.put(None, timeout=timeout)
        self._thread.join(timeout)


class MissingInputError(LookupError):
    """The run does not provide this input type (404 "Requested file not provided.")."""


@dataclass
class Cursor:
    """One read position per input type, shared by /next and /next_batch (unknown 7)."""

    file: InputFile
    position: int = 0


@dataclass(frozen=True)
class Process:
    """A storage/transport process; the emulator finishes them at once."""

    id: str
    kind: str

    def as_json(self) -> dict[str, Any]:
        # "finished" is our name for the end; only "running" is documented (unknown 9).
        return {"id": self.id, "status": "finished", "exit-code": 0, "seconds-remaining": 0}


class RunState:
    """The per-run memory behind the HTTP routes."""

    def __init__(self, data_dir: Path, out_dir: Path, echo: TextIO | None = None) -> None:
        self.data_dir = data_dir
        self.out_dir = out_dir
        self._echo = Echo(echo) if echo is not None else None
        self._lock = threading.RLock()
        self._cursors: dict[str, Cursor] = {}
        self._invalid: dict[str, str] = {}
        self._load_inputs()
        out_dir.mkdir(parents=True, exist_ok=True)
        self._files: dict[str, IO[str]] = {
            name: (out_dir / name).open("w", encoding="utf-8", buffering=_BUFFER_BYTES)
            for name in RECORD_FILES
        }
        self.processes: dict[str, Process] = {}
        self.rows_served: Counter[str] = Counter()
        self.rows_written: Counter[str] = Counter()
        self.logs_by_level: Counter[str] = Counter()
        self.channel: Counter[str] = Counter()
        self.feed: Counter[str] = Counter()
        self.requests = 0
        self.closed = False

    def _load_inputs(self) -> None:
        """Parse every input file once; a broken one is remembered and answered with 500."""
        for input_type in INPUT_TYPES:
            path = find_input(self.data_dir, input_type)
            if path is None:
                continue
            try:
                self._cursors[input_type] = Cursor(load_input(path))
            except (InvalidInputFileError, UnicodeDecodeError, OSError) as error:
                self._invalid[input_type] = str(error)

    @property
    def invalid_inputs(self) -> dict[str, str]:
        return dict(self._invalid)

    # -- input ---------------------------------------------------------------------------------

    def _cursor(self, input_type: str) -> Cursor:
        input_type = INPUT_ALIASES.get(input_type, input_type)
        if input_type in self._invalid:
            raise InvalidInputFileError(self._invalid[input_type])
        try:
            return self._cursors[input_type]
        except KeyError:
            raise MissingInputError(input_type) from None

    def take(self, input_type: str, size: int, show_hidden: bool) -> list[bytes]:
        """Advance the cursor by up to `size` rows and return them JSON-encoded."""
        with self._lock:
            cursor = self._cursor(input_type)
            start = cursor.position
            rows = cursor.file.encoded(show_hidden)[start : start + size]
            cursor.position = start + len(rows)
            self.rows_served[INPUT_ALIASES.get(input_type, input_type)] += len(rows)
            return rows

    def step_back(self, input_type: str, rows: int) -> None:
        """Move the cursor back `rows` rows: the next read answers them again (a stuck cursor)."""
        with self._lock:
            cursor = self._cursor(input_type)
            cursor.position = max(0, cursor.position - rows)

    def restart(self, input_type: str) -> None:
        with self._lock:
            self._cursor(input_type).position = 0

    def count(self, input_type: str) -> int:
        """Total rows of the file, whatever the cursor (§3.7, inference high)."""
        with self._lock:
            return self._cursor(input_type).file.count

    # -- output and logs -----------------------------------------------------------------------

    def write_rows(self, output_type: str, rows: list[dict[str, str]]) -> None:
        lines = "".join(encode(row) + "\n" for row in rows)
        with self._lock:
            self._files[f"{output_type}.jsonl"].write(lines)
            self.rows_written[output_type] += len(rows)

    def write_log(self, level: str, message: str, context: dict[str, Any]) -> None:
        line = encode({"level": level, "message": message, "context": context}) + "\n"
        with self._lock:
            self._files["logs.jsonl"].write(line)
            self.logs_by_level[level] += 1
        if self._echo is not None:
            # The connector logs to the API, not its console: echo so a local run is readable.
            self._echo.put(f"[container-api log] {level}: {message}")

    def record_channel_call(self, record: dict[str, Any]) -> None:
        line = encode(record) + "\n"
        with self._lock:
            self._files["channel.jsonl"].write(line)
            self.channel["calls"] += 1
            for key in ("products", "deleted", "rejected"):
                self.channel[key] += int(record.get(key, 0))

    def record_feed_page(self, products: int) -> None:
        with self._lock:
            self.feed["pages"] += 1
            self.feed["products"] += products

    def flush(self) -> None:
        """Push buffered lines to disk; called on status requests, reads of records, and close."""
        with self._lock:
            if not self.closed:
                for handle in self._files.values():
                    handle.flush()

    def close(self) -> None:
        with self._lock:
            if not self.closed:
                for handle in self._files.values():
                    handle.close()
                self.closed = True
        if self._echo is not None:
            self._echo.close()

    def read_records(self, name: str) -> list[dict[str, Any]]:
        """The JSON lines of one record file (after a flush), for tests and the summary."""
        self.flush()
        path = self.out_dir / name
        if not path.is_file():
            return []
        with path.open(encoding="utf-8") as handle:
            return [json.loads(line) for line in handle if line.strip()]

    # -- processes -----------------------------------------------------------------------------

    def start_process(self, kind: str) -> Process:
        process = Process(id=str(uuid.uuid4()), kind=kind)
        with self._lock:
            self.processes[process.id] = process
        return process

    # -- summary -------------------------------------------------------------------------------

    def count_request(self) -> None:
        with self._lock:
            self.requests += 1

    def summary(self) -> dict[str, Any]:
        """What the run did, as JSON: served, written, logged, channel calls."""
        self.flush()
        with self._lock:
            return {
                "data_dir": str(self.data_dir),
                "out_dir": str(self.out_dir),
                "requests": self.requests,
                "rows_served": dict(sorted(self.rows_served.items())),
                "rows_written": {t: self.rows_written[t] for t in OUTPUT_TYPES},
                "logs": dict(sorted(self.logs_by_level.items())),
                "channel": {
                    k: self.channel[k] for k in ("calls", "products", "deleted", "rejected")
                },
                "feed": {k: self.feed[k] for k in ("pages", "products")},
                "processes": len(self.processes),
                "input_counts": {t: c.file.count for t, c in sorted(self._cursors.items())},
                "invalid_inputs": dict(self._invalid),
            }


def format_summary(summary: dict[str, Any]) -> str:
    """The summary as the few lines printed at shutdown."""

    def pairs(counts: dict[str, int]) -> str:
        return ", ".join(f"{k} {v}" for k, v in counts.items()) or "none"

    channel = summary["channel"]
    lines = [
        "Emulator summary",
        f"  requests:      {summary['requests']}",
        f"  rows served:   {pairs(summary['rows_served'])}",
        f"  rows written:  {pairs(summary['rows_written'])}",
        f"  logs:          {pairs(summary['logs'])}",
        f"  channel calls: {channel['calls']} ({channel['products']} products sent, "
        f"{channel['deleted']} deletes, {channel['rejected']} rejected)",
    ]
    feed = summary.get("feed", {})
    if feed.get("pages"):
        lines.append(f"  feed pages:    {feed['pages']} ({feed['products']} products served)")
    if summary.get("faults_fired"):
        lines.append(f"  faults fired:  {', '.join(summary['faults_fired'])}")
    for input_type, error in summary.get("invalid_inputs", {}).items():
        lines.append(f"  INVALID INPUT {input_type}: {error}")
    return "\n".join(lines)
