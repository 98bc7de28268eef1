"""Turn benchmark results (the JSON `run.py` saves) into console tables and docs/benchmarks.md."""

from __future__ import annotations

import statistics
from pathlib import Path
from typing import Any

MIB = 1024.0
START = "<!-- benchmarks:results:start (written by benchmarks/run.py --write-docs) -->"
END = "<!-- benchmarks:results:end -->"

# The targets of the "Benchmarks" issue.
DATA_SERVICE_MIN = 1.0  # x raw bound
EXPORT_MIN = 0.9  # x raw bound
RSS_GROWTH_MAX_MIB = 10.0
HEALTH_MAX_S = 1.0
BAKE_MAX_S = 1.0
EXPORT_CASES = ("export", "export-1%", "export-delta", "export-delta-1%")
# Above this share of one core during a case, the emulator is saturated (one GIL, one core).
EMULATOR_BUSY = 0.85


def case_line(
    case: str,
    size: int,
    rows: int,
    wall: float,
    cpu: float,
    emulator_cpu: float,
    rss_kib: int,
    startup: float,
    problems: list[str],
) -> str:
    """One progress line while the benchmark runs."""
    rate = rows / wall if wall else 0.0
    status = "ok" if not problems else "FAILED: " + "; ".join(problems)
    return (
        f"  {case:<16} {size:>9,} rows {wall:7.2f} s {rate:>9,.0f} rows/s  cpu {cpu:6.2f} s  "
        f"emulator cpu {emulator_cpu:6.2f} s ({_share(emulator_cpu, wall)})  "
        f"peak RSS {rss_kib / MIB:6.1f} MiB  [emulator start {startup:.1f} s] {status}"
    )


def _share(cpu: float, wall: float) -> str:
    return f"{100 * cpu / wall:.0f}%" if wall else "-"


def _per_row(seconds: float, case: dict[str, Any]) -> str:
    return f"{1e6 * seconds / case['rows']:.1f}" if case["rows"] else "-"


def _cases(results: dict[str, Any]) -> dict[tuple[str, int], dict[str, Any]]:
    return {(c["case"], c["size"]): c for c in results.get("cases", [])}


def _ratio(cases: dict[tuple[str, int], dict[str, Any]], name: str, size: int, base: str) -> float:
    case, bound = cases.get((name, size)), cases.get((base, size))
    if not case or not bound or not bound["rate"]:
        return 0.0
    return float(case["rate"] / bound["rate"])


def _sizes(results: dict[str, Any]) -> list[int]:
    return sorted({c["size"] for c in results.get("cases", [])})


def _names(results: dict[str, Any]) -> list[str]:
    seen: dict[str, None] = {}
    for case in results.get("cases", []):
        seen.setdefault(case["case"], None)
    return list(seen)


def rss_growth(results: dict[str, Any], name: str) -> float | None:
    """Peak RSS (MiB) at the largest size minus at the smallest, for one case."""
    cases = _cases(results)
    sizes = _sizes(results)
    if len(sizes) < 2:
        return None
    small, large = cases.get((name, sizes[0])), cases.get((name, sizes[-1]))
    if not small or not large:
        return None
    return float(large["rss_kib"] - small["rss_kib"]) / MIB


def figures_table(results: dict[str, Any]) -> str:
    cases = _cases(results)
    sizes = _sizes(results)
    lines = [
        "| case | rows read | wall s | rows/s | x raw | x raw-read | client CPU µs/row | "
        "emulator CPU µs/row | emulator busy | peak RSS MiB | RSS growth MiB | checks |",
        "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|---|",
    ]
    for size in sizes:
        for name in _names(results):
            case = cases.get((name, size))
            if case is None:
                continue
            growth = rss_growth(results, name) if size == sizes[-1] else None
            checks = "ok" if not case["problems"] else "**" + "; ".join(case["problems"]) + "**"
            runs = f" (best of {case['runs']})" if case.get("runs", 1) > 1 else ""
            lines.append(
                f"| {name} @ {size:,} | {case['rows']:,} | {case['wall']:.2f}{runs} | "
                f"{case['rate']:,.0f} | {_ratio(cases, name, size, 'raw'):.2f} | "
                f"{_ratio(cases, name, size, 'raw-read'):.2f} | {_per_row(case['cpu'], case)} | "
                f"{_per_row(case['emulator_cpu'], case)} | "
                f"{_share(case['emulator_cpu'], case['wall'])} | {case['rss_kib'] / MIB:.1f} | "
                f"{'' if growth is None else f'{growth:+.1f}'} | {checks} |"
            )
    return "\n".join(lines)


