"""The runtime's pytest plugin: fixtures for your tests, and the checks every connector must pass.

pytest loads it through the package's `pytest11` entry point wherever the runtime is installed
(nothing to list in conftest.py). It gives:

- fixtures: `emulator` (a local Container API per test), `run_connector` (`python main.py` against
  it), `fake_api` (a fake third-party API on a local port), `local_run_for` (the option values
  of a local run; override it in tests/conftest.py);
- helpers to import: `pass_options`, `required_values`, `closed_port_url`, `LocalRun`, ...;
- the project checks, collected next to tests/conftest.py when pytest runs the whole `tests/`
  folder: every mode's health check, the Dev-portal page against `describe`, a local run of
  every mode, and the fault matrix (cde_runtime/testing/fault_matrix.py). They read the modes
  main.py hands to the runtime, so they follow your code. `pytest -p no:cde_runtime.testing`
  turns the plugin off.
- a network guard: no test, and no connector process a test starts, resolves a name or connects
  beyond 127.0.0.1 (cde_runtime/offline.py); a test that would gets a one-line error naming the
  host and the fix.
"""

from __future__ import annotations

import importlib
import os
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from cde_emulator.fake_api import Answer, Call, FakeApi
from cde_runtime import offline
from cde_runtime.testing import moved
from cde_runtime.testing.fixtures import (
    PROJECT_ROOT,
    STREAMS,
    ConnectorRunner,
    EmulatorFactory,
    FakeApiFactory,
    LocalRun,
    LocalRunFactory,
    closed_port_url,
    declared_option_names,
    emulator,
    fake_api,
    local_run,
    local_run_for,
    pass_options,
    project_modes,
    required_values,
    run_connector,
    valid_value,
)
from cde_runtime.testing.tally import Tally

__all__ = [
    "PROJECT_ROOT",
    "STREAMS",
    "Answer",
    "Call",
    "ConnectorRunner",
    "EmulatorFactory",
    "FakeApi",
    "FakeApiFactory",
    "LocalRun",
    "LocalRunFactory",
    "closed_port_url",
    "declared_option_names",
    "emulator",
    "fake_api",
    "local_run",
    "local_run_for",
    "pass_options",
    "project_modes",
    "required_values",
    "run_connector",
    "valid_value",
]

#: The modules of project checks, collected as `cde-runtime/<name>` beside the project's tests.
CHECKS = ("cde_runtime.testing.checks", "cde_runtime.testing.fault_matrix")


class RuntimeChecks(pytest.Module):
    """A module of the runtime's checks, run as if it were one of the project's test files."""

    module_name: str = ""

    def _getobj(self) -> ModuleType:
        return importlib.import_module(self.module_name)


# At import, before pytest reads conftest.py: a pre-0.3.0 import (`emulator.testing`, also in
# `pytest_plugins`) fails naming its new place instead of "No module named 'emulator'".
moved.install()


#: The ini setting (pyproject.toml, [tool.pytest.ini_options]) that opts a mode out of a check.
OPT_OUT = "cde_runtime_opt_out"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addini(
        OPT_OUT,
        'Runtime checks a mode is left out of, one a line: "<mode> <check>: <why>", e.g. '
        '"export local_run: the marketplace has no stand-in yet" (<check> is part of the '
        "check's name, as in -k)",
        type="linelist",
        default=[],
    )


def opt_outs(config: pytest.Config) -> list[tuple[str, str, str]]:
    """The (mode, check, reason) entries of the cde_runtime_opt_out setting."""
    entries = []
    for line in config.getini(OPT_OUT):
        where, _, reason = str(line).partition(":")
        words = where.split()
        if len(words) != 2 or not reason.strip():
            raise pytest.UsageError(
                f"{OPT_OUT} entry {line!r} is not '<mode> <check>: <why>', "
                "e.g. 'export local_run: no stand-in for the marketplace yet'"
            )
        entries.append((words[0], words[1], reason.strip()))
    return entries


