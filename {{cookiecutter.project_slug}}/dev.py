"""Local work with nothing installed but Python 3.11+: the first call sets everything up.

    python3 dev.py run MODE [ARGS]  # run a mode against the local Container API emulator
    python3 dev.py test [ARGS]      # run the tests (ARGS go to pytest)
    python3 dev.py lock [--upgrade] # re-lock after editing pyproject.toml; --upgrade refreshes pins
    python3 dev.py sync             # only prepare .venv (for an editor or `uv run`)

Every command first makes `.venv` match uv.lock (runtime and dev tools), then runs inside it;
when nothing changed that takes well under a second. The first time, `.venv` does not exist and
neither may pip: dev.py downloads the uv build for this machine that uv.lock pins (checking its
hash from the lock), and that uv creates `.venv` with everything in it, uv included. Standard
library only: this file runs before anything is installed.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import os
import platform
import subprocess
import sys
import tempfile
import urllib.request
import zipfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
SUFFIX = ".exe" if os.name == "nt" else ""
PYTHON = BIN / f"python{SUFFIX}"
UV = BIN / f"uv{SUFFIX}"
# uv.lock's runtime part for the image, with hashes; tests/runtime/test_locks.py checks it agrees.
EXPORT = [
    "export", "--frozen", "--no-dev", "--no-emit-project", "--no-emit-package", "cde-runtime",
    "--no-annotate", "--format", "requirements-txt", "--output-file", "requirements.txt",
]  # fmt: skip


class SetupError(Exception):
    """A step of the setup failed; the message says what to do."""


# Python (urllib) and uv both read these; without them a TLS-inspecting proxy fails every download.
NETWORK_HINT = (
    "behind a proxy, set HTTPS_PROXY, and if it inspects TLS (a certificate error above), also"
    " SSL_CERT_FILE=<its CA bundle>; then run the command again."
)


def locked_uv_wheels() -> list[dict[str, Any]]:
    """The builds of the uv that uv.lock pins (its dev group), with their URLs and hashes."""
    import tomllib  # imported late: main() first tells Python 3.10 and older to upgrade

    with (ROOT / "uv.lock").open("rb") as lock:
        packages = tomllib.load(lock)["package"]
    [uv] = [package for package in packages if package["name"] == "uv"]
    return list(uv["wheels"])


def platform_tag_matches(tag: str) -> bool:
    """Whether a wheel's platform tag (e.g. manylinux_2_17_x86_64) runs on this machine."""
    machine = platform.machine().lower()
    if sys.platform == "darwin":
        return tag.startswith("macosx_") and tag.endswith(f"_{machine}")
    if os.name == "nt":
        windows = {"amd64": "win_amd64", "arm64": "win_arm64", "x86": "win32"}
        return tag == windows.get(machine)
    libc = "manylinux_" if platform.libc_ver()[0] == "glibc" else "musllinux_"
    return tag.startswith(libc) and tag.endswith(f"_{machine}")


def locked_uv_wheel() -> dict[str, Any]:
    """The build of the locked uv that runs on this machine."""
    for wheel in locked_uv_wheels():
        tags = wheel["url"].rsplit("/", 1)[-1].removesuffix(".whl").split("-")[-1].split(".")
        if any(platform_tag_matches(tag) for tag in tags):
            return wheel
    raise SetupError(
        f"uv.lock has no uv build for {sys.platform} {platform.machine()}: install uv"
        " (https://docs.astral.sh/uv/), run `uv sync`, then the command again."
    )


def download_uv(folder: Path) -> Path:
    """The locked uv for this machine, from PyPI, hash-checked, unpacked into `folder`."""
    wheel = locked_uv_wheel()
    try:
        # The URL comes from uv.lock (PyPI over https), and the hash below checks what arrives.
        with urllib.request.urlopen(wheel["url"], timeout=120) as response:  # noqa: S310
            content = response.read()
    except OSError as error:
        raise SetupError(
            f"Could not download uv from PyPI ({error}): check the internet connection;"
            f" {NETWORK_HINT}"
        ) from error
    if "sha256:" + hashlib.sha256(content).hexdigest() != wheel["hash"]:
        raise SetupError(f"The download of {wheel['url']} does not match uv.lock's hash.")
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        [member] = [name for name in archive.namelist() if name.endswith(f"/scripts/uv{SUFFIX}")]
        binary = folder / f"uv{SUFFIX}"
        binary.write_bytes(archive.read(member))
    binary.chmod(0o755)
    return binary


def call(*command: str | Path) -> int:
    """Run a program of .venv (or Python itself) in the project folder; returns its exit code."""
    # Fixed programs, arguments from this file or from the person typing them: no shell.
    arguments = [str(part) for part in command]
    with subprocess.Popen(arguments, cwd=ROOT, env=venv_env()) as process:  # noqa: S603
        try:
            return process.wait()
        except KeyboardInterrupt:
            # Ctrl-C reached the program too (one process group): let it finish its own way
            # (the emulator runner prints its summary) rather than kill it as subprocess.run
            # would after 0.25 s; a second Ctrl-C stops it at once.
            try:
                return process.wait()
            except KeyboardInterrupt:
                process.kill()
                raise


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
    """Create .venv from uv.lock with a uv fetched for the purpose; it holds uv from then on."""
    if UV.exists():
        return
    print(f"First run: creating {VENV.name} with the packages of uv.lock.", file=sys.stderr)
    with tempfile.TemporaryDirectory(prefix="uv-") as folder:
        uv = download_uv(Path(folder))
        # --frozen: exactly what the lock says, even while pyproject.toml is being edited.
        command = (uv, "sync", "--frozen", "--quiet", "--python", sys.executable)
        if call(*command) != 0:
            raise SetupError(
                f"Could not create {VENV.name} from uv.lock (see above); {NETWORK_HINT}"
            )


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
    # No help of their own: `run --help` and `test --help` show the emulator runner's and pytest's.
    commands.add_parser(
        "run",
        add_help=False,
        help="run a mode against the local Container API emulator (`run --help`: its options)",
    )
    commands.add_parser("test", add_help=False, help="run the tests (arguments go to pytest)")
    lock = commands.add_parser("lock", help="update uv.lock and requirements.txt")
    lock.add_argument("--upgrade", action="store_true", help="move every pin to its newest")
    commands.add_parser("sync", help="only make .venv match uv.lock")
    argv = sys.argv[1:] if argv is None else list(argv)
    # Everything after `run` or `test` (--help included) goes unchanged to the emulator runner or
    # to pytest, in any order: `run --fault write:1:503 export` works as well as `run export ...`.
    passing = argv[:1] in (["run"], ["test"])
    args, passed_on = parser.parse_known_args(argv[:1] if passing else argv)
    passed_on = argv[1:] if passing else passed_on
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
            return call(PYTHON, "-m", "cde_emulator", "run", *passed_on)
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
