"""CHANGELOG.md follows Keep a Changelog, and its newest release is the template's version.

Releases are `vX.Y.Z` tags (README.md, Releases); generated repos name them in the weekly
template check, so the changelog must say what each one changed.
"""

from __future__ import annotations

import re
import tomllib

from tests.bake import TEMPLATE

HEADING = re.compile(r"^## \[(?P<version>[^\]]+)\](?: - (?P<date>.*))?$", re.MULTILINE)
SEMVER = re.compile(r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)$")
DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
SECTIONS = ("Added", "Changed", "Deprecated", "Removed", "Fixed", "Security")


def changelog() -> str:
    return (TEMPLATE / "CHANGELOG.md").read_text(encoding="utf-8")


def test_versions_are_unreleased_then_dated_semver_newest_first() -> None:
    headings = [(m["version"], m["date"]) for m in HEADING.finditer(changelog())]
    assert headings, "CHANGELOG.md has no ## [version] headings"
    assert headings[0] == ("Unreleased", None), "the first section must be ## [Unreleased]"
    released = headings[1:]
    assert released, "CHANGELOG.md lists no release"
    for version, date in released:
        assert SEMVER.match(version), f"{version} is not X.Y.Z"
        assert DATE.match(date or ""), f"## [{version}] needs ' - YYYY-MM-DD'"
    numbers = [tuple(int(part) for part in v.split(".")) for v, _ in released]
    assert numbers == sorted(numbers, reverse=True), "releases must be listed newest first"
    assert len(set(numbers)) == len(numbers), "a version is listed twice"


def test_sections_use_keep_a_changelog_names() -> None:
    for section in re.findall(r"^### (.+)$", changelog(), re.MULTILINE):
        assert section in SECTIONS, f"### {section}: use one of {', '.join(SECTIONS)}"


def test_pyproject_version_is_the_newest_release() -> None:
    pyproject = tomllib.loads((TEMPLATE / "pyproject.toml").read_text(encoding="utf-8"))
    newest = [m["version"] for m in HEADING.finditer(changelog())][1]
    assert pyproject["project"]["version"] == newest
