"""Benchmark the generated connector and the template, on this machine, in one run.

    python benchmarks/run.py [--rows 100000,1000000] [--quick] [--profile]
                             [--write-docs] [--readme-table] [--cases raw,data-service,...]

What it does (docs/benchmarks.md explains the method and the last results):
1. bakes every mode combination with cookiecutter and copier (environment-variable mode) and
   times each bake;
2. bakes one project with all four modes and times `python main.py <mode> --health-check` (best
   of 5) and the project's own test suite (`python -m pytest -q`);
3. writes synthetic products (--rows, default 100k and 1M) as JSON Lines, plus the same products
   split 40/30/20/10 % into the export-delta streams new/modified/unchanged/deleted;
4. per size and case, starts the baked project's emulator in its own process on a fresh out dir,
   runs the case as another process and measures its wall time, CPU time and peak RSS
   (os.wait4 rusage of that one process), the emulator's CPU time during the case, and checks
   the output (rows written == rows read, feedback rows == rejected products).

With --remote, the export also runs against a channel stand-in that answers after a latency
(`--channel-latency`), at 1, 4, 8 and 16 requests in flight: the speed-up over the sequential
bound (requests x latency), CPU per row and peak RSS, and RSS growth from 100k to 1M products
(benchmarks/remote.py). `--cases none --remote --skip-bake --skip-suite` runs only those.

With --feed, the data source reads the emulator's feed stand-in, which answers each page after a
latency (`--feed-latency`): `next`-linked pages (with and without the read-ahead) and numbered
pages at 1, 4 and 8 at once, against the sequential bound (pages x latency) (benchmarks/feed.py).

Cases: `raw` (the raw bound: one pooled httpx client, next_batch size 999, each batch posted
straight back to /output/output), `raw-read` (the same without writing: what the emulator can
serve), `data-service`, `export`, `export-1%` (channel rejects 1 %), `export-delta`,
`export-delta-1%`. Exits 1 if a case failed its checks; targets are reported, never asserted.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # `python benchmarks/run.py` puts benchmarks/, not the root, first
    sys.path.insert(0, str(ROOT))

from benchmarks import data as datasets  # noqa: E402
from benchmarks import feed, profiling, remote, report  # noqa: E402
from benchmarks.procs import EmulatorProcess, Measured, run_measured  # noqa: E402

RESULTS_DIR = ROOT / "benchmarks" / "results"
DOCS = ROOT / "docs" / "benchmarks.md"
DEFAULT_ROWS = (100_000, 1_000_000)
QUICK_ROWS = (20_000, 200_000)
CLI_MODES = ("data-source", "data-service", "export", "export-delta")
RAW_BOUND = ROOT / "benchmarks" / "raw_bound.py"
SLUG = "bench-connector"
# Data service options: copy the title into a new column.
DATA_SERVICE_ENV = {"NEW_COLUMN_NAME": "copied_title", "SOURCE_COLUMN": "title"}
CHANNEL_TOKEN = "benchmark-token"  # sent to the local channel stand-in only
REJECT_RATE = 0.01
CASE_TIMEOUT = 1800.0


@dataclass
class Runtime:
    """The interpreter that runs the connector, the raw bound and the health checks."""

    python: str = sys.executable
    description: str = "the benchmark's own interpreter and packages"


RUNTIME = Runtime()


def use_runtime_venv(project: Path, work: Path) -> None:
    """A venv with only the project's requirements.txt, like the image (no dev packages).

    Dev packages change the figures: e.g. httpx imports its optional CLI, and with it `rich`,
    whenever `rich` is installed, which the template's tools (cookiecutter) pull in.
    """
    venv = work / "runtime-venv"
    python = venv / "bin" / "python"
    if not python.is_file():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run(
            [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
             "-r", str(project / "requirements.txt")],
            check=True,
        )  # fmt: skip
    RUNTIME.python = str(python)
    RUNTIME.description = "a venv with only the project's requirements.txt (like the image)"


@dataclass(frozen=True)
class Case:
    """One way of moving the products through the emulator."""

    name: str
    inputs: str  # "input" (input.jsonl) or "delta" (new/modified/unchanged/deleted.jsonl)
    reject_rate: float = 0.0
    description: str = ""


CASES = (
    Case("raw", "input", description="raw bound: next_batch(999) → POST /output/output"),
    Case("raw-read", "input", description="raw reads only (what the emulator serves)"),
    Case("data-service", "input", description="main.py data-service (copy title column)"),
    Case("export", "input", description="main.py export, channel accepts all"),
    Case("export-1%", "input", REJECT_RATE, "main.py export, channel rejects 1 %"),
    Case("export-delta", "delta", description="main.py export-delta, 4 streams, accepts all"),
    Case("export-delta-1%", "delta", REJECT_RATE, "main.py export-delta, rejects 1 %"),
)


@dataclass
class CaseResult:
    case: str
    size: int
    rows: int = 0
    wall: float = 0.0
    cpu: float = 0.0
    emulator_cpu: float = 0.0
    rss_kib: int = 0
    emulator_rss_kib: int = 0
    emulator_startup: float = 0.0
    runs: int = 0
    walls: list[float] = field(default_factory=list)
    load: float = 0.0
    returncode: int = 0
    problems: list[str] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def rate(self) -> float:
        return self.rows / self.wall if self.wall else 0.0


# -- helpers ------------------------------------------------------------------------------------


def log(message: str) -> None:
    print(message, flush=True)


def machine() -> dict[str, Any]:
    cpu = "unknown"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    memory = ""
    with contextlib.suppress(OSError, ValueError, IndexError):
        for line in Path("/proc/meminfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("MemTotal"):
                memory = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    return {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "cpu": cpu,
        "cores": os.cpu_count() or 0,
        "memory": memory,
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "platform": platform.platform(terse=True),
        "load_start": round(os.getloadavg()[0], 2),
    }


def count_lines(path: Path) -> int:
    if not path.is_file():
        return 0
    lines = 0
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 24):
            lines += chunk.count(b"\n")
    return lines


def check_requirements(profile: bool) -> None:
    missing = []
    for module in ("cookiecutter", "copier", "httpx", "pydantic_settings", "tenacity", "pytest"):
        try:
            __import__(module)
        except ImportError:
            missing.append(module)
    if missing:
        raise SystemExit(
            f"missing Python packages: {', '.join(missing)}. Install what the template's tests "
            "use: `pip install -r requirements-test.txt` (see docs/benchmarks.md)."
        )
    if profile and profiling.py_spy() is None:
        with contextlib.suppress(ImportError):
            __import__("pyinstrument")
            return
        raise SystemExit("--profile needs py-spy (or pyinstrument): pip install py-spy")


# -- bake, health check, test suite --------------------------------------------------------------


def bake_times(work: Path) -> dict[str, Any]:
    """Bake each of the 15 combinations with both tools (env mode), warm, in this process."""
    from tests.bake import (
        all_combinations,
        bake_cookiecutter,
        bake_copier,
        mode_answers,
        working_copy,
    )

    shutil.rmtree(work / "template", ignore_errors=True)
    template = working_copy(work / "template")  # a clean-clone-like tree: no caches, no .git
    bakes: dict[str, Callable[..., Path]] = {
        "cookiecutter": bake_cookiecutter,
        "copier": bake_copier,
    }
    root = work / "bakes"
    # Warm-up: first calls pay imports and Jinja setup; those are measured by the cold bake below.
    for tool, bake in bakes.items():
        bake(mode_answers(("data_source",)), root / f"warm-{tool}", template=template)
    combos = []
    for index, modes in enumerate(all_combinations()):
        row: dict[str, Any] = {"modes": "+".join(modes)}
        for tool, bake in bakes.items():
            out = root / f"{tool}-{index}"
            cpu_before = _cpu_with_children()
            started = time.perf_counter()
            bake(mode_answers(modes), out, template=template)
            row[tool] = time.perf_counter() - started
            row[f"{tool}_cpu"] = _cpu_with_children() - cpu_before
            shutil.rmtree(out, ignore_errors=True)
        combos.append(row)
        log(f"  bake {row['modes']:<48} cookiecutter {row['cookiecutter']:.3f} s "
            f"(cpu {row['cookiecutter_cpu']:.3f})  copier {row['copier']:.3f} s "
            f"(cpu {row['copier_cpu']:.3f})")  # fmt: skip
    cold = {}
    for tool in bakes:
        out = root / f"cold-{tool}"
        answers = [f"mode_{mode}=true" for mode in ("data_service", "export", "export_delta")]
        measured = run_measured(
            [sys.executable, str(ROOT / "tests" / "bake.py"), "--tool", tool, "--out", str(out),
             *answers],
            cwd=ROOT,
        )  # fmt: skip
        cold[tool] = measured.wall if measured.returncode == 0 else None
        log(f"  cold bake (new process, all four modes) {tool}: {measured.wall:.2f} s")
    shutil.rmtree(root, ignore_errors=True)
    return {"combos": combos, "cold": cold}


def _cpu_with_children() -> float:
    """CPU seconds of this process plus its reaped children (cookiecutter runs hooks as those).

    Sums of user/system time add up across children, unlike ru_maxrss, so deltas are exact.
    """
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def bake_project(work: Path) -> Path:
    from tests.bake import MODES, bake_cookiecutter, mode_answers, working_copy

    template = work / "template"
    if not template.is_dir():
        working_copy(template)
    shutil.rmtree(work / "project", ignore_errors=True)
    answers = {**mode_answers(MODES), "project_slug": SLUG, "project_name": "Bench Connector"}
    return bake_cookiecutter(answers, work / "project", template=template)


def health_checks(project: Path, tries: int = 5) -> dict[str, Any]:
    results: dict[str, dict[str, Any]] = {}
    for mode in CLI_MODES:
        walls, cpus = [], []
        for _ in range(tries):
            measured = run_measured(
                [RUNTIME.python, "main.py", mode, "--health-check"], cwd=project, env=clean_env()
            )
            if measured.returncode != 0:
                results[mode] = {"error": measured.stderr.strip()[-300:]}
                break
            walls.append(measured.wall)
            cpus.append(measured.cpu)
        else:
            results[mode] = {
                "best": min(walls),
                "median": statistics.median(walls),
                "cpu": min(cpus),
            }
            log(
                f"  health check {mode}: best {min(walls):.3f} s of {tries} (cpu {min(cpus):.3f} s)"
            )
    return results


def test_suite(project: Path) -> dict[str, Any]:
    measured = run_measured(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"],
        cwd=project,
        env=clean_env(),
        timeout=CASE_TIMEOUT,
    )
    lines = [line for line in measured.stdout.strip().splitlines() if line.strip()]
    summary = lines[-1].strip("= ") if lines else measured.stderr.strip()[-200:]
    failed = [line.split(" - ")[0] for line in lines if line.startswith(("FAILED", "ERROR"))]
    log(f"  generated test suite: {measured.wall:.1f} s, exit {measured.returncode}: {summary}")
    for line in failed:
        log(f"    {line}")
    return {
        "wall": measured.wall,
        "returncode": measured.returncode,
        "summary": summary,
        "failed": failed,
    }


def clean_env(**extra: str) -> dict[str, str]:
    """This environment without variables that would change a connector run."""
    prefixes = ("CONTAINER_API_", "CHANNEL_", "FEED_", "NEW_COLUMN", "SOURCE_COLUMN")
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(prefixes) and key not in ("NAME", "SHOULD_FAIL")
    }
    env.update(extra)
    return env


# -- the cases ----------------------------------------------------------------------------------


def case_command(case: Case, url: str) -> tuple[list[str], dict[str, str]]:
    """The command and environment of one case against the emulator at `url`."""
    if case.name.startswith("raw"):
        command = [RUNTIME.python, str(RAW_BOUND), url]
        return ([*command, "--read-only"] if case.name == "raw-read" else command), clean_env()
    env = clean_env(CONTAINER_API_URL=url)
    if case.name == "data-service":
        env.update(DATA_SERVICE_ENV)
        mode = "data-service"
    else:
        env.update(CHANNEL_URL=f"{url}/channel", CHANNEL_TOKEN=CHANNEL_TOKEN)
        mode = "export-delta" if case.inputs == "delta" else "export"
    return [RUNTIME.python, "main.py", mode], env


def check_case(
    case: Case, data: datasets.DataSet, status: dict[str, Any], out: Path
) -> tuple[int, list[str], dict[str, Any]]:
    """Rows the case read, problems found in its output, and the figures behind them."""
    served = status.get("rows_served", {})
    written = status.get("rows_written", {})
    channel = status.get("channel", {})
    problems = []
    details: dict[str, Any] = {"served": served, "written": written, "channel": channel}
    if case.inputs == "input":
        rows = int(served.get("input", 0))
        if rows != data.rows:
            problems.append(f"read {rows} of {data.rows} input rows")
    else:
        streams = ("new", "modified", "deleted")
        rows = sum(int(served.get(s, 0)) for s in streams)
        for stream in streams:
            if int(served.get(stream, 0)) != data.delta_rows(stream):
                problems.append(
                    f"read {served.get(stream, 0)} of {data.delta_rows(stream)} {stream}"
                )
    if case.name == "raw" or case.name == "data-service":
        lines = count_lines(out / "output.jsonl")
        details["output_lines"] = lines
        if int(written.get("output", 0)) != rows or lines != rows:
            problems.append(f"wrote {written.get('output')} rows ({lines} lines) for {rows} read")
    if case.name == "data-service":
        with (out / "output.jsonl").open(encoding="utf-8") as handle:
            first = json.loads(handle.readline() or "{}")
        if first.get("copied_title") != first.get("title") or "title" not in first:
            problems.append("output rows lack copied_title == title")
    if case.name.startswith("export"):
        sent = int(channel.get("products", 0))
        expected_sent = (
            data.rows
            if case.inputs == "input"
            else data.delta_rows("new") + data.delta_rows("modified")
        )
        if sent != expected_sent:
            problems.append(f"channel got {sent} products, expected {expected_sent}")
        rejected = int(channel.get("rejected", 0))
        feedback = int(written.get("feedback", 0))
        lines = count_lines(out / "feedback.jsonl")
        details.update(rejected=rejected, feedback_rows=feedback, feedback_lines=lines)
        if not feedback == lines == rejected:
            problems.append(f"feedback rows {feedback} (file {lines}) != rejected {rejected}")
        if case.reject_rate == 0 and rejected:
            problems.append(f"{rejected} rejected with reject rate 0")
        if case.reject_rate and not 0.5 * case.reject_rate < rejected / max(rows, 1) < 2 * (
            case.reject_rate
        ):
            problems.append(f"{rejected} rejected of {rows}: far from {case.reject_rate:.0%}")
    return rows, problems, details


@contextlib.contextmanager
def emulator_for(
    project: Path, case: Case, data: datasets.DataSet, out: Path
) -> Iterator[EmulatorProcess]:
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    data_dir = data.input_dir if case.inputs == "input" else data.delta_dir
    emulator = EmulatorProcess(
        project,
        data_dir,
        out,
        channel_reject_rate=case.reject_rate,
        log_file=out.parent / f"{out.name}.emulator.log",
    )
    emulator.start()
    try:
        yield emulator
    finally:
        emulator.stop()


def run_case(
    project: Path, case: Case, data: datasets.DataSet, work: Path, repeat: int
) -> CaseResult:
    """Best of `repeat` runs (by wall time), each on a freshly started emulator."""
    result = CaseResult(case.name, data.rows)
    best: Measured | None = None
    for attempt in range(repeat):
        out = work / "out" / f"{case.name}-{data.rows}"
        with emulator_for(project, case, data, out) as emulator:
            command, env = case_command(case, emulator.url)
            load = os.getloadavg()[0]
            emulator_before = emulator.cpu_seconds()
            measured = run_measured(command, cwd=project, env=env, timeout=CASE_TIMEOUT)
            emulator_cpu = emulator.cpu_seconds() - emulator_before
            status = emulator.status()
        rows, problems, details = check_case(case, data, status, out)
        if measured.returncode != 0:
            problems.insert(0, f"exit {measured.returncode}: {measured.stderr.strip()[-400:]}")
        result.walls.append(measured.wall)
        result.rss_kib = max(result.rss_kib, measured.max_rss_kib)
        result.emulator_rss_kib = max(result.emulator_rss_kib, emulator.max_rss_kib)
        if best is None or measured.wall < best.wall or problems:
            best = measured
            result.rows, result.wall, result.cpu = rows, measured.wall, measured.cpu
            result.emulator_cpu, result.load = emulator_cpu, load
            result.emulator_startup = emulator.startup
            result.returncode, result.problems, result.details = (
                measured.returncode,
                problems,
                details,
            )
        result.runs = attempt + 1
        if problems:
            break
    shutil.rmtree(work / "out", ignore_errors=True)
    return result


def profile_data_service(project: Path, data: datasets.DataSet, work: Path) -> dict[str, Any]:
    """data-service under py-spy (all threads) plus py-spy on the emulator serving it."""
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    case = next(c for c in CASES if c.name == "data-service")
    out = work / "out" / "profile"
    result: dict[str, Any] = {"rows": data.rows}
    if profiling.py_spy() is None:
        return profile_with_pyinstrument(project, case, data, out)
    connector_file = RESULTS_DIR / "profile-data-service.txt"
    emulator_file = RESULTS_DIR / "profile-emulator.txt"
    with emulator_for(project, case, data, out) as emulator:
        attached = profiling.Attached(emulator.pid, emulator_file)
        time.sleep(1.0)  # let py-spy attach before the load starts
        command, env = case_command(case, emulator.url)
        measured = run_measured(
            profiling.py_spy_command(connector_file) + command, cwd=project, env=env
        )
        attached.stop()
    if measured.returncode != 0 or not connector_file.is_file():
        log(f"  py-spy failed ({measured.stderr.strip()[-300:]}); trying pyinstrument")
        return profile_with_pyinstrument(project, case, data, out)
    result.update(tool="py-spy (all threads, CPU samples only)", wall=measured.wall)
    for name, path in (("connector", connector_file), ("emulator", emulator_file)):
        if path.is_file():
            parsed = profiling.parse_collapsed(path.read_text(encoding="utf-8"))
            result[name] = {
                "samples": parsed.samples,
                "io_share": parsed.io_share,
                "self": parsed.top("self"),
                "inclusive": parsed.top("inclusive"),
                "file": str(path.relative_to(ROOT)),
            }
    shutil.rmtree(work / "out", ignore_errors=True)
    return result


def profile_with_pyinstrument(
    project: Path, case: Case, data: datasets.DataSet, out: Path
) -> dict[str, Any]:
    text_file = RESULTS_DIR / "profile-data-service-pyinstrument.txt"
    with emulator_for(project, case, data, out) as emulator:
        command, env = case_command(case, emulator.url)
        measured = run_measured(
            [sys.executable, "-m", "pyinstrument", "--show-all", "-o", str(text_file),
             *command[1:]],
            cwd=project,
            env=env,
        )  # fmt: skip
    text = text_file.read_text(encoding="utf-8") if text_file.is_file() else measured.stderr
    return {
        "rows": data.rows,
        "tool": "pyinstrument (main thread only)",
        "wall": measured.wall,
        "text": "\n".join(text.splitlines()[:60]),
        "file": str(text_file.relative_to(ROOT)),
    }


# -- main ---------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--rows",
        default=None,
        help="comma-separated product counts (default 100000,1000000; --quick 20000,200000)",
    )
    parser.add_argument("--quick", action="store_true", help="20k and 200k rows: a fast check")
    parser.add_argument(
        "--cases",
        default=",".join(c.name for c in CASES),
        help="comma-separated subset of: " + ", ".join(c.name for c in CASES).replace("%", "%%"),
    )
    parser.add_argument(
        "--repeat",
        type=int,
        default=None,
        help="runs per case, best kept (default 2 up to 200k rows, else 1)",
    )
    parser.add_argument(
        "--runtime-venv",
        action="store_true",
        help="run the connector from a venv with only its requirements.txt (needs PyPI access)",
    )
    parser.add_argument("--profile", action="store_true", help="profile data-service (py-spy)")
    parser.add_argument(
        "--remote", action="store_true", help="run the remote-channel cases (benchmarks/remote.py)"
    )
    parser.add_argument(
        "--remote-latency", type=float, default=50.0, metavar="MS", help="channel latency (50)"
    )
    parser.add_argument(
        "--remote-batch", type=int, default=100, help="products per channel request (100)"
    )
    parser.add_argument(
        "--remote-concurrency",
        default="1,4,8,16",
        help="comma-separated requests in flight for the speed-up cases (1,4,8,16)",
    )
    parser.add_argument(
        "--remote-rows", type=int, default=100_000, help="products in the speed-up cases (100000)"
    )
    parser.add_argument(
        "--remote-memory-rows",
        default="100000,1000000",
        help="comma-separated sizes for RSS growth at 8 in flight (100000,1000000)",
    )
    parser.add_argument(
        "--feed", action="store_true", help="run the remote-feed cases (benchmarks/feed.py)"
    )
    parser.add_argument(
        "--feed-latency", type=float, default=50.0, metavar="MS", help="feed page latency (50)"
    )
    parser.add_argument("--feed-page-size", type=int, default=100, help="products a page (100)")
    parser.add_argument(
        "--feed-concurrency",
        default="1,4,8",
        help="comma-separated FEED_CONCURRENCY values for numbered pages (1,4,8)",
    )
    parser.add_argument(
        "--feed-rows", type=int, default=100_000, help="products in the feed cases (100000)"
    )
    parser.add_argument("--skip-bake", action="store_true", help="skip the 2x15 bake timings")
    parser.add_argument("--skip-suite", action="store_true", help="skip the generated test suite")
    parser.add_argument("--write-docs", action="store_true", help=f"refresh {DOCS.name}")
    parser.add_argument("--readme-table", action="store_true", help="print a README table")
    parser.add_argument(
        "--from-results",
        type=Path,
        default=None,
        metavar="JSON",
        help="render a saved results file instead of running (with --write-docs/--readme-table)",
    )
    parser.add_argument(
        "--work", type=Path, default=None, help="work dir (kept; data sets are reused)"
    )
    args = parser.parse_args(argv)
    text = args.rows or ("20000,200000" if args.quick else ",".join(map(str, DEFAULT_ROWS)))
    try:
        args.sizes = sorted({int(part.replace("_", "")) for part in text.split(",") if part})
    except ValueError:
        parser.error(f"--rows takes comma-separated integers, not {text!r}")
    if not args.sizes or min(args.sizes) < 1:
        parser.error("--rows needs at least one positive count")
    names = [n.strip() for n in args.cases.split(",") if n.strip() and n.strip() != "none"]
    unknown = sorted(set(names) - {c.name for c in CASES})
    if unknown:
        parser.error(f"unknown case(s): {', '.join(unknown)}")
    args.case_list = [c for c in CASES if c.name in names]
    try:
        args.remote_concurrencies = [int(p) for p in args.remote_concurrency.split(",") if p]
        args.feed_concurrencies = [int(p) for p in args.feed_concurrency.split(",") if p]
        args.remote_memory_sizes = sorted(
            {int(p.replace("_", "")) for p in args.remote_memory_rows.split(",") if p}
        )
    except ValueError:
        parser.error(
            "--remote-concurrency, --remote-memory-rows and --feed-concurrency take "
            "comma-separated integers"
        )
    return args


def run_all(args: argparse.Namespace, work: Path) -> dict[str, Any]:
    results: dict[str, Any] = {"meta": machine(), "cases": [], "descriptions": {}}
    results["meta"]["command"] = "python benchmarks/run.py " + " ".join(sys.argv[1:])
    results["meta"]["sizes"] = args.sizes
    results["descriptions"] = {c.name: c.description for c in CASES}
    started = time.perf_counter()

    if not args.skip_bake:
        log("Bake times (15 combinations, environment-variable mode, warm)")
        results["bake"] = bake_times(work)
    log("Baking the benchmark project (all four modes, cookiecutter)")
    project = bake_project(work)
    if args.runtime_venv:
        log("Installing the project's requirements.txt into a runtime venv")
        use_runtime_venv(project, work)
    results["meta"]["runtime"] = RUNTIME.description
    log("Health checks")
    results["health"] = health_checks(project)
    if not args.skip_suite:
        log("Generated test suite")
        results["suite"] = test_suite(project)

    failed = False
    for size in args.sizes:
        started_data = time.perf_counter()
        data, made = datasets.ensure(work / "data" / str(size), size)
        verb = "generated" if made else "reused"
        log(f"{size:,} products: data {verb} in {time.perf_counter() - started_data:.1f} s")
        repeat = args.repeat or (2 if size <= 200_000 else 1)
        for case in args.case_list:
            result = run_case(project, case, data, work, repeat)
            results["cases"].append(asdict(result) | {"rate": result.rate})
            failed = failed or bool(result.problems)
            log(report.case_line(result.case, result.size, result.rows, result.wall,
                                 result.cpu, result.emulator_cpu, result.rss_kib,
                                 result.emulator_startup, result.problems))  # fmt: skip
    if args.remote:
        log(
            f"Remote channel: {args.remote_latency:.0f} ms a request, "
            f"{args.remote_batch} products per request"
        )
        results["remote"] = remote.run_remote(
            project,
            work,
            python=RUNTIME.python,
            env_for=lambda url: clean_env(
                CONTAINER_API_URL=url, CHANNEL_URL=f"{url}/channel", CHANNEL_TOKEN=CHANNEL_TOKEN
            ),
            speed_rows=args.remote_rows,
            memory_rows=args.remote_memory_sizes,
            concurrencies=args.remote_concurrencies,
            latency_ms=args.remote_latency,
            batch_size=args.remote_batch,
            memory_concurrency=8,
            log=log,
        )
        failed = failed or any(run["problems"] for run in results["remote"]["runs"])
    if args.feed:
        log(
            f"Remote feed: {args.feed_latency:.0f} ms a page, {args.feed_page_size} products a page"
        )
        results["feed"] = feed.run_feed(
            project,
            work,
            python=RUNTIME.python,
            env_for=lambda url: clean_env(
                CONTAINER_API_URL=url.split("/feed", 1)[0],
                FEED_URL=url,
                NAME="Bench",
                SHOULD_FAIL="0",
            ),
            rows=args.feed_rows,
            concurrencies=args.feed_concurrencies,
            latency_ms=args.feed_latency,
            page_size=args.feed_page_size,
            log=log,
        )
        failed = failed or any(run["problems"] for run in results["feed"]["runs"])
    if args.profile:
        # Big enough that imports do not dominate, small enough to stay quick.
        size = max([s for s in args.sizes if s <= 200_000] or [args.sizes[0]])
        log(f"Profiling data-service at {size:,} rows")
        data, _ = datasets.ensure(work / "data" / str(size), size)
        results["profile"] = profile_data_service(project, data, work)
    results["meta"]["load_end"] = round(os.getloadavg()[0], 2)
    results["meta"]["total_seconds"] = round(time.perf_counter() - started, 1)
    results["failed"] = failed
    return results


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.from_results is not None:
        results = json.loads(args.from_results.read_text(encoding="utf-8"))
    else:
        check_requirements(args.profile)
        work = args.work or Path(tempfile.mkdtemp(prefix="cde-bench-"))
        work.mkdir(parents=True, exist_ok=True)
        try:
            results = run_all(args, work)
        finally:
            if args.work is None:
                shutil.rmtree(work, ignore_errors=True)
            else:  # keep the data sets, drop the rest
                for name in ("project", "template", "bakes", "out"):
                    shutil.rmtree(work / name, ignore_errors=True)
        RESULTS_DIR.mkdir(parents=True, exist_ok=True)
        saved = RESULTS_DIR / "latest.json"
        saved.write_text(json.dumps(results, indent=1), encoding="utf-8")
        log(f"\nResults saved to {saved.relative_to(ROOT)}")
    print()
    print(report.summary(results))
    if args.readme_table:
        print()
        print(report.readme_table(results))
    if results.get("remote"):
        print()
        print(remote.block(results["remote"], results.get("meta", {})))
    if results.get("feed"):
        print()
        print(feed.block(results["feed"], results.get("meta", {})))
    if args.write_docs and results.get("remote"):
        remote.write_docs(DOCS, results["remote"], results.get("meta", {}))
    if args.write_docs and results.get("feed"):
        feed.write_docs(DOCS, results["feed"], results.get("meta", {}))
    if args.write_docs and results.get("cases"):
        report.write_docs(DOCS, results)
        log(f"\nWrote {DOCS.relative_to(ROOT)}")
    return 1 if results.get("failed") else 0


if __name__ == "__main__":
    raise SystemExit(main())
