"""The template's own code meets the bar it sets for generated code."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.bake import TEMPLATE

BIN = Path(sys.executable).parent
OWN_CODE = ["hooks", "tests", "benchmarks", "run-tests.py", ".ci/lock.py", ".ci/questions.py"]


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
