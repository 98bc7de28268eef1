"""Specification of the command line: modes, health check, usage errors and exit codes."""

from __future__ import annotations

import time

import pytest
from cde_runtime.cli import main
from cde_runtime.options import Option
from cde_runtime.testing import (
    ConnectorRunner,
    EmulatorFactory,
    closed_port_url,
    pass_options,
    valid_value,
)
from connector.modes import MODES
from connector.settings import EXECUTION_MODE

# Options every mode's required settings need, so a run gets past configuration.
REQUIRED = [
    (mode.name, option)
    for mode in MODES.values()
    for option in mode.settings.options()
    if option.required
]


@pytest.mark.parametrize("mode", list(MODES))
def test_health_check_exits_0_without_container_api_or_configuration(
    mode: str, run_connector: ConnectorRunner
) -> None:
    started = time.monotonic()
    result = run_connector(mode, closed_port_url(), args=["--health-check"])
    assert result.returncode == 0, result.stderr
    assert mode in result.stdout
    assert result.stderr == ""
    assert time.monotonic() - started < 5  # the Dev portal's limit for the build check


def test_health_check_never_calls_the_container_api(
    emulator: EmulatorFactory, run_connector: ConnectorRunner
) -> None:
    emu = emulator(input=[])
    result = run_connector(next(iter(MODES)), emu, args=["--health-check"])
    assert result.returncode == 0
    assert emu.summary()["requests"] == 0


@pytest.mark.parametrize("mode", ["import", "no-such-mode"])
def test_a_mode_this_connector_does_not_have_is_a_usage_error_listing_the_modes(
    mode: str, run_connector: ConnectorRunner
) -> None:
    result = run_connector(mode, closed_port_url(), args=["--health-check"])
    assert result.returncode == 2
    assert "invalid choice" in result.stderr
    for available in MODES:
        assert available in result.stderr


def test_an_unknown_argument_is_a_usage_error(run_connector: ConnectorRunner) -> None:
    result = run_connector(next(iter(MODES)), closed_port_url(), args=["--no-such-option=1"])
    assert result.returncode == 2
    assert "--no-such-option" in result.stderr


def test_no_mode_at_all_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(MODES, []) == 2
    assert "usage:" in capsys.readouterr().err


def test_help_lists_every_mode_and_exits_0(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(MODES, ["--help"]) == 0
    out = capsys.readouterr().out
    for mode in [*MODES, "describe"]:
        assert mode in out


def test_describe_prints_the_dev_portal_setup(run_connector: ConnectorRunner) -> None:
    result = run_connector("describe", closed_port_url())
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip()


@pytest.mark.parametrize(("mode", "missing"), REQUIRED, ids=[f"{m}-{o.name}" for m, o in REQUIRED])
def test_a_missing_required_option_fails_with_one_line_saying_where_to_set_it(
    mode: str, missing: Option, emulator: EmulatorFactory, run_connector: ConnectorRunner
) -> None:
    emu = emulator(input=[])
    others = {o.name: valid_value(o) for m, o in REQUIRED if m == mode and o != missing}
    result = run_connector(mode, emu, **pass_options(others))
    assert result.returncode == 1
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert "Individual configurations in the Dev portal" in lines[0]
    if EXECUTION_MODE == "command_line_arguments":
        assert f"(argument --{missing.name})" in lines[0]
    else:
        assert f"(environment variable {missing.name})" in lines[0]
    assert emu.logs() == [{"level": "error", "message": lines[0], "context": {}}]


@pytest.mark.parametrize(("mode", "missing"), REQUIRED[:1], ids=[o.name for _, o in REQUIRED[:1]])
def test_a_configuration_error_without_container_api_still_exits_1_with_one_line(
    mode: str, missing: Option, run_connector: ConnectorRunner
) -> None:
    result = run_connector(mode, closed_port_url(), env={"CONTAINER_API_MAX_ATTEMPTS": "1"})
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1
    assert missing.name in result.stderr
