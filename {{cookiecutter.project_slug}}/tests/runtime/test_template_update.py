"""Nothing a template update could not merge is left behind.

`copier update` and `cruft update` finish with exit code 0 even when they could not merge a
change: copier leaves inline conflict markers, cruft leaves `*.rej` files, and cruft cannot
delete a file of a switched-off mode once you edited it. Each test below names every such file,
so run this file right after an update (README.md, Template updates) and fix what it lists.
It imports none of your code at collection, so a conflict in a handler still gets named.
It also runs with the rest of the suite, so CI fails while anything is left.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]
# Written without seven literal angle brackets so that this file never matches itself.
MARKER = re.compile("^(" + "<" * 7 + "|" + ">" * 7 + ")( |$)", re.MULTILINE)
SKIPPED_DIRS = frozenset({".git", ".venv", "venv", "__pycache__", ".emulator-out", "node_modules"})
# Where the template puts the files of a mode: a file or folder named `<mode>`, `<mode>.<ext>`
# or `test_<mode>.<ext>`; `channel` files belong to the two export modes together.
MODE_FOLDERS = ("connector", "tests", "sample_data", "emulator")


def all_files() -> list[Path]:
    """Every file of the project, ignored ones included, outside environments and caches."""
    return [
        path
        for path in sorted(PROJECT_ROOT.rglob("*"))
        if path.is_file()
        and not any(
            part in SKIPPED_DIRS or part.endswith("_cache")
            for part in path.relative_to(PROJECT_ROOT).parts
        )
    ]


def project_files() -> list[Path]:
    """The files git tracks or would track (ignored files left out), else every file."""
    git = shutil.which("git")
    listed = None
    if git:
        listing = subprocess.run(  # noqa: S603 - git with fixed arguments
            [git, "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
            cwd=PROJECT_ROOT,
            capture_output=True,
            check=False,
        )
        listed = listing.stdout if listing.returncode == 0 else None
    if listed is None:  # no git, or not a repository yet
        return all_files()
    names = {name for name in listed.decode("utf-8", "surrogateescape").split("\0") if name}
    return [PROJECT_ROOT / name for name in sorted(names) if (PROJECT_ROOT / name).is_file()]


def relative(path: Path) -> str:
    return path.relative_to(PROJECT_ROOT).as_posix()


def test_no_conflict_markers_are_left() -> None:
    conflicted = []
    for path in project_files():
        content = path.read_bytes()
        if b"\0" in content:  # binary
            continue
        lines = [
            number
            for number, line in enumerate(content.decode("utf-8", "replace").splitlines(), 1)
            if MARKER.match(line)
        ]
        if lines:
            conflicted.append(f"{relative(path)} (line {', '.join(map(str, lines))})")
    assert not conflicted, (
        "Conflict markers left by a template update or a merge: keep the right lines, delete "
        "the markers, then rerun. " + "; ".join(conflicted)
    )


def test_no_rejected_changes_are_left() -> None:
    # .gitignore hides them from git, so look at every file.
    rejected = [relative(path) for path in all_files() if path.name.endswith(".rej")]
    assert not rejected, (
        "Changes a template update could not apply: carry each into the file it names by "
        "hand, then delete it. " + ", ".join(rejected)
    )


def test_no_files_of_switched_off_modes_are_left() -> None:
    # Imported here, not above: a conflict in a handler must not stop the two tests above
    # from naming it.
    from cde_runtime.mode import CHANNEL_MODES, PLATFORM_MODES

    from connector.modes import MODES

    owners = [mode.replace("-", "_") for mode in PLATFORM_MODES if mode not in MODES]
    if not any(mode in MODES for mode in CHANNEL_MODES):
        owners.append("channel")
    left = [
        relative(path)
        for path in project_files()
        if path.relative_to(PROJECT_ROOT).parts[0] in MODE_FOLDERS
        and any(
            part.split(".", 1)[0] in (owner, f"test_{owner}")
            for owner in owners
            for part in path.relative_to(PROJECT_ROOT).parts[1:]
        )
    ]
    assert not left, (
        "Files of a mode this connector no longer offers (left by a template update that "
        "switched the mode off): delete them with `git rm`, or switch the mode back on. "
        + ", ".join(left)
    )