def bake_table(results: dict[str, Any]) -> str:
    bake = results.get("bake")
    if not bake:
        return "(bake timings skipped)"
    keys = ("cookiecutter", "cookiecutter_cpu", "copier", "copier_cpu")
    lines = [
        "| modes | cookiecutter wall s | cookiecutter CPU s | copier wall s | copier CPU s |",
        "|---|--:|--:|--:|--:|",
    ]
    for row in bake["combos"]:
        lines.append(
            f"| {row['modes']} | " + " | ".join(f"{row.get(k, 0):.3f}" for k in keys) + " |"
        )
    for label, pick in (("mean", statistics.mean), ("max", max)):
        cells = [pick(row.get(k, 0.0) for row in bake["combos"]) for k in keys]
        lines.append(f"| **{label}** | " + " | ".join(f"**{c:.3f}**" for c in cells) + " |")
    cold = bake.get("cold") or {}
    if cold:
        parts = [
            f"{tool} {'failed' if wall is None else f'{wall:.2f} s'}" for tool, wall in cold.items()
        ]
        lines.append("")
        lines.append(
            "Cold bake (a new process: imports + one bake of data-service+export+export-delta, "
            "via tests/bake.py): " + ", ".join(parts) + "."
        )
    return "\n".join(lines)


def health_table(results: dict[str, Any]) -> str:
    health = results.get("health") or {}
    lines = ["| mode | best of 5 s | median s | CPU s (best) |", "|---|--:|--:|--:|"]
    for mode, figures in health.items():
        if "error" in figures:
            lines.append(f"| {mode} | failed: {figures['error']} | | |")
        else:
            lines.append(
                f"| {mode} | {figures['best']:.3f} | {figures['median']:.3f} | "
                f"{figures.get('cpu', 0.0):.3f} |"
            )
    return "\n".join(lines)


