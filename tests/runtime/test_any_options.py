"""Whatever options a connector declares, its suite works (issue 17): a credential a header
cannot carry is a one-line option error, a replaced example handler leaves the rest of the
suite collecting, and a mode can be opted out of a runtime check in one documented way."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from cde_runtime import RunFailed
from cde_runtime.outside import ApiKeyHeader, Bearer
from cde_runtime.testing import ConnectorRunner, EmulatorFactory, pass_options

from tests.bake import own_runtime_first
from tests.runtime.conftest import PROJECT_ROOT

SECRET = "tökén-ünïcode"  # typed with accents: no HTTP header can carry it


@pytest.mark.parametrize(
    "make", [Bearer, lambda v, option: ApiKeyHeader("X-Key", v, option=option)]
)
def test_a_secret_a_header_cannot_carry_names_the_option_not_the_value(make: object) -> None:
    with pytest.raises(RunFailed) as raised:
        make(SECRET, option="SHOP_TOKEN")  # type: ignore[operator]
    message = str(raised.value)
    assert "\n" not in message
    assert "The SHOP_TOKEN option holds a character an HTTP header cannot carry" in message
    assert SECRET not in message


def test_an_export_run_with_such_a_token_fails_with_one_line_naming_the_option(
    emulator: EmulatorFactory, run_connector: ConnectorRunner
) -> None:
    emu = emulator(input=[{"id": "1", "title": "One"}])
    options = {"CHANNEL_URL": f"{emu.url}/channel", "CHANNEL_TOKEN": SECRET}
    result = run_connector("export", emu, **pass_options(options))
    assert result.returncode == 1
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert "CHANNEL_TOKEN option holds a character an HTTP header cannot carry" in lines[0]
    assert "UnicodeEncodeError" not in result.stderr
    assert SECRET not in result.stderr + result.stdout
    assert emu.channel_calls() == []  # refused before anything was sent


def project_copy(tmp_path: Path) -> Path:
    """A copy of the all-modes example connector, to change without touching the shared one."""
    copy = tmp_path / "project"
    shutil.copytree(
        PROJECT_ROOT, copy, ignore=shutil.ignore_patterns(".venv", "__pycache__", ".*_cache")
    )
    return copy


def pytest_in(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-p", "no:xdist", *args],
        cwd=project,
        env=own_runtime_first(project, os.environ),
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


MINIMAL_HANDLER = '''"""Data source: the author's own, nothing left of the example."""

import logging

from cde_runtime import ContainerApi

from connector.settings import DataSourceSettings


def run(settings: DataSourceSettings, api: ContainerApi) -> None:
    logging.getLogger(__name__).info("Importing my own products")
    with api.writer("output") as output:
        output.write_many([{"id": "1", "title": "Mine"}])
'''


def test_replacing_an_example_handler_keeps_the_rest_of_the_suite_collecting(
    tmp_path: Path,
) -> None:
    project = project_copy(tmp_path)
    (project / "connector" / "modes" / "data_source.py").write_text(MINIMAL_HANDLER)
    (project / "connector" / "modes" / "data_source.jsonl").unlink()  # the sample feed too
    collected = pytest_in(project, "tests", "--collect-only", "-q")
    assert collected.returncode == 0, collected.stdout[-3000:] + collected.stderr[-2000:]
    nodes = collected.stdout.splitlines()
    assert any(n.startswith("tests/test_export.py::") for n in nodes)
    assert any(n.startswith("tests/test_data_source.py::") for n in nodes)
    assert any(n.startswith("cde-runtime/fault_matrix.py::") for n in nodes)
    # The runtime's checks of the new handler run, and pass.
    checked = pytest_in(project, "tests", "-q", "-k", "local_run and source")
    assert checked.returncode == 0, checked.stdout[-3000:]
    assert "1 passed" in checked.stdout


def opt_out(project: Path, *entries: str) -> None:
    pyproject = project / "pyproject.toml"
    lines = "".join(f'    "{entry}",\n' for entry in entries)
    text = pyproject.read_text().replace(
        "[tool.pytest.ini_options]\n",
        f"[tool.pytest.ini_options]\ncde_runtime_opt_out = [\n{lines}]\n",
    )
    pyproject.write_text(text)


def test_a_mode_opted_out_of_a_check_is_skipped_with_the_authors_reason(tmp_path: Path) -> None:
    project = project_copy(tmp_path)
    opt_out(project, "export local_run: the marketplace has no stand-in yet")
    result = pytest_in(project, "tests", "-q", "-rs", "-k", "local_run")
    assert result.returncode == 0, result.stdout[-3000:]
    skipped = [line for line in result.stdout.splitlines() if line.startswith("SKIPPED")]
    assert len(skipped) == 1, result.stdout
    assert "opted out in cde_runtime_opt_out: the marketplace has no stand-in yet" in skipped[0]
    assert "1 skipped" in result.stdout
    assert "failed" not in result.stdout


def test_an_opt_out_that_matches_no_check_is_a_one_line_error(tmp_path: Path) -> None:
    project = project_copy(tmp_path)
    opt_out(project, "exprot local_run: a typo in the mode")
    result = pytest_in(project, "tests", "--collect-only", "-q")
    assert result.returncode == 4
    assert "cde_runtime_opt_out: no runtime check of mode 'exprot' is named like 'local_run'" in (
        result.stderr
    )
