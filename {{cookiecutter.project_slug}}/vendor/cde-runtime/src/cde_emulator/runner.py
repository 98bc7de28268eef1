"""The one-command local run: `python -m cde_emulator run <mode>`.

Starts the emulator on a free port with the mode's sample data, loads the connector's options from
`.env` (else `.env.example`), runs `python main.py <mode>` against it, and reports what happened.
python-dotenv is imported here only (it comes with pydantic-settings), so the server itself stays
importable with nothing installed.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Collection, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

if sys.platform != "win32":
    import fcntl

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


def reset_dir(path: Path, keep: Collection[str] = ()) -> Path:
    """Empty the out dir so results never mix with an earlier run's (entries in `keep` stay)."""
    if not path.is_dir():
        shutil.rmtree(path, ignore_errors=True)  # a file in its place
        path.mkdir(parents=True)
        return path
    for entry in path.iterdir():
        if entry.name in keep:
            continue
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry, ignore_errors=True)
        else:
            entry.unlink(missing_ok=True)
    return path


#: In the out folder: held locked by the run using the folder, naming it for any other.
LOCK_FILE = ".run.lock"


class OutFolderInUseError(RuntimeError):
    """Another local run is writing the out folder: this one must not empty it."""


def _try_lock(handle: IO[str]) -> bool:
    """An exclusive lock on `handle`, released when it is closed or the process ends."""
    if sys.platform == "win32":
        return True  # no guard on Windows: runs sharing one out folder mix their files there
    try:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


@contextmanager
def claimed_out_dir(path: Path, mode: str) -> Iterator[Path]:
    """The out folder, emptied and kept from other local runs until the block ends.

    A second run of the same mode (or with the same `--out`) used to empty the folder under the
    first, whose summary then listed the other run's files. Now the second stops before it
    touches anything, with one line naming the run that holds the folder. The lock is the
    operating system's (flock), so a run that was killed holds nothing.
    """
    path.mkdir(parents=True, exist_ok=True)
    with (path / LOCK_FILE).open("a+", encoding="utf-8") as lock:
        if not _try_lock(lock):
            lock.seek(0)
            holder = lock.read().strip() or "another local run"
            raise OutFolderInUseError(
                f"{path} is in use by {holder}: wait for that run to end, or give this one its "
                "own folder with --out DIR"
            )
        lock.seek(0)
        lock.truncate()
        started = time.strftime("%H:%M:%S")
        lock.write(f"the local run of {mode} in process {os.getpid()} (started {started})\n")
        lock.flush()
        yield reset_dir(path, keep={LOCK_FILE})


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


#: The one variable an options file may refer to: the emulator's URL, with an optional default.
API_URL_REFERENCE = re.compile(r"\$\{" + API_URL_VARIABLE + r"(?::-([^}]*))?\}")


def load_options(env_file: Path | None, api_url: str) -> dict[str, str]:
    """Read the options file as written, `${CONTAINER_API_URL}` being the emulator's URL.

    That lets `.env.example` say `CHANNEL_URL=${CONTAINER_API_URL}/channel` and reach the channel
    stand-in on whatever port the emulator got. Nothing else is expanded, so any other `$` or
    `${...}` in a value (a select's choice, a password) stays as typed. Keys without a value are
    left out.
    """
    if env_file is None:
        return {}
    from dotenv import dotenv_values  # here: the server must not need it

    values = dotenv_values(env_file, interpolate=False)
    return {
        key: API_URL_REFERENCE.sub(lambda _: api_url, value)
        for key, value in values.items()
        if value is not None
    }


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
    """Run the connector once against a fresh emulator; returns the connector's exit code.

    Raises OutFolderInUseError, before anything starts, while another run uses the out folder.
    """
    root = root or PROJECT_ROOT
    options_file = find_env_file(root, env_file)
    with (
        claimed_out_dir(out_dir or default_out_dir(mode, root), mode) as out,
        tempfile.TemporaryDirectory(prefix="emulator-empty-") as empty,
    ):
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
