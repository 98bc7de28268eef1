"""The one-command local run: `python -m cde_emulator run <mode>`.

Starts the emulator on a free port with the mode's sample data, loads the connector's options from
`.env` (else `.env.example`), runs `python main.py <mode>` against it, and reports what happened.
python-dotenv is imported here only (it comes with pydantic-settings), so the server itself stays
importable with nothing installed.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Collection, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from cde_emulator.faults import Fault
from cde_emulator.server import Emulator
from cde_emulator.state import format_summary


def find_project_root(start: Path | None = None) -> Path:
    """The connector project in use: the nearest folder holding `main.py`, from `start` up.

    The runtime is an installed package, so the project is found from where it is run
    (dev.py, pytest and the platform all run from the project root), never from this file.
    """
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / "main.py").is_file():
            return folder
    return here


#: The project the runner works on; the functions below default to it (`root=None`).
PROJECT_ROOT = find_project_root()
API_URL_VARIABLE = "CONTAINER_API_URL"


def sample_data_dir(mode: str, root: Path | None = None) -> Path | None:
    """`sample_data/<mode_with_underscores>/`, or None for a mode that reads no input."""
    folder = (root or PROJECT_ROOT) / "sample_data" / mode.replace("-", "_")
    return folder if folder.is_dir() else None


def default_out_dir(mode: str, root: Path | None = None) -> Path:
    """`.emulator-out/<mode>/` (git-ignored); `serve` for the standalone emulator."""
    return (root or PROJECT_ROOT) / ".emulator-out" / mode


def project_modes() -> Mapping[str, Any]:
    """The modes main.py hands to the runtime (name -> cde_runtime Mode)."""
    # Imported here: serving (`python -m cde_emulator`) needs nothing but the standard library.
    from cde_runtime.project import load_modes

    return load_modes(PROJECT_ROOT)


def available_modes() -> list[str]:
    """The modes this connector ships (`python main.py --help` lists the same)."""
    return list(project_modes())


def reset_dir(path: Path) -> Path:
    """Empty the out dir so results never mix with an earlier run's."""
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True)
    return path


def find_env_file(root: Path | None = None, explicit: Path | None = None) -> Path | None:
    """The options file: the one given, else `.env`, else `.env.example`, else none."""
    root = root or PROJECT_ROOT
    if explicit is not None:
        if not explicit.is_file():
            raise FileNotFoundError(f"env file not found: {explicit}")
        return explicit
    for name in (".env", ".env.example"):
        if (root / name).is_file():
            return root / name
    return None


@contextmanager
def _environment_variable(name: str, value: str) -> Iterator[None]:
    previous = os.environ.get(name)
    os.environ[name] = value
    try:
        yield
    finally:
        if previous is None:
            del os.environ[name]
        else:
            os.environ[name] = previous


def load_options(env_file: Path | None, api_url: str) -> dict[str, str]:
    """Read the options file with `${VAR}` interpolation, `CONTAINER_API_URL` already set.

    That lets `.env.example` say `CHANNEL_URL=${CONTAINER_API_URL}/channel` and reach the channel
    stand-in on whatever port the emulator got. Keys without a value are left out.
    """
    if env_file is None:
        return {}
    from dotenv import dotenv_values  # here: the server must not need it

    with _environment_variable(API_URL_VARIABLE, api_url):
        values = dotenv_values(env_file, interpolate=True)
    return {key: value for key, value in values.items() if value is not None}


def takes_arguments() -> bool:
    """Whether this connector reads options as `--NAME value` (its portal execution mode)."""
    modes = list(project_modes().values())
    return bool(modes) and modes[0].settings.execution_mode == "command_line_arguments"


def declared_options(mode: str) -> set[str]:
    """The option names the mode declares (empty for a mode the connector does not have)."""
    modes = project_modes()
    return {option.name for option in modes[mode].settings.options()} if mode in modes else set()


def connector_arguments(options: Mapping[str, str], declared: Collection[str]) -> list[str]:
    """Options as the portal passes them in command-line execution mode: the mode's own only.

    `.env` holds the options of every mode; the connector rejects arguments it does not know.
    """
    return [f"--{name}={value}" for name, value in options.items() if name in declared]


def shell_wins(
    options: Mapping[str, str], declared: Collection[str], shell: Mapping[str, str] | None = None
) -> dict[str, str]:
    """The options file's values, each declared option set in the shell taking precedence.

    Precedence (lowest first): `.env.example` or `.env` (only one is read), then variables
    exported in the shell, then `CONTAINER_API_URL`, always the emulator's.
    """
    shell = os.environ if shell is None else shell
    return {**options, **{name: shell[name] for name in declared if name in shell}}


def connector_environment(
    options: Mapping[str, str], api_url: str, base: Mapping[str, str] | None = None
) -> dict[str, str]:
    """The connector's environment: options, then ours (the shell wins), then the emulator URL.

    CDE_LOCAL_RUN=1 tells the runtime this is a local run (cde_runtime/environment.py).
    """
    base_env = os.environ if base is None else base
    return {**options, **base_env, "CDE_LOCAL_RUN": "1", API_URL_VARIABLE: api_url}


def run(
    mode: str,
    *,
    data_dir: Path | None = None,
    out_dir: Path | None = None,
    env_file: Path | None = None,
    faults: Sequence[Fault] = (),
    channel_reject_rate: float = 0.0,
    channel_latency: float = 0.0,
    read_latency: float = 0.0,
    feed: Path | None = None,
    feed_page_size: int = 100,
    feed_latency: float = 0.0,
    root: Path | None = None,
    old_api: bool = False,
    max_body_bytes: int | None = None,
) -> int:
    """Run the connector once against a fresh emulator; returns the connector's exit code."""
    root = root or PROJECT_ROOT
    options_file = find_env_file(root, env_file)
    out = reset_dir(out_dir or default_out_dir(mode, root))
    with tempfile.TemporaryDirectory(prefix="emulator-empty-") as empty:
        data = data_dir or sample_data_dir(mode, root) or Path(empty)
        emulator = Emulator(
            data,
            out,
            faults=faults,
            channel_reject_rate=channel_reject_rate,
            channel_latency=channel_latency,
            read_latency=read_latency,
            feed=feed,
            feed_page_size=feed_page_size,
            feed_latency=feed_latency,
            echo=sys.stderr,
            old_api=old_api,
            max_body_bytes=max_body_bytes,
        )
        with emulator:
            options = shell_wins(load_options(options_file, emulator.url), declared_options(mode))
            print(f"Emulator at {emulator.url} serving {data}", file=sys.stderr)
            print(f"Options from {options_file or '(no .env or .env.example)'}", file=sys.stderr)
            # Pass options the way the portal will: as arguments or as environment variables.
            arguments = (
                connector_arguments(options, declared_options(mode)) if takes_arguments() else []
            )
            environment = options if not arguments else {}
            print(f"Running: python main.py {mode}", file=sys.stderr, flush=True)
            try:
                code = subprocess.run(  # noqa: S603 - our own interpreter on our own main.py
                    [sys.executable, "main.py", mode, *arguments],
                    cwd=root,
                    env=connector_environment(environment, emulator.url),
                    check=False,
                ).returncode
            except KeyboardInterrupt:
                code = 130
        summary = emulator.summary()
    print(format_summary(summary))
    for name in ("output.jsonl", "feedback.jsonl", "logs.jsonl", "channel.jsonl"):
        path = out / name
        if name != "channel.jsonl" or path.stat().st_size:
            print(f"  {name:<15}{path}")
    print(f"Connector exit code: {code}")
    return code
