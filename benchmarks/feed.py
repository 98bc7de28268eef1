"""Remote-feed cases: the data source against the emulator's feed stand-in with a latency.

A production data source reads a remote product API page by page, each page costing tens to
hundreds of milliseconds. Read one page after the other, an import takes at least
`pages x latency` (the *sequential bound*). These cases run `main.py data-source` against the
emulator started with `--feed FILE --feed-latency MS --feed-page-size N` and report, per way of
paging:

- `next links`: FEED_URL=<emulator>/feed, each page names the next; the handler reads one page
  ahead (`read_ahead`), so the wait for page k+1 overlaps writing page k, but pages still come
  one after the other: the bound is the best it can do;
- `next links, no read-ahead`: the same with `read_ahead(...)` removed from the baked handler,
  to show what the read-ahead is worth (skipped if the handler no longer has that line);
- `numbered, N at once`: FEED_URL=<emulator>/feed?page={page} with FEED_CONCURRENCY = N
  rewritten in the baked handler; N pages in flight at once, written in order.

Per case: wall time, speed-up = sequential bound / wall (start-up included), CPU microseconds per
row of the connector (all threads), the emulator's CPU during the case, and peak RSS.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks import data as datasets
from benchmarks.procs import EmulatorProcess, run_measured
from benchmarks.report import latency_figures, latency_text, replace_block

HANDLER = Path("connector") / "modes" / "data_source.py"
START = "<!-- benchmarks:feed:start -->"
END = "<!-- benchmarks:feed:end -->"
MIB = 1024
READ_AHEAD = "return read_ahead(read_api_pages(feed))"


@dataclass(frozen=True)
class FeedCase:
    name: str
    path: str  # appended to the emulator's URL to make FEED_URL
    concurrency: int | None = None  # FEED_CONCURRENCY to set, for numbered pages
    read_ahead: bool = True


def cases(concurrencies: list[int]) -> list[FeedCase]:
    return [
        FeedCase("next links", "/feed"),
        FeedCase("next links, no read-ahead", "/feed", read_ahead=False),
        *(FeedCase(f"numbered, {c} at once", "/feed?page={page}", c) for c in concurrencies),
    ]


def prepare_handler(original: str, case: FeedCase) -> str | None:
    """The baked handler's text for `case`, or None when the case cannot be set up."""
    text = original
    if case.concurrency is not None:
        text, found = re.subn(
            r"^FEED_CONCURRENCY = .*$",
            f"FEED_CONCURRENCY = {case.concurrency}",
            text,
            flags=re.MULTILINE,
        )
        if found != 1:
            return None
    if not case.read_ahead:
        if READ_AHEAD not in text:
            return None
        text = text.replace(READ_AHEAD, "return read_api_pages(feed)")
    return text


def run_feed(
    project: Path,
    work: Path,
    *,
    python: str,
    env_for: Callable[[str], dict[str, str]],
    rows: int,
    concurrencies: list[int],
    latency_ms: float,
    page_size: int,
    log: Callable[[str], None],
) -> dict[str, Any]:
    handler = project / HANDLER
    original = handler.read_text(encoding="utf-8")
    data, _ = datasets.ensure(work / "data" / str(rows), rows)
    runs = []
    try:
        for case in cases(concurrencies):
            text = prepare_handler(original, case)
            if text is None:
                log(f"  feed {case.name}: skipped (the baked handler has no line to change)")
                continue
            handler.write_text(text, encoding="utf-8")
            runs.append(_run_one(project, work, data, python, env_for, case, latency_ms, page_size))
            log(line(runs[-1]))
    finally:
        handler.write_text(original, encoding="utf-8")
    return {"latency_ms": latency_ms, "page_size": page_size, "runs": runs}


def _run_one(
    project: Path,
    work: Path,
    data: datasets.DataSet,
    python: str,
    env_for: Callable[[str], dict[str, str]],
    case: FeedCase,
    latency_ms: float,
    page_size: int,
) -> dict[str, Any]:
    out = work / "out" / f"feed-{data.rows}"
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    feed_file = data.input_dir / "input.jsonl"
    emulator = EmulatorProcess(
        project,
        work / "out" / "empty",  # the data source reads no Container API input
        out,
        feed=feed_file,
        feed_latency_ms=latency_ms,
        feed_page_size=page_size,
    )
    (work / "out" / "empty").mkdir(parents=True, exist_ok=True)
    with emulator:
        load = os.getloadavg()[0]
        emulator_before = emulator.cpu_seconds()
        measured = run_measured(
            [python, "main.py", "data-source"],
            cwd=project,
            env=env_for(emulator.url + case.path),
            timeout=3600,
        )
        emulator_cpu = emulator.cpu_seconds() - emulator_before
        status = emulator.status()
    shutil.rmtree(out, ignore_errors=True)
    pages = -(-data.rows // page_size)
    bound = pages * latency_ms / 1000
    written = int(status.get("rows_written", {}).get("output", 0))
    problems = []
    if written != data.rows:
        problems.append(f"wrote {written} of {data.rows} products")
    return {
        "case": case.name,
        "pages": pages,
        "pages_served": int(status.get("feed", {}).get("pages", 0)),
        **latency_figures(measured, data.rows, bound, emulator_cpu, load, problems),
    }


def line(run: dict[str, Any]) -> str:
    return f"  feed {run['case']:<26} {run['rows']:>9,} rows: {latency_text(run)}"


def table(feed: dict[str, Any]) -> str:
    lines = [
        "| paging | products | pages | sequential bound | wall | speed-up | CPU / row | "
        "emulator CPU | peak RSS | load |",
        "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|",
    ]
    for run in feed["runs"]:
        lines.append(
            f"| {run['case']} | {run['rows']:,} | {run['pages']:,} | {run['bound']:.1f} s | "
            f"{run['wall']:.2f} s | x{run['speedup']:.2f} | "
            f"{1e6 * run['cpu'] / run['rows']:.0f} µs | {run['emulator_cpu']:.1f} s | "
            f"{run['rss_kib'] / MIB:.0f} MiB | {run['load']:.1f} |"
            + (" ⚠ " + "; ".join(run["problems"]) if run["problems"] else "")
        )
    return "\n".join(lines)


def block(feed: dict[str, Any], meta: dict[str, Any]) -> str:
    return "\n".join(
        [
            START,
            "",
            f"Measured {meta.get('date', '?')}, {meta.get('cores', '?')} cores "
            f"({meta.get('cpu', '?')}), 1-minute load {meta.get('load_start', '?')} at start; "
            f"feed stand-in latency {feed['latency_ms']:.0f} ms a page, "
            f"{feed['page_size']} products a page. Command: `{meta.get('command', '?')}`.",
            "",
            table(feed),
            "",
            END,
        ]
    )


def write_docs(path: Path, feed: dict[str, Any], meta: dict[str, Any]) -> None:
    """Replace the feed block between its markers in `path`."""
    replace_block(path, START, END, block(feed, meta))
