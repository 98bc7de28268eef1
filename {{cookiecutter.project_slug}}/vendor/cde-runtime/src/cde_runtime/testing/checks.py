"""Checks the runtime runs on every connector: what the platform and the Dev portal rely on.

Collected by the plugin beside the project's own tests (as `cde-runtime/checks.py`), for the
modes main.py hands to the runtime, so they follow whatever modes and options the code declares.
"""

from __future__ import annotations

import time
from typing import Any

import pytest

from cde_emulator import runner
from cde_runtime.describe import WRITE_COMMAND, render, updated_page
from cde_runtime.mode import CHANNEL_MODES, Mode
from cde_runtime.options import Option
from cde_runtime.testing.fixtures import (
    PROJECT_ROOT,
    ConnectorRunner,
    EmulatorFactory,
    closed_port_url,
    pass_options,
    project_execution_mode,
    project_modes,
    valid_value,
)

MODES = project_modes()
REQUIRED: list[tuple[str, Option]] = [
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
    assert time.monotonic() - started < 5, "the Dev portal gives the build check 5 seconds"


# Only a connector with required options has this check (an empty parametrization would skip).
if REQUIRED:

    @pytest.mark.parametrize(
        ("mode", "missing"), REQUIRED, ids=[f"{m}-{o.name}" for m, o in REQUIRED]
    )
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
        if project_execution_mode() == "command_line_arguments":
            assert f"(argument --{missing.name})" in lines[0]
        else:
            assert f"(environment variable {missing.name})" in lines[0]
        assert emu.logs() == [{"level": "error", "message": lines[0], "context": {}}]


def test_the_dev_portal_page_is_what_describe_write_makes_of_it() -> None:
    page = (PROJECT_ROOT / "docs" / "dev-portal.md").read_text(encoding="utf-8")
    assert updated_page(page, render(MODES.values())) == page, (
        f"docs/dev-portal.md is stale: run {WRITE_COMMAND}"
    )


def why_not_local(mode: Mode[Any]) -> str:
    """Why `dev.py run <mode>` cannot point the mode at local stand-ins, or "" when it can.

    .env.example points every text option named `...URL` at the emulator (the channel stand-in
    for a channel mode, the product feed stand-in or the sample feed otherwise), and the example
    handlers send to the URL option they are given. A channel mode that declares no such option
    sends to the address written in its code, which a local run must not reach."""
    if mode.name not in CHANNEL_MODES or any(
        o.field_type in ("input", "textarea") and o.name.upper().endswith("URL")
        for o in mode.settings.options()
    ):
        return ""
    return (
        f"{mode.name} declares no URL option (e.g. CHANNEL_URL), so a local run would send to "
        "the address in its handler: declare one (.env.example then points it at the emulator), "
        "or opt the mode out (cde_runtime_opt_out, docs/runtime.md)"
    )


@pytest.mark.parametrize(
    "mode",
    [
        pytest.param(name, marks=pytest.mark.skip(reason=why_not_local(MODES[name])))
        if why_not_local(MODES[name])
        else name
        for name in sorted(MODES)
    ],
)
def test_the_readme_local_run_succeeds_for_every_mode(mode: str, tmp_path: Any) -> None:
    # `python3 dev.py run <mode>`: the bundled sample data and .env.example.
    out = tmp_path / "out"
    assert runner.run(mode, out_dir=out, env_file=PROJECT_ROOT / ".env.example") == 0
    assert (out / "logs.jsonl").read_text(encoding="utf-8")


if project_execution_mode() == "command_line_arguments":

    def test_an_unknown_option_argument_is_named_and_ignored(
        run_connector: ConnectorRunner,
    ) -> None:
        # Options come as arguments: one the code does not declare yet must not fail the run.
        result = run_connector(
            next(iter(MODES)),
            closed_port_url(),
            args=["--no-such-option=1"],
            env={"CONTAINER_API_MAX_ATTEMPTS": "1"},
        )
        assert result.returncode == 1  # no Container API here, but not a usage error (2)
        assert "usage:" not in result.stderr

else:

    def test_an_unknown_argument_is_a_usage_error(run_connector: ConnectorRunner) -> None:
        result = run_connector(next(iter(MODES)), closed_port_url(), args=["--no-such-option=1"])
        assert result.returncode == 2
