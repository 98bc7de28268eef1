"""A generated project pulls later template changes and keeps its own edits.

The flow a user follows months after generating: template tag v1 → generate →
commit → edit locally → the template moves on to tag v2 → `copier update` (or
`cruft update`) → the template's change arrives, the local edit survives.
"""

from __future__ import annotations

import subprocess
import sys
import warnings
from pathlib import Path

import pytest

from tests.bake import working_copy

pytestmark = pytest.mark.slow

HANDLER = Path("connector/modes/data_source.py")
LOCAL_EDIT = "# Local edit: our own import rules go here.\n"
TEMPLATE_CHANGE = "Template v2 was here.\n"


def git(cwd: Path, *args: str) -> str:
    result = subprocess.run(
        ["git", "-c", "user.name=Test", "-c", "user.email=test@example.com", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout


def commit_all(repo: Path, message: str) -> None:
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", message)


@pytest.fixture
def template_repo(tmp_path: Path) -> Path:
    """The template in its own git repo, tagged v1."""
    repo = working_copy(tmp_path / "template")
    git(repo, "init", "-q", "-b", "main")
    commit_all(repo, "v1")
    git(repo, "tag", "v1")
    return repo


def release_v2(template: Path) -> None:
    """A later template release: a new docs file and a changed shared file."""
    project = template / "{{cookiecutter.project_slug}}"
    (project / "docs" / "changes.md").write_text(TEMPLATE_CHANGE, encoding="utf-8")
    readme = project / "README.md"
    readme.write_text(readme.read_text(encoding="utf-8") + "\n" + TEMPLATE_CHANGE, encoding="utf-8")
    commit_all(template, "v2")
    git(template, "tag", "v2")


def start_project(project: Path) -> None:
    """What a user does right after generating: commit, then edit and commit."""
    git(project, "init", "-q", "-b", "main")
    commit_all(project, "Generated")
    handler = project / HANDLER
    handler.write_text(LOCAL_EDIT + handler.read_text(encoding="utf-8"), encoding="utf-8")
    commit_all(project, "Local edit")


def run_suite(project: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-x"],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def test_copier_update_brings_template_changes_and_keeps_local_edits(
    tmp_path: Path, template_repo: Path
) -> None:
    from copier import run_copy, run_update

    project = tmp_path / "project"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        run_copy(str(template_repo), project, defaults=True, vcs_ref="v1", quiet=True)
    assert "_commit: v1" in (project / ".copier-answers.yml").read_text(encoding="utf-8")
    start_project(project)
    release_v2(template_repo)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        run_update(project, defaults=True, overwrite=True, quiet=True, vcs_ref="v2")

    assert (project / "docs" / "changes.md").read_text(encoding="utf-8") == TEMPLATE_CHANGE
    assert TEMPLATE_CHANGE in (project / "README.md").read_text(encoding="utf-8")
    assert (project / HANDLER).read_text(encoding="utf-8").startswith(LOCAL_EDIT)
    assert "_commit: v2" in (project / ".copier-answers.yml").read_text(encoding="utf-8")
    suite = run_suite(project)
    assert suite.returncode == 0, suite.stdout[-4000:]


def test_copier_update_can_switch_a_mode_on(tmp_path: Path, template_repo: Path) -> None:
    from copier import run_copy, run_update

    project = tmp_path / "project"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        run_copy(str(template_repo), project, defaults=True, vcs_ref="v1", quiet=True)
    start_project(project)
    assert not (project / "connector" / "modes" / "export.py").exists()

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        run_update(
            project,
            data={"mode_export": True},
            defaults=True,
            overwrite=True,
            quiet=True,
            vcs_ref="v1",
        )

    assert (project / "connector" / "modes" / "export.py").is_file()
    assert (project / "tests" / "test_export.py").is_file()
    assert "mode_export: true" in (project / ".copier-answers.yml").read_text(encoding="utf-8")
    assert (project / HANDLER).read_text(encoding="utf-8").startswith(LOCAL_EDIT)
    suite = run_suite(project)
    assert suite.returncode == 0, suite.stdout[-4000:]


def test_cruft_update_brings_template_changes_and_keeps_local_edits(
    tmp_path: Path, template_repo: Path
) -> None:
    import cruft

    project = Path(
        cruft.create(str(template_repo), checkout="v1", output_dir=tmp_path / "out", no_input=True)
    )
    assert (project / ".cruft.json").is_file()
    assert not (project / ".copier-answers.yml").exists()
    start_project(project)
    release_v2(template_repo)

    assert cruft.check(project, checkout="v2") is False
    cruft.update(project, checkout="v2", skip_apply_ask=True, allow_untracked_files=False)

    assert (project / "docs" / "changes.md").read_text(encoding="utf-8") == TEMPLATE_CHANGE
    assert TEMPLATE_CHANGE in (project / "README.md").read_text(encoding="utf-8")
    assert (project / HANDLER).read_text(encoding="utf-8").startswith(LOCAL_EDIT)
    assert cruft.check(project, checkout="v2") is True
