"""Run the template's own tests on a machine with only Python 3.11+ and git: `python3 run-tests.py`.

The first run creates `.venv` and installs requirements-test.txt into it; later runs reinstall
only when a requirements file changed. Then it runs `pytest -n auto` with any extra arguments,
e.g. `python3 run-tests.py -k trees`. Standard library only: it runs before anything exists.
CI runs it too (.ci/run).
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
PYTHON = VENV / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
REQUIREMENTS = ("requirements-test.txt", "requirements-connector.txt")
# What .venv was last installed from; a different digest means: install again.
STAMP = VENV / "requirements.sha256"


def digest() -> str:
    content = b"".join((ROOT / name).read_bytes() for name in REQUIREMENTS)
    return hashlib.sha256(content).hexdigest()


def run(*command: str | Path) -> int:
    return subprocess.run([str(part) for part in command], cwd=ROOT, check=False).returncode


def prepare() -> None:
    wanted = digest()
    if STAMP.exists() and STAMP.read_text(encoding="utf-8") == wanted:
        return
    print("Installing the test toolchain into .venv (requirements-test.txt)...", flush=True)
    if not PYTHON.exists() and run(sys.executable, "-m", "venv", VENV) != 0:
        sys.exit(
            "Python could not create .venv: install your system's venv module"
            " (Debian/Ubuntu: sudo apt install python3-venv) and run this again."
        )
    if run(PYTHON, "-m", "pip", "install", "--quiet", "-r", "requirements-test.txt") != 0:
        sys.exit("Installing requirements-test.txt into .venv failed (see above).")
    STAMP.write_text(wanted, encoding="utf-8")


def main() -> int:
    if sys.version_info < (3, 11):  # noqa: UP036 - runs before anything checks the version
        sys.exit("The template's tests need Python 3.11 or newer: run this with it.")
    prepare()
    return run(PYTHON, "-m", "pytest", "-n", "auto", *sys.argv[1:])


if __name__ == "__main__":
    raise SystemExit(main())
