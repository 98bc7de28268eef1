"""Releases make themselves: a new CHANGELOG.md version on main becomes a tag (.ci/release.py),
and the runtime package builds into a wheel that installs from an index."""

from __future__ import annotations

import importlib.util
import re
import shutil
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

from tests.bake import RUNTIME_PACKAGE, TEMPLATE
from tests.conftest import Baker

BIN = Path(sys.executable).parent
WORKFLOW = TEMPLATE / ".github" / "workflows" / "release.yml"


def load_release() -> ModuleType:
    spec = importlib.util.spec_from_file_location("release", TEMPLATE / ".ci" / "release.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


release = load_release()

CHANGELOG = """# Changelog

## [Unreleased]

## [{version}] - 2026-12-01

### Added
- Something.

## [0.1.0] - 2026-11-28
"""


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-c", "user.name=T", "-c", "user.email=t@example.com", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=True,
    ).stdout


def repo(tmp_path: Path, changelog: str, version: str, package_version: str) -> Path:
    """A template repo in miniature: CHANGELOG.md and the two versions it must agree with."""
    root = tmp_path / "template"
    package = root / "pkg"
    package.mkdir(parents=True)
    (root / "CHANGELOG.md").write_text(changelog, encoding="utf-8")
    (root / "pyproject.toml").write_text(f'[project]\nversion = "{version}"\n', encoding="utf-8")
    (package / "pyproject.toml").write_text(
        f'[project]\nversion = "{package_version}"\n', encoding="utf-8"
    )
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "-A")
    git(root, "-c", "user.name=T", "-c", "user.email=t@example.com", "commit", "-qm", "x")
    return root


def run(root: Path, command: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = release.main([command], root=root, package=root / "pkg")
    out, err = capsys.readouterr()
    return code, out, err


def test_a_new_changelog_version_is_tagged_once(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = repo(tmp_path, CHANGELOG.format(version="0.3.0"), "0.3.0", "0.3.0")
    assert run(root, "plan", capsys) == (0, "version=0.3.0\nrelease=true\ntag=true\n", "")

    assert run(root, "tag", capsys)[0] == 0
    assert git(root, "tag", "--list").split() == ["v0.3.0"]
    assert git(root, "cat-file", "-t", "v0.3.0").strip() == "tag"  # annotated
    assert run(root, "plan", capsys) == (0, "version=0.3.0\nrelease=false\ntag=false\n", "")
    assert run(root, "tag", capsys)[1] == "Nothing to tag: v0.3.0 exists.\n"
    assert git(root, "tag", "--list").split() == ["v0.3.0"]


def test_earlier_releases_get_their_missing_tags_on_their_own_commits(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    root = repo(tmp_path, CHANGELOG.format(version="0.3.0"), "0.3.0", "0.3.0")
    first = git(root, "rev-parse", "HEAD").strip()
    git(root, "commit", "-q", "--allow-empty", "-m", "later")
    git(root, "tag", "-a", "v0.3.0", "-m", "v0.3.0")
    monkeypatch.setattr(release, "EARLIER", {"0.1.0": first[:7], "0.0.9": "0" * 40})
    assert run(root, "plan", capsys) == (0, "version=0.3.0\nrelease=false\ntag=true\n", "")

    assert run(root, "tag", capsys)[0] == 0
    assert git(root, "rev-parse", "v0.1.0^{commit}").strip() == first
    assert "v0.0.9" not in git(root, "tag", "--list")  # a commit this clone lacks
    assert run(root, "plan", capsys)[1].endswith("tag=false\n")


def test_only_unreleased_changes_release_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = repo(tmp_path, "# Changelog\n\n## [Unreleased]\n- Work.\n", "0.0.0", "0.0.0")
    assert run(root, "plan", capsys) == (0, "version=\nrelease=false\ntag=false\n", "")


@pytest.mark.parametrize(
    ("version", "package_version", "named"),
    [("0.2.0", "0.3.0", "pyproject.toml"), ("0.3.0", "0.2.0", "pkg/pyproject.toml")],
)
def test_a_version_that_disagrees_fails_in_one_line_naming_the_file(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    version: str,
    package_version: str,
    named: str,
) -> None:
    root = repo(tmp_path, CHANGELOG.format(version="0.3.0"), version, package_version)
    code, out, err = run(root, "tag", capsys)
    assert code == 1
    assert out == ""
    assert err.count("\n") == 1
    assert f"{named} says" in err
    assert git(root, "tag", "--list") == ""


def test_this_repository_releases_one_version_everywhere() -> None:
    version = release.changelog_version()
    assert version is not None
    release.check_versions(version)  # raises naming the file that disagrees
    assert release.PACKAGE == RUNTIME_PACKAGE


def test_the_release_workflow_is_actionlint_clean_and_pins_its_actions() -> None:
    linted = subprocess.run(
        [str(BIN / "actionlint"), str(WORKFLOW)], capture_output=True, text=True, check=False
    )
    assert linted.returncode == 0, linted.stdout + linted.stderr
    uses = re.findall(r"uses:\s*(\S+)", WORKFLOW.read_text(encoding="utf-8"))
    assert uses
    assert all(re.fullmatch(r"[\w.-]+/[\w.-]+@[0-9a-f]{40}", action) for action in uses), uses
    assert ".ci/release.py plan" in WORKFLOW.read_text(encoding="utf-8")


@pytest.mark.slow
def test_the_runtime_wheel_from_a_local_index_runs_a_connector_without_its_copy(
    bake: Baker, tmp_path: Path
) -> None:
    """What the release publishes: the wheel alone (no vendor/ copy) runs every mode."""
    uv = str(BIN / "uv")
    index = tmp_path / "index"
    built = subprocess.run(
        [uv, "build", "--wheel", "--out-dir", str(index), str(RUNTIME_PACKAGE)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert built.returncode == 0, built.stderr
    version = release.project_version(RUNTIME_PACKAGE / "pyproject.toml")
    assert [wheel.name for wheel in index.glob("*.whl")] == [
        f"cde_runtime-{version}-py3-none-any.whl"
    ]
    venv = tmp_path / "venv"
    python = venv / "bin" / "python"
    for command in (
        [uv, "venv", "-q", "--python", sys.executable, str(venv)],
        [uv, "pip", "install", "-q", "--python", str(python), "--find-links", str(index),
         f"cde-runtime=={version}"],
    ):  # fmt: skip
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        assert done.returncode == 0, done.stderr
    project = tmp_path / "project"
    modes = ("data_source", "data_service", "export", "export_delta")
    shutil.copytree(bake("copier", modes), project, ignore=shutil.ignore_patterns("vendor"))
    for mode in ("data-source", "data-service", "export", "export-delta"):
        health = subprocess.run(
            [str(python), "main.py", mode, "--health-check"],
            cwd=project,
            capture_output=True,
            text=True,
            check=False,
        )
        assert health.returncode == 0, health.stderr
    checks = subprocess.run(
        [str(python), "-c", "import cde_emulator, cde_runtime.testing.checks"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert "No module named 'pytest'" in checks.stderr  # the plugin needs pytest, not the image
