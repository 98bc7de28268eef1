"""Remote-channel cases: the export against a channel stand-in that answers after a latency.

Production channels are remote: each request costs tens to hundreds of milliseconds and carries
a limited number of products. Sent one at a time, an export takes at least
`requests x latency` (the *sequential bound*). These cases run `main.py export` with
CHANNEL_BATCH_SIZE and CHANNEL_CONCURRENCY rewritten in the baked project's connector/channel.py
and the emulator started with `--channel-latency`, and report per concurrency:

- speed-up = sequential bound / wall time (1.0 = no better than one request at a time;
  the ideal is the concurrency itself);
- CPU microseconds per row of the connector process (user + system, all threads, start-up
  included), which the machine's other load disturbs far less than wall time;
- CPU ceiling = sequential bound / the connector's CPU seconds: the speed-up it could reach at
  most with a core to itself (past it, the run is CPU-bound, not latency-bound);
- the emulator's CPU seconds during the case (it shares the machine's cores);
- peak RSS of the connector process, and its growth between the smallest and largest size at
  one concurrency (memory must be bounded by the requests in flight, not by the input).

All concurrencies run back to back in one invocation, so the ratios between them share the
machine's load; the wall-time figures themselves are noisy on a shared machine.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

from benchmarks import data as datasets
from benchmarks.procs import EmulatorProcess, run_measured
from benchmarks.report import latency_figures, latency_text, replace_block

CHANNEL_FILE = Path("connector") / "channel.py"
START = "<!-- benchmarks:remote:start -->"
END = "<!-- benchmarks:remote:end -->"
MIB = 1024


def set_channel_constants(project: Path, batch_size: int, concurrency: int) -> None:
    """Rewrite CHANNEL_BATCH_SIZE and CHANNEL_CONCURRENCY in the baked project."""
    path = project / CHANNEL_FILE
    text = path.read_text(encoding="utf-8")
    for name, value in (("CHANNEL_BATCH_SIZE", batch_size), ("CHANNEL_CONCURRENCY", concurrency)):
        text, found = re.subn(rf"^{name} = .*$", f"{name} = {value}", text, flags=re.MULTILINE)
        if found != 1:
            raise SystemExit(f"{path} does not declare {name} once; cannot run the remote cases")
    path.write_text(text, encoding="utf-8")


def run_remote(
    project: Path,
    work: Path,
    *,
    python: str,
    env_for: Callable[[str], dict[str, str]],
    speed_rows: int,
    memory_rows: list[int],
    concurrencies: list[int],
    latency_ms: float,
    batch_size: int,
    memory_concurrency: int,
    log: Callable[[str], None],
) -> dict[str, Any]:
    """Every concurrency at `speed_rows`, then `memory_concurrency` at each of `memory_rows`."""
    original = (project / CHANNEL_FILE).read_text(encoding="utf-8")
    plan = [(speed_rows, c, "speed") for c in concurrencies]
    plan += [(size, memory_concurrency, "memory") for size in memory_rows]
    runs = []
    try:
        for size, concurrency, kind in plan:
            data, _ = datasets.ensure(work / "data" / str(size), size)
            set_channel_constants(project, batch_size, concurrency)
            run = _run_one(project, work, data, python, env_for, concurrency, latency_ms, log)
            runs.append(run | {"kind": kind})
    finally:
        (project / CHANNEL_FILE).write_text(original, encoding="utf-8")
    return {
        "latency_ms": latency_ms,
        "batch_size": batch_size,
        "memory_concurrency": memory_concurrency,
        "runs": runs,
    }


def _run_one(
    project: Path,
    work: Path,
    data: datasets.DataSet,
    python: str,
    env_for: Callable[[str], dict[str, str]],
    concurrency: int,
    latency_ms: float,
    log: Callable[[str], None],
) -> dict[str, Any]:
    out = work / "out" / f"remote-{data.rows}-{concurrency}"
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    emulator = EmulatorProcess(project, data.input_dir, out, channel_latency_ms=latency_ms)
    with emulator:
        load = os.getloadavg()[0]
        emulator_before = emulator.cpu_seconds()
        measured = run_measured(
            [python, "main.py", "export"], cwd=project, env=env_for(emulator.url), timeout=3600
        )
        emulator_cpu = emulator.cpu_seconds() - emulator_before
        status = emulator.status()
    shutil.rmtree(out, ignore_errors=True)
    channel = status.get("channel", {})
    requests = int(channel.get("calls", 0))
    bound = requests * latency_ms / 1000
    problems = []
    if int(channel.get("products", 0)) != data.rows:
        problems.append(f"channel got {channel.get('products')} of {data.rows} products")
    figures = latency_figures(measured, data.rows, bound, emulator_cpu, load, problems)
    run = {"concurrency": concurrency, "requests": requests, **figures}
    log(f"  remote {data.rows:>9,} rows, {concurrency:>2} in flight: {latency_text(run)}")
    return run


def table(remote: dict[str, Any]) -> str:
    lines = [
        "| products | in flight | requests | sequential bound | wall | speed-up | "
        "CPU / row | CPU ceiling | emulator CPU | peak RSS | load |",
        "|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|",
    ]
    for run in remote["runs"]:
        lines.append(
            f"| {run['rows']:,} | {run['concurrency']} | {run['requests']:,} | "
            f"{run['bound']:.1f} s | {run['wall']:.2f} s | x{run['speedup']:.2f} | "
            f"{1e6 * run['cpu'] / run['rows']:.0f} µs | "
            f"x{run['bound'] / run['cpu'] if run['cpu'] else 0:.1f} | "
            f"{run.get('emulator_cpu', 0):.1f} s | {run['rss_kib'] / MIB:.0f} MiB | "
            f"{run['load']:.1f} |" + (" ⚠ " + "; ".join(run["problems"]) if run["problems"] else "")
        )
    return "\n".join(lines)


def growth(remote: dict[str, Any]) -> tuple[int, int, float] | None:
    """(smallest size, largest size, RSS growth in MiB) of the memory runs."""
    runs = [r for r in remote["runs"] if r["kind"] == "memory"]
    if len(runs) < 2:
        return None
    small = min(runs, key=lambda r: r["rows"])
    large = max(runs, key=lambda r: r["rows"])
    return small["rows"], large["rows"], (large["rss_kib"] - small["rss_kib"]) / MIB


def block(remote: dict[str, Any], meta: dict[str, Any]) -> str:
    target = next(
        (r for r in remote["runs"] if r["kind"] == "speed" and r["concurrency"] == 8), None
    )
    lines = [
        START,
        "",
        f"Measured {meta.get('date', '?')}, {meta.get('cores', '?')} cores "
        f"({meta.get('cpu', '?')}), 1-minute load {meta.get('load_start', '?')} at start; "
        f"channel stand-in latency {remote['latency_ms']:.0f} ms, "
        f"{remote['batch_size']} products per request. Command: `{meta.get('command', '?')}`.",
        "",
        table(remote),
        "",
    ]
    if target is not None:
        verdict = "met" if target["speedup"] >= 5 else "NOT met"
        lines.append(
            f"- Target 8 in flight ≥ x5 the sequential bound: x{target['speedup']:.2f}, {verdict}."
        )
    measured = growth(remote)
    if measured is not None:
        small, large, mib = measured
        verdict = "met" if mib <= 10 else "NOT met"
        lines.append(
            f"- Target RSS growth ≤ 10 MiB from {small // 1000:,}k to {large // 1000:,}k products "
            f"({remote['memory_concurrency']} in flight): {mib:+.1f} MiB, {verdict}."
        )
    lines += ["", END]
    return "\n".join(lines)


def write_docs(path: Path, remote: dict[str, Any], meta: dict[str, Any]) -> None:
    """Replace the remote block between its markers in `path`."""
    replace_block(path, START, END, block(remote, meta))
