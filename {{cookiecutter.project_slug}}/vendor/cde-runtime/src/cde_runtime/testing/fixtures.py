"""Fixtures and helpers of the pytest plugin: a local Container API per test, and a way to run
the connector against it.

The plugin (cde_runtime.testing) is loaded by its entry point wherever the runtime is installed,
so every test can take the `emulator` and `run_connector` fixtures and import the helpers below.
End-to-end tests read like this::

    def test_export_writes_feedback_for_rejected_products(emulator, run_connector):
        emu = emulator(input=[{"id": "1", "title": ""}])
        result = run_connector("export", emu, env={"CHANNEL_URL": f"{emu.url}/channel"})
        assert result.returncode == 0
        assert emu.output_rows("feedback")[0]["id"] == "1"
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from cde_emulator import Emulator, Fault
from cde_emulator.fake_api import FakeApi
from cde_emulator.runner import find_project_root
from cde_runtime.mode import Mode
from cde_runtime.project import load_modes

#: The connector project the tests run (pytest runs from its root).
PROJECT_ROOT = find_project_root()
STREAMS = ("input", "new", "modified", "unchanged", "deleted")

EmulatorFactory = Callable[..., Emulator]
FakeApiFactory = Callable[..., FakeApi]
ConnectorRunner = Callable[..., "subprocess.CompletedProcess[str]"]


def project_modes() -> Mapping[str, Mode[Any]]:
    """The modes of the project under test, as its main.py hands them to the runtime."""
    return load_modes(PROJECT_ROOT)


def declared_option_names() -> set[str]:
    """Every option name the connector declares, so the developer's shell cannot leak into tests."""
    return {
        declared.name for mode in project_modes().values() for declared in mode.settings.options()
    }


def project_execution_mode() -> str:
    """How the project's modes read their options (one execution mode per connector)."""
    modes = list(project_modes().values())
    return str(modes[0].settings.execution_mode) if modes else "environment_variables"