@pytest.hookimpl(tryfirst=True)  # before -k/-m deselect: an entry is checked against every check
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Skip the checks a mode is opted out of, with the author's reason; an entry that matches
    no check is an error (a renamed mode or check must not keep a check silently off)."""
    entries = opt_outs(config)
    used: set[tuple[str, str, str]] = set()
    for item in items:
        if not item.nodeid.startswith("cde-runtime/"):
            continue
        callspec = getattr(item, "callspec", None)
        mode = callspec.params.get("mode") if callspec is not None else None
        for entry in entries:
            wanted, check, reason = entry
            if mode == wanted and check in item.name:
                used.add(entry)
                item.add_marker(pytest.mark.skip(reason=f"opted out in {OPT_OUT}: {reason}"))
    unused = [e for e in entries if e not in used]
    if unused and any(item.nodeid.startswith("cde-runtime/") for item in items):
        mode, check, _ = unused[0]
        raise pytest.UsageError(
            f"{OPT_OUT}: no runtime check of mode {mode!r} is named like {check!r}; "
            "list the checks with `pytest tests --collect-only -q | grep cde-runtime`"
        )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "cde_runtime: a check the runtime runs on every connector")
    # In a connector project, no test resolves a name or connects beyond this machine, in this
    # process or in the connector processes it starts (they inherit the variable:
    # cde_runtime/offline.py). Elsewhere (a suite that merely has the runtime installed, such as
    # the template's own) the guard is that suite's choice.
    if (config.rootpath / "main.py").is_file():
        offline.guard()
        os.environ[offline.VARIABLE] = "1"


class ProjectChecks(pytest.File):
    """The runtime's check modules, collected once per run beside tests/conftest.py."""

    def collect(self) -> list[pytest.Module]:
        checks: list[pytest.Module] = []
        for name in CHECKS:
            module = importlib.import_module(name)
            check = RuntimeChecks.from_parent(
                self,
                path=Path(str(module.__file__)),
                nodeid=f"cde-runtime/{name.rsplit('.', 1)[-1]}.py",
            )
            check.module_name = name
            checks.append(check)
        return checks


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> ProjectChecks | None:
    root = parent.config.rootpath
    if file_path != root / "tests" / "conftest.py" or not (root / "main.py").is_file():
        return None
    return ProjectChecks.from_parent(parent, path=file_path, nodeid="cde-runtime")


#: Where the controller of an xdist run adds up its workers' fault-matrix tallies.
WORKER_TALLIES = pytest.StashKey[Tally]()
#: The key of a worker's tally in its `workeroutput`.
TALLY_OUTPUT = "cde_runtime_fault_matrix"


def _own_tally() -> Tally | None:
    matrix = sys.modules.get("cde_runtime.testing.fault_matrix")  # collected only in a project
    tally = getattr(matrix, "TALLY", None)
    return tally if isinstance(tally, Tally) else None


def pytest_sessionfinish(session: pytest.Session) -> None:
    workeroutput = getattr(session.config, "workeroutput", None)  # set on xdist workers only
    tally = _own_tally()
    if workeroutput is not None and tally is not None and tally.cases:
        workeroutput[TALLY_OUTPUT] = tally.as_data()


@pytest.hookimpl(optionalhook=True)  # an xdist hook: pytest without xdist never calls it
def pytest_testnodedown(node: Any, error: object) -> None:
    data = getattr(node, "workeroutput", {}).get(TALLY_OUTPUT)
    if data:
        node.config.stash.setdefault(WORKER_TALLIES, Tally()).add(data)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """`fault matrix: N cases over M modes, ...; X failed`, serial or under xdist."""
    total = Tally()
    own = _own_tally()
    if own is not None:
        total.add(own.as_data())
    workers = terminalreporter.config.stash.get(WORKER_TALLIES, None)
    if workers is not None:
        total.add(workers.as_data())
    if total.cases:
        terminalreporter.write_line(total.line())
