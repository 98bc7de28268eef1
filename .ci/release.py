"""Release the template when CHANGELOG.md names a version that has no tag yet.

    python .ci/release.py plan    # prints version=X.Y.Z, release= and tag=true|false (for CI)
    python .ci/release.py tag     # creates the annotated tag vX.Y.Z on HEAD, if it is missing,
                                  # and the tags of EARLIER releases this clone lacks

The newest `## [X.Y.Z] - YYYY-MM-DD` section of CHANGELOG.md is the release; pyproject.toml and
the runtime package (vendor/cde-runtime) must carry the same version, or the plan fails in one
line naming the file to fix. .github/workflows/release.yml runs it on every push to main, then
builds the runtime's wheel and publishes it. Standard library only.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "{{cookiecutter.project_slug}}" / "vendor" / "cde-runtime"
#: Releases made before this workflow existed, tagged only in a local clone: their commits.
EARLIER = {"0.1.0": "c275b0a", "0.2.0": "79d5b44"}
RELEASE = re.compile(r"^## \[(\d+\.\d+\.\d+)\] - \d{4}-\d{2}-\d{2}$", re.MULTILINE)


class ReleaseError(Exception):
    """The repository cannot be released as it is; the message says what to fix."""


def changelog_version(root: Path = ROOT) -> str | None:
    """The newest released version in CHANGELOG.md (`## [Unreleased]` is not one)."""
    found = RELEASE.search((root / "CHANGELOG.md").read_text(encoding="utf-8"))
    return found.group(1) if found else None


def project_version(pyproject: Path) -> str:
    with pyproject.open("rb") as file:
        return str(tomllib.load(file)["project"]["version"])


#: Where a generated repo pins the runtime it ships (a Jinja template, so read as text).
PINS = {
    "pyproject.toml": re.compile(r'"cde-runtime==([^"]+)"'),
    "uv.lock": re.compile(r'name = "cde-runtime"\nversion = "([^"]+)"'),
}


def check_versions(version: str, root: Path = ROOT, package: Path = PACKAGE) -> None:
    found = {
        pyproject: project_version(pyproject)
        for pyproject in (root / "pyproject.toml", package / "pyproject.toml")
    }
    project = package.parent.parent  # the generated repo's folder
    for name, pin in PINS.items():
        if (project / name).is_file():
            pinned = pin.search((project / name).read_text(encoding="utf-8"))
            found[project / name] = pinned.group(1) if pinned else "nothing"
    for path, value in found.items():
        if value != version:
            raise ReleaseError(
                f"CHANGELOG.md releases {version} but {path.relative_to(root)} says {value}:"
                f" make it {version} (README.md, Releases)."
            )


def git(*args: str, cwd: Path = ROOT) -> str:
    return subprocess.run(
        ["git", *args], cwd=cwd, capture_output=True, text=True, check=True
    ).stdout.strip()


def plan(root: Path = ROOT, package: Path = PACKAGE) -> tuple[str | None, bool]:
    """(version, whether its tag is still to be made)."""
    version = changelog_version(root)
    if version is None:
        return None, False
    check_versions(version, root, package)
    return version, not git("tag", "--list", f"v{version}", cwd=root)


def main(argv: list[str] | None = None, root: Path = ROOT, package: Path = PACKAGE) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("command", choices=["plan", "tag"])
    command = parser.parse_args(argv).command
    try:
        version, needed = plan(root, package)
    except ReleaseError as error:
        print(f"release: {error}", file=sys.stderr)
        return 1
    if command == "plan":
        print(f"version={version or ''}")
        print(f"release={'true' if needed else 'false'}")  # build and publish this version
        print(f"tag={'true' if needed or missing_earlier_tags(root) else 'false'}")
        return 0
    for earlier, commit in missing_earlier_tags(root).items():
        git("tag", "-a", f"v{earlier}", "-m", f"v{earlier}", commit, cwd=root)
        print(f"Tagged v{earlier} on {commit}.")
    if needed:
        git("tag", "-a", f"v{version}", "-m", f"v{version}", cwd=root)
        print(f"Tagged v{version}.")
    else:
        print(f"Nothing to tag: {'v' + version if version else 'no release'} exists.")
    return 0


def missing_earlier_tags(root: Path) -> dict[str, str]:
    """EARLIER's releases whose tag is missing and whose commit this clone holds."""
    tags = set(git("tag", "--list", cwd=root).split())
    held = {}
    for version, commit in EARLIER.items():
        known = subprocess.run(
            ["git", "cat-file", "-e", f"{commit}^{{commit}}"],
            cwd=root,
            capture_output=True,
            check=False,
        )
        if f"v{version}" not in tags and known.returncode == 0:
            held[version] = commit
    return held


if __name__ == "__main__":
    raise SystemExit(main())