def closed_port_url() -> str:
    """A URL nothing listens on: connection refused at once."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def valid_value(option: Any) -> str:
    """A value the option accepts (an `Option` from cde_runtime/options.py): its declared
    default, else a checked checkbox, the first choice, the `title` column for a column
    dropdown, or the text `value`."""
    if option.default:
        return str(option.default)
    if option.field_type == "checkbox":
        return "1"
    if option.choices:
        return str(option.choices[0])
    return "title" if option.field_type == "stage_columns_dropdown" else "value"


def required_values(settings: Any) -> dict[str, str]:
    """A valid value for each required option of a settings class, so a run gets past setup."""
    return {o.name: valid_value(o) for o in settings.options() if o.required}


def pass_options(
    options: Mapping[str, str], env: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """run_connector keyword arguments: `env` plus the options, as this connector reads them."""
    if project_execution_mode() == "command_line_arguments":
        return {"env": dict(env or {}), "args": [f"--{k}={v}" for k, v in options.items()]}
    return {"env": {**(env or {}), **options}}


@dataclass(frozen=True)
class LocalRun:
    """How a test points a mode at the emulator: its option values, and attributes to set on
    the mode's handler module before it runs (for a constant such as a channel's URL)."""

    options: dict[str, str]
    patches: dict[str, Any] = field(default_factory=dict)


LocalRunFactory = Callable[[Any, str], LocalRun]


def local_run(mode: Any, emulator_url: str) -> LocalRun:
    """A local run of `mode` (a cde_runtime `Mode`) against the emulator at `emulator_url`.

    Required options get a valid value. In the channel modes, text options named `...URL` get
    the emulator's channel stand-in (without such an option, the handler module's `CHANNEL_URL`
    is set); in the other modes they get its product feed stand-in (`/feed`: start the emulator
    with `feed=[...]`).
    """
    from cde_runtime.mode import CHANNEL_MODES

    handler = sys.modules[mode.run.__module__]
    options = required_values(mode.settings)
    patches: dict[str, Any] = {}
    urls = [
        o
        for o in mode.settings.options()
        if o.field_type in ("input", "textarea") and o.name.endswith("URL")
    ]
    if mode.name in CHANNEL_MODES:
        channel = f"{emulator_url}/channel"
        options.update(dict.fromkeys((o.name for o in urls), channel))
        if not urls and hasattr(handler, "CHANNEL_URL"):
            patches["CHANNEL_URL"] = channel
    else:
        options.update(dict.fromkeys((o.name for o in urls), f"{emulator_url}/feed"))
    return LocalRun(options, patches)


def _write_jsonl(path: Path, rows: Sequence[Mapping[str, Any]]) -> None:
    lines = (json.dumps(dict(row), ensure_ascii=False) + "\n" for row in rows)
    path.write_text("".join(lines), encoding="utf-8")


@pytest.fixture
def emulator(tmp_path: Path) -> Iterator[EmulatorFactory]:
    """Factory: `emulator(input=[rows], new=..., modified=..., unchanged=..., deleted=...,
    faults=[Fault(...)], channel_reject_rate=0.0, old_api=False, max_body_bytes=None,
    feed=[products], feed_page_size=100, feed_latency=0.0)` writes the given streams as jsonl
    under tmp_path/data, starts an Emulator, and stops it at teardown. Streams left out are not
    provided (the emulator answers 404 for them, as the platform does). `feed` serves those
    products as a paginated product API at `emu.url + "/feed"` (FEED_URL)."""
    started: list[Emulator] = []

    def start(
        *,
        faults: Sequence[Fault] = (),
        channel_reject_rate: float = 0.0,
        old_api: bool = False,
        max_body_bytes: int | None = None,
        feed: Sequence[Mapping[str, Any]] | None = None,
        feed_page_size: int = 100,
        feed_latency: float = 0.0,
        **streams: Sequence[Mapping[str, Any]] | None,
    ) -> Emulator:
        unknown = set(streams) - set(STREAMS)
        if unknown:
            raise TypeError(f"unknown input streams {sorted(unknown)}; known: {STREAMS}")
        data_dir = tmp_path / ("data" if not started else f"data-{len(started) + 1}")
        data_dir.mkdir()
        for name, rows in streams.items():
            if rows is not None:
                _write_jsonl(data_dir / f"{name}.jsonl", rows)
        if feed is not None:
            _write_jsonl(data_dir / "feed.jsonl", feed)
        emu = Emulator(
            data_dir,
            faults=faults,
            channel_reject_rate=channel_reject_rate,
            old_api=old_api,
            max_body_bytes=max_body_bytes,
            feed=data_dir / "feed.jsonl" if feed is not None else None,
            feed_page_size=feed_page_size,
            feed_latency=feed_latency,
        )
        started.append(emu.start())
        return emu

    yield start
    for emu in started:
        emu.stop()


@pytest.fixture
def fake_api() -> Iterator[FakeApiFactory]:
    """Factory: `fake_api({"GET /products": {...}, "POST /bulk": Answer(202, {...}),
    "GET /jobs/{id}": lambda call: {...}}, faults=[Fault("channel", 2, "503")])` starts a fake
    third-party API on a local port (cde_emulator/fake_api.py) and stops it at teardown. Point
    the option at `api.url`; `api.calls` lists the requests that reached a route."""
    started: list[FakeApi] = []

    def start(
        routes: Mapping[str, Any], *, faults: Sequence[Fault] = (), kind: str = "channel"
    ) -> FakeApi:
        api = FakeApi(routes, faults=faults, kind=kind).start()
        started.append(api)
        return api

    yield start
    for api in started:
        api.stop()


@pytest.fixture
def local_run_for() -> LocalRunFactory:
    """`local_run_for(mode, emulator_url)`: the option values with which a template-owned test
    (the fault matrix) runs `mode` locally. The default (`local_run`) guesses from option types
    and names; if your options need other values, override this fixture in tests/conftest.py:

        @pytest.fixture
        def local_run_for() -> LocalRunFactory:
            def values(mode, emulator_url):
                run = local_run(mode, emulator_url)
                return LocalRun({**run.options, "REGION": "eu"}, run.patches)
            return values
    """
    return local_run


@pytest.fixture
def run_connector() -> ConnectorRunner:
    """`run_connector(mode, emulator_or_url, env={...}, args=[...], timeout=60)` runs
    `python main.py <mode> *args` from the project root with CONTAINER_API_URL set and
    CDE_LOCAL_RUN=1 (a local run; pass env={"CDE_LOCAL_RUN": "0"} to act as production). `env`
    goes on top of a copy of os.environ without any declared option variables, so results never
    depend on the developer's shell."""
    hidden = declared_option_names() | {"CONTAINER_API_URL"}

    def run(
        mode: str,
        emulator_or_url: Emulator | str,
        env: Mapping[str, str] | None = None,
        args: Sequence[str] = (),
        timeout: float = 60,
    ) -> subprocess.CompletedProcess[str]:
        url = emulator_or_url if isinstance(emulator_or_url, str) else emulator_or_url.url
        clean = {key: value for key, value in os.environ.items() if key not in hidden}
        return subprocess.run(  # noqa: S603 - our interpreter running our main.py
            [sys.executable, "main.py", mode, *args],
            cwd=PROJECT_ROOT,
            env={**clean, "CDE_LOCAL_RUN": "1", **(env or {}), "CONTAINER_API_URL": url},
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    return run
