"""What a generated repo holds, and what its suite costs, before and after a layout change.

    python benchmarks/layout.py [--before 79d5b44] [--runs 1]

Bakes the default answers (cookiecutter) and all four modes (copier, environment variables)
from this working tree and from the commit `--before` (the v0.2.0 layout: runtime, emulator and
their tests inside every repo), then prints, for each side:
- lines of Python outside the runtime package folder (vendor/), and the author-owned share
  (connector/, tests/test_*.py, tests/conftest.py);
- the all-modes generated suite, run serially (`pytest -p no:xdist -q`) with this venv, in
  seconds of wall time (best of --runs) and its number of tests.
Both sides run in the same process, one after the other, so their ratio is measured side by
side. Figures only: nothing is asserted (docs/benchmarks.md, "Layout").
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tarfile
import tempfile
import time
from io import BytesIO
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.bake import (  # noqa: E402
    MODES,
    bake_cookiecutter,
    bake_copier,
    defaults,
    mode_answers,
    own_runtime_first,
    working_copy,
)

AUTHOR = ("connector/", "tests/conftest.py")


def template_at(commit: str, into: Path) -> Path:
    archive = subprocess.run(
        ["git", "archive", "--format=tar", commit], cwd=ROOT, capture_output=True, check=True
    ).stdout
    with tarfile.open(fileobj=BytesIO(archive)) as tar:
        tar.extractall(into)  # our own git archive
    return into


def python_lines(project: Path) -> tuple[int, int]:
    """(lines of Python outside vendor/, of which author-owned)."""
    total = author = 0
    for path in project.rglob("*.py"):
        relative = path.relative_to(project).as_posix()
        if relative.startswith(("vendor/", ".venv/")):
            continue
        lines = len(path.read_text(encoding="utf-8").splitlines())
        total += lines
        owned = relative.startswith(AUTHOR) or (
            relative.startswith("tests/test_") and "/" not in relative.removeprefix("tests/")
        )
        author += lines if owned else 0
    return total, author


def suite(project: Path, runs: int) -> tuple[float, str]:
    env = own_runtime_first(project, {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"})
    # A project from before the package has its own cde_runtime/: keep this venv's plugin out.
    own_plugin = [] if (project / "vendor").is_dir() else ["-p", "no:cde_runtime.testing"]
    best, last = float("inf"), ""
    for _ in range(runs):
        started = time.perf_counter()
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "pytest",
                "-q",
                "-p",
                "no:xdist",
                "-p",
                "no:cacheprovider",
                *own_plugin,
            ],
            cwd=project,
            capture_output=True,
            text=True,
            env=env,
            check=False,
        )
        best = min(best, time.perf_counter() - started)
        last = done.stdout.strip().splitlines()[-1] if done.stdout.strip() else done.stderr[-200:]
    return best, last


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--before", default="79d5b44", help="the commit to compare with")
    parser.add_argument("--runs", type=int, default=1, help="suite runs per side (best of)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="layout-") as scratch:
        base = Path(scratch)
        sides = {
            f"before ({args.before})": template_at(args.before, base / "before"),
            "after (working tree)": working_copy(base / "after"),
        }
        times = {}
        for name, template in sides.items():
            out = base / name.split()[0]
            default = bake_cookiecutter(defaults(), out / "default", template=template)
            total, author = python_lines(default)
            every = bake_copier(mode_answers(MODES), out / "all", template=template)
            seconds, tests = suite(every, args.runs)
            times[name] = seconds
            print(
                f"{name}: default bake {total} lines of Python outside vendor/, "
                f"{author} author-owned ({100 * author / total:.0f} %); "
                f"all-modes suite {seconds:.1f} s serial ({tests})",
                flush=True,
            )
        before, after = times.values()
        print(f"all-modes suite: after / before = {after / before:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
