"""Local work with nothing installed but Python 3.11+: the first call sets everything up.

    python3 dev.py run MODE [ARGS]  # run a mode against the local Container API emulator
    python3 dev.py test [ARGS]      # run the tests (ARGS go to pytest)
    python3 dev.py lock [--upgrade] # re-lock after editing pyproject.toml; --upgrade refreshes pins
    python3 dev.py sync             # only prepare .venv (for an editor or `uv run`)

Every command first makes `.venv` match uv.lock (runtime and dev tools), then runs inside it.
The first time it creates `.venv` and installs uv there from PyPI, the version uv.lock pins;
after that the check takes milliseconds. Standard library only: it runs before anything exists.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
SUFFIX = ".exe" if os.name == "nt" else ""
PYTHON = BIN / f"python{SUFFIX}"
UV = BIN / f"uv{SUFFIX}"
# uv.lock's runtime part for the image, with hashes; tests/runtime/test_locks.py checks it agrees.
EXPORT = [
    "export", "--frozen", "--no-dev", "--no-emit-project", "--no-annotate",
    "--format", "requirements-txt", "--output-file", "requirements.txt",
]  # fmt: skip


class SetupError(Exception):
    """A step of the setup failed; the message says what to do."""


def locked_uv_version() -> str:
    """The uv version uv.lock pins in the dev group: one uv for every machine and CI."""
    import tomllib  # imported late: main() first tells Python 3.10 and older to upgrade

    with (ROOT / "uv.lock").open("rb") as lock:
        packages = tomllib.load(lock)["package"]
    return str(next(package["version"] for package in packages if package["name"] == "uv"))


def call(*command: str | Path) -> int:
    """Run a program of .venv (or Python itself) in the project folder; returns its exit code."""
    # Fixed programs, arguments from this file or from the person typing them: no shell.
    arguments = [str(part) for part in command]
    return subprocess.run(arguments, cwd=ROOT, env=venv_env(), check=False).returncode  # noqa: S603


def setup_step(*command: str | Path) -> None:
    if call(*command) != 0:
        raise SetupError(f"`{' '.join(str(part) for part in command)}` failed (see above).")


def venv_env() -> dict[str, str]:
    """The environment of an activated .venv, so tools started by the tests find its programs."""
    env = {key: value for key, value in os.environ.items() if key != "PYTHONHOME"}
    env["VIRTUAL_ENV"] = str(VENV)
    env["PATH"] = os.pathsep.join([str(BIN), env.get("PATH", "")])
    return env


def install_uv() -> None:
    """Create .venv with pip and put the locked uv in it; uv installs everything else."""
    if UV.exists():
        return
    print(f"First run: creating {VENV.name} and installing the locked packages.", file=sys.stderr)
    created = subprocess.run([sys.executable, "-m", "venv", "--clear", str(VENV)], check=False)  # noqa: S603
    if created.returncode != 0:
        raise SetupError(
            "Python could not create .venv: install your system's venv module"
            " (Debian/Ubuntu: sudo apt install python3-venv) and run the command again."
        )
    setup_step(PYTHON, "-m", "pip", "install", "--quiet", f"uv=={locked_uv_version()}")


def sync() -> None:
    install_uv()
    if call(UV, "sync", "--locked", "--quiet") != 0:
        raise SetupError(
            "Could not make .venv match uv.lock (see above);"
            " after editing pyproject.toml, run `python3 dev.py lock` first."
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="run a mode against the local Container API emulator")
    run.add_argument("mode")
    commands.add_parser("test", help="run the tests")
    lock = commands.add_parser("lock", help="update uv.lock and requirements.txt")
    lock.add_argument("--upgrade", action="store_true", help="move every pin to its newest")
    commands.add_parser("sync", help="only make .venv match uv.lock")
    # Arguments dev.py does not know go on unchanged to the emulator runner or to pytest.
    args, passed_on = parser.parse_known_args(argv)
    if passed_on and args.command not in ("run", "test"):
        parser.error(f"unrecognized arguments: {' '.join(passed_on)}")
    if sys.version_info < (3, 11):  # noqa: UP036 - dev.py is what runs before any check can
        parser.exit(1, "This project needs Python 3.11 or newer: run dev.py with it.\n")
    try:
        if args.command == "lock":
            install_uv()
            setup_step(UV, "lock", *(["--upgrade"] if args.upgrade else []))
            setup_step(UV, "--quiet", *EXPORT)
        sync()
        if args.command == "run":
            return call(PYTHON, "-m", "emulator", "run", args.mode, *passed_on)
        if args.command == "test":
            return call(PYTHON, "-m", "pytest", *passed_on)
    except SetupError as error:
        print(error, file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
