"""The template's own code meets the bar it sets for generated code."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.bake import RUNTIME_PACKAGE, TEMPLATE

BIN = Path(sys.executable).parent
OWN_CODE = [
    "hooks",
    "tests",
    "benchmarks",
    "run-tests.py",
    ".ci/lock.py",
    ".ci/questions.py",
    ".ci/release.py",
]


def run(*command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, cwd=TEMPLATE, capture_output=True, text=True, check=False)


def test_template_code_is_ruff_clean_and_formatted() -> None:
    lint = run(str(BIN / "ruff"), "check", "--no-cache", *OWN_CODE)
    assert lint.returncode == 0, lint.stdout + lint.stderr
    formatted = run(str(BIN / "ruff"), "format", "--check", "--no-cache", *OWN_CODE)
    assert formatted.returncode == 0, formatted.stdout + formatted.stderr


def test_template_code_type_checks() -> None:
    typed = run(sys.executable, "-m", "mypy", "--no-incremental")
    assert typed.returncode == 0, typed.stdout + typed.stderr


def test_the_runtime_package_is_ruff_clean_and_strictly_typed(tmp_path: Path) -> None:
    """vendor/cde-runtime is checked here, where it is made, by its own pyproject settings.

    Caches go to tmp_path: a cache inside the template tree would be rendered by cookiecutter.
    """
    package = str(RUNTIME_PACKAGE)
    for command in (
        [str(BIN / "ruff"), "check", "--no-cache", package],
        [str(BIN / "ruff"), "format", "--check", "--no-cache", package],
    ):
        result = run(*command)
        assert result.returncode == 0, result.stdout + result.stderr
    typed = subprocess.run(
        [sys.executable, "-m", "mypy", "--no-incremental", "--cache-dir", str(tmp_path)],
        cwd=RUNTIME_PACKAGE,
        capture_output=True,
        text=True,
        check=False,
    )
    assert typed.returncode == 0, typed.stdout + typed.stderr