def targets(results: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(target, measured, verdict) rows."""
    cases = _cases(results)
    sizes = _sizes(results)
    rows: list[tuple[str, str, str]] = []

    def verdict(ok: bool, miss: str) -> str:
        return "met" if ok else f"**missed** by {miss}"

    for size in sizes:
        ratio = _ratio(cases, "data-service", size, "raw")
        if ratio:
            rows.append(
                (
                    f"data-service ≥ {DATA_SERVICE_MIN:.1f}x raw bound @ {size:,}",
                    f"{ratio:.2f}x",
                    verdict(ratio >= DATA_SERVICE_MIN, f"{(DATA_SERVICE_MIN - ratio) * 100:.0f}%"),
                )
            )
        for name in EXPORT_CASES:
            # The raw bound reads each batch and posts it once, as an export posts each batch
            # once to its channel; the read-only loop (raw-read) is shown for scale.
            ratio = _ratio(cases, name, size, "raw")
            if not ratio:
                continue
            read_only = _ratio(cases, name, size, "raw-read")
            rows.append(
                (
                    f"{name} ≥ {EXPORT_MIN:.1f}x raw bound @ {size:,}",
                    f"{ratio:.2f}x raw" + (f" ({read_only:.2f}x raw-read)" if read_only else ""),
                    verdict(ratio >= EXPORT_MIN, f"{(EXPORT_MIN - ratio) * 100:.0f} points"),
                )
            )
    if len(sizes) > 1:
        for name in _names(results):
            if name.startswith("raw"):
                continue  # the yardsticks are bare httpx loops, not connectors
            growth = rss_growth(results, name)
            if growth is None:
                continue
            rows.append(
                (
                    f"{name}: peak RSS growth {sizes[0]:,} → {sizes[-1]:,} ≤ "
                    f"{RSS_GROWTH_MAX_MIB:.0f} MiB",
                    f"{growth:+.1f} MiB",
                    verdict(growth <= RSS_GROWTH_MAX_MIB, f"{growth - RSS_GROWTH_MAX_MIB:.1f} MiB"),
                )
            )
    for mode, figures in (results.get("health") or {}).items():
        if "best" in figures:
            best = figures["best"]
            rows.append(
                (
                    f"health check {mode} < {HEALTH_MAX_S:.0f} s",
                    f"{best:.3f} s (CPU {figures.get('cpu', 0.0):.3f} s)",
                    verdict(best < HEALTH_MAX_S, f"{best - HEALTH_MAX_S:.3f} s"),
                )
            )
    bake = results.get("bake")
    if bake:
        worst = max(row["cookiecutter"] for row in bake["combos"])
        mean = statistics.mean(row["cookiecutter"] for row in bake["combos"])
        worst_cpu = max(row.get("cookiecutter_cpu", 0.0) for row in bake["combos"])
        rows.append(
            (
                f"cookiecutter bake < {BAKE_MAX_S:.0f} s per combination",
                f"wall max {worst:.3f} s, mean {mean:.3f} s (CPU max {worst_cpu:.3f} s)",
                verdict(worst < BAKE_MAX_S, f"{worst - BAKE_MAX_S:.3f} s (slowest)"),
            )
        )
    return rows


def targets_table(results: dict[str, Any]) -> str:
    lines = ["| target | measured | verdict |", "|---|---|---|"]
    lines.extend(f"| {t} | {m} | {v} |" for t, m, v in targets(results))
    return "\n".join(lines)


def bottleneck_notes(results: dict[str, Any]) -> list[str]:
    """Mechanical observations: is the emulator saturated, how fast can it serve at all."""
    cases = _cases(results)
    notes = []
    for size in _sizes(results):
        raw, read = cases.get(("raw", size)), cases.get(("raw-read", size))
        if raw and read and raw["wall"]:
            notes.append(
                f"@ {size:,}: the emulator serves reads alone at {read['rate']:,.0f} rows/s; "
                f"read + write back at {raw['rate']:,.0f} rows/s, during which it used "
                f"{_share(raw['emulator_cpu'], raw['wall'])} of a core and the raw client "
                f"{_share(raw['cpu'], raw['wall'])}."
            )
        emulator = [c for (_, s), c in cases.items() if s == size and c.get("emulator_rss_kib")]
        if emulator:
            startup = max(c["emulator_startup"] for c in emulator)
            peak = max(c["emulator_rss_kib"] for c in emulator) / MIB / 1024
            notes.append(
                f"@ {size:,}: the emulator took up to {startup:.0f} s to load its input and "
                f"peaked at {peak:.1f} GiB RSS."
            )
        busy = [
            f"{name} ({_share(c['emulator_cpu'], c['wall'])})"
            for (name, s), c in cases.items()
            if s == size and c["wall"] and c["emulator_cpu"] / c["wall"] >= EMULATOR_BUSY
        ]
        if busy:
            notes.append(
                f"@ {size:,}: emulator saturated (≥ {EMULATOR_BUSY:.0%} of one core) in: "
                + ", ".join(busy)
                + "."
            )
    return notes


def profile_section(results: dict[str, Any], limit: int = 12) -> str:
    profile = results.get("profile")
    if not profile:
        return "(not profiled in this run: add `--profile`)"
    lines = [f"Tool: {profile.get('tool')}; data-service at {profile.get('rows', 0):,} rows."]
    if "text" in profile:
        lines += ["", "```", profile["text"], "```"]
        return "\n".join(lines)
    for who in ("connector", "emulator"):
        part = profile.get(who)
        if not part:
            continue
        lines += [
            "",
            f"**{who}** ({part['samples']:,} CPU samples, raw stacks in `{part['file']}`; "
            f"another {part.get('io_share', 0.0):.0f}% of the non-idle samples sat in socket "
            "calls, i.e. waiting on the peer or on the GIL, and are left out)",
            "",
            "| self % | function | | inclusive % | function |",
            "|--:|---|---|--:|---|",
        ]
        own, inclusive = part["self"][:limit], part["inclusive"][:limit]
        for index in range(max(len(own), len(inclusive))):
            left = own[index] if index < len(own) else ("", 0.0)
            right = inclusive[index] if index < len(inclusive) else ("", 0.0)
            lines.append(
                f"| {left[1]:.1f} | `{left[0]}` | | {right[1]:.1f} | `{right[0]}` |"
                if left[0]
                else f"| | | | {right[1]:.1f} | `{right[0]}` |"
            )
    return "\n".join(lines)


def summary(results: dict[str, Any]) -> str:
    meta = results.get("meta", {})
    parts = [
        f"# Benchmarks {meta.get('date', '')}: {meta.get('cpu', '?')}, {meta.get('cores', '?')} "
        f"cores, Python {meta.get('python', '?')}, load {meta.get('load_start', '?')} → "
        f"{meta.get('load_end', '?')}, {meta.get('total_seconds', '?')} s",
        "",
        figures_table(results),
        "",
        *[f"- {note}" for note in bottleneck_notes(results)],
        "",
        "Bake times",
        "",
        bake_table(results),
        "",
        "Health checks (`python main.py <mode> --health-check`)",
        "",
        health_table(results),
    ]
    suite = results.get("suite")
    if suite:
        parts += [
            "",
            f"Generated test suite (`python -m pytest -q`): {suite['wall']:.1f} s, exit "
            f"{suite['returncode']} ({suite['summary']})",
        ]
    parts += ["", "Targets", "", targets_table(results)]
    if results.get("profile"):
        parts += ["", "Profile", "", profile_section(results)]
    return "\n".join(parts)


def readme_table(results: dict[str, Any]) -> str:
    """A short table for the README: the largest size, throughput and memory."""
    cases = _cases(results)
    sizes = _sizes(results)
    if not sizes:
        return "(no cases)"
    size = sizes[-1]
    meta = results.get("meta", {})
    lines = [
        f"| {size:,} products | rows/s | x raw bound | peak RSS | RSS growth "
        f"{sizes[0] // 1000:,}k → {size // 1000:,}k |",
        "|---|--:|--:|--:|--:|",
    ]
    for name in _names(results):
        case = cases.get((name, size))
        if case is None:
            continue
        growth = rss_growth(results, name)
        lines.append(
            f"| {name} | {case['rate']:,.0f} | {_ratio(cases, name, size, 'raw'):.2f} | "
            f"{case['rss_kib'] / MIB:.0f} MiB | "
            f"{'-' if growth is None else f'{growth:+.1f} MiB'} |"
        )
    lines.append("")
    lines.append(
        f"Measured {meta.get('date', '')} on {meta.get('cores', '?')} cores "
        f"({meta.get('cpu', '?')}), Python {meta.get('python', '?')}; emulator in its own "
        "process; details in docs/benchmarks.md."
    )
    return "\n".join(lines)


def results_block(results: dict[str, Any]) -> str:
    meta = results.get("meta", {})
    suite = results.get("suite")
    notes = bottleneck_notes(results)
    parts = [
        START,
        "",
        "## Last run",
        "",
        f"- Date: {meta.get('date', '?')}",
        f"- Machine: {meta.get('cpu', '?')}, {meta.get('cores', '?')} cores, "
        f"{meta.get('memory', '?')} RAM, {meta.get('platform', '?')}",
        f"- Python: {meta.get('implementation', 'CPython')} {meta.get('python', '?')}; "
        f"connector run with {meta.get('runtime', '?')}",
        f"- Command: `{meta.get('command', '?')}` ({meta.get('total_seconds', '?')} s in all)",
        f"- 1-minute load average at start / end: {meta.get('load_start', '?')} / "
        f"{meta.get('load_end', '?')} (other work on the machine shows up in wall times)",
        "",
        "### Throughput and memory",
        "",
        figures_table(results),
        "",
        *[f"- {note}" for note in notes],
        *([""] if notes else []),
        "### Targets",
        "",
        targets_table(results),
        "",
        "### Bake time per combination (environment-variable mode, warm, in-process)",
        "",
        bake_table(results),
        "",
        "### Health check (`python main.py <mode> --health-check`, a new process each time)",
        "",
        health_table(results),
        "",
        "### Generated test suite",
        "",
        (
            f"`python -m pytest -q` in the baked all-modes project: {suite['wall']:.1f} s, exit "
            f"{suite['returncode']} ({suite['summary']})."
            + "".join(f"\n- {line}" for line in suite.get("failed", []))
            if suite
            else "(skipped in this run)"
        ),
        "",
        "### Profile (data-service)",
        "",
        profile_section(results),
        "",
        END,
    ]
    return "\n".join(parts)


DOC_HEAD = """# Benchmarks

How fast the generated connector moves products through the Container API, how much memory it
needs, and how long baking, health checks and the generated test suite take.

## How to run

From a clean clone, with the template's test tools and the generated project's runtime
dependencies installed
(`pip install -r requirements-test.txt`, as for the tests, plus `pip install py-spy` for
`--profile`):

```
python benchmarks/run.py                      # 100k and 1M products (about 15 minutes)
python benchmarks/run.py --quick              # 20k and 200k products (a few minutes)
python benchmarks/run.py --rows 50000 --cases raw,data-service --skip-bake --skip-suite
python benchmarks/run.py --profile --write-docs --readme-table
python benchmarks/run.py --from-results benchmarks/results/latest.json --write-docs
```

`--write-docs` rewrites only the part of this file between the two `benchmarks:results` markers;
the rest is written by hand. Raw results go to `benchmarks/results/` (git-ignored).

"""


def replace_block(path: Path, start: str, end: str, block: str) -> None:
    """Put `block` (which holds its own markers) in place of the `start` … `end` part of `path`."""
    text = path.read_text(encoding="utf-8")
    if start not in text or end not in text:
        raise SystemExit(f"{path} has no {start} … {end} block to fill")
    head, _, rest = text.partition(start)
    _, _, tail = rest.partition(end)
    path.write_text(head + block + tail, encoding="utf-8")


def latency_figures(
    measured: Any, rows: int, bound: float, emulator_cpu: float, load: Any, problems: list[str]
) -> dict[str, Any]:
    """The figures of one run against a stand-in with latency, next to its sequential bound."""
    if measured.returncode != 0:
        problems = [f"exit {measured.returncode}: {measured.stderr.strip()[-300:]}", *problems]
    return {
        "rows": rows,
        "bound": bound,
        "wall": measured.wall,
        "cpu": measured.cpu,
        "emulator_cpu": emulator_cpu,
        "rss_kib": measured.max_rss_kib,
        "speedup": bound / measured.wall if measured.wall else 0.0,
        "load": load,
        "problems": problems,
    }


def latency_text(run: dict[str, Any]) -> str:
    """The console figures of a `latency_figures` run."""
    return (
        f"{run['wall']:6.2f} s (sequential bound {run['bound']:.1f} s, x{run['speedup']:.2f}), "
        f"cpu {1e6 * run['cpu'] / run['rows']:.1f} µs/row (emulator {run['emulator_cpu']:.1f} s), "
        f"rss {run['rss_kib'] / MIB:.0f} MiB"
        + (f"  PROBLEMS: {'; '.join(run['problems'])}" if run["problems"] else "")
    )


def write_docs(path: Path, results: dict[str, Any]) -> None:
    """Replace the results block of `path` (create the file around it if needed)."""
    block = results_block(results)
    if path.is_file():
        text = path.read_text(encoding="utf-8")
        if START in text and END in text:
            replace_block(path, START, END, block)
            return
        path.write_text(text.rstrip() + "\n\n" + block + "\n", encoding="utf-8")
        return
    path.write_text(DOC_HEAD + block + "\n", encoding="utf-8")
