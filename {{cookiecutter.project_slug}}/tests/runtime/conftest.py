"""Support for the runtime tests: the fault matrix reports its size at the end of a run."""

from __future__ import annotations

import sys

import pytest


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    matrix = sys.modules.get("tests.runtime.test_fault_matrix")
    tally = getattr(matrix, "TALLY", None)
    if tally is not None and tally.cases:  # not under xdist: the workers hold the tallies
        terminalreporter.write_line(tally.line())
