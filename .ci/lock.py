"""Refresh the generated connector's locks from the template side, for template maintainers.

    .venv/bin/python .ci/lock.py            # re-lock after editing the connector's pyproject.toml
    .venv/bin/python .ci/lock.py --upgrade  # move every pin to the newest allowed version

Renders the default connector, runs `uv lock` in it, then writes back into the template:
  {{cookiecutter.project_slug}}/uv.lock           the lock, its project name made the slug again
  {{cookiecutter.project_slug}}/requirements.txt  the runtime export the image installs (hashes)
  requirements-connector.txt                      runtime + dev pins for the template's own suite
A generated repository refreshes its own locks with `python3 dev.py lock --upgrade`, the same
uv commands (tests/test_delivery.py checks that the three files agree).
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.bake import bake_cookiecutter, defaults, working_copy  # noqa: E402

PROJECT = ROOT / "{{cookiecutter.project_slug}}"
# The default answer's project name as uv writes it in the lock, and the tag that renders it.
DEFAULT_NAME = 'name = "my-connector"\nversion = "0.1.0"\nsource = { virtual = "." }'
SLUG_NAME = DEFAULT_NAME.replace(
    "my-connector", '{{ cookiecutter.project_slug | replace("_", "-") }}'
)
# Same command as dev.py's EXPORT in the generated repository.
EXPORT = [
    "export", "--frozen", "--no-dev", "--no-emit-project", "--no-emit-package", "cde-runtime",
    "--no-annotate", "--format", "requirements-txt", "--output-file", "requirements.txt",
]  # fmt: skip
CONNECTOR_HEADER = """\
# The generated connector's pins (runtime and dev group), exported from
# {{cookiecutter.project_slug}}/uv.lock by .ci/lock.py, so the template's suite runs the very
# tools generated repositories lock. Do not edit: run `.venv/bin/python .ci/lock.py`.
"""


def uv(*args: str, cwd: Path) -> str:
    found = shutil.which("uv", path=str(Path(sys.executable).parent)) or shutil.which("uv")
    if found is None:
        raise SystemExit("uv is not installed: run python3 run-tests.py once to set up .venv.")
    result = subprocess.run(
        [found, *args], cwd=cwd, capture_output=True, text=True, check=False, timeout=600
    )
    if result.returncode != 0:
        raise SystemExit(f"uv {' '.join(args)} failed:\n{result.stderr}")
    return result.stdout


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--upgrade", action="store_true", help="move every pin to the newest")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="lock-") as scratch:
        template = working_copy(Path(scratch) / "template")
        project = bake_cookiecutter(defaults(), Path(scratch) / "out", template=template)
        uv("lock", *(["--upgrade"] if args.upgrade else []), cwd=project)
        uv(*EXPORT, cwd=project)
        lock = (project / "uv.lock").read_text(encoding="utf-8")
        if lock.count(DEFAULT_NAME) != 1:
            raise SystemExit("uv.lock does not name the project as expected: update DEFAULT_NAME.")
        (PROJECT / "uv.lock").write_text(lock.replace(DEFAULT_NAME, SLUG_NAME), encoding="utf-8")
        shutil.copy2(project / "requirements.txt", PROJECT / "requirements.txt")
        pins = uv(
            "export", "--frozen", "--all-groups", "--no-emit-project", "--no-emit-package",
            "cde-runtime", "--no-hashes",
            "--no-annotate", "--no-header", "--format", "requirements-txt", cwd=project,
        )  # fmt: skip
        (ROOT / "requirements-connector.txt").write_text(CONNECTOR_HEADER + pins, encoding="utf-8")
    print("Updated uv.lock, requirements.txt and requirements-connector.txt; review git diff.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
