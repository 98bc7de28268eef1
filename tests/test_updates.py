"""The life of a generated repo across template releases, with copier and cruft.

A throwaway template git repo holds four releases: v0.1.0 is the first round (commit
c275b0a, runtime inside `connector/`), v0.2.0 the `cde_runtime/` layout (commit 79d5b44), v0.3.0
is the working tree (the runtime as the package vendor/cde-runtime), v0.4.0 adds a change to a
template-owned file, a shared file and an author-owned handler; an untagged commit follows it.
Each test generates a repo, edits it as an author would, updates it and checks what arrived,
what was kept, and that whatever could not be merged is loud.

Cost: generated suites are never run whole here (tests/test_generated.py does that for fresh
bakes); each scenario runs the generated repo's own leftovers check, the author's test and
`python main.py describe` (imports every handler), which is what an update can break.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tarfile
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from io import BytesIO
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.bake import TEMPLATE, own_runtime_first, working_copy

pytestmark = pytest.mark.slow

FIRST_ROUND = "c275b0a"  # the commit released as v0.1.0 (runtime inside connector/)
ROOT_RUNTIME = "79d5b44"  # the commit released as v0.2.0 (runtime in cde_runtime/, emulator/)
HANDLER = Path("connector/modes/data_source.py")
EXPORT_HANDLER = Path("connector/modes/export.py")
# The author's edits: a mapping rule in the handler, and a test of it.
ORIGINAL_MAPPING = "    return product\n"
AUTHOR_MAPPING = '    return {**product, "source": "acme"}\n'
AUTHOR_TEST = Path("tests/test_mapping.py")
AUTHOR_TEST_TEXT = '''"""Our own mapping rule."""

from connector.modes.data_source import to_platform_product


def test_products_are_tagged_with_their_source() -> None:
    assert to_platform_product({"id": "1"}) == {"id": "1", "source": "acme"}
'''
# An option the author added through the answers (replayed by every update).
REGION = {"type": "select", "choices": ["eu", "us"], "default": "eu", "description": "Region."}
# What v0.4.0 changes.
RUNTIME_FILE = Path("vendor/cde-runtime/src/cde_runtime/errors.py")
RUNTIME_CHANGE = "\n# Template v0.4.0 was here.\n"
DOCS_FILE = Path("docs/changes.md")
DOCS_TEXT = "Template v0.4.0 was here.\n"
HANDLER_LINE = '"""Data source: import products into the platform.\n'
HANDLER_LINE_V4 = '"""Data source: import products into the platform (template v0.4.0).\n'
HANDLER_LINE_AUTHOR = '"""Data source: import products from Acme.\n'


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
    git(repo, "commit", "-q", "--allow-empty", "-m", message)


def replace_in(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def release(repo: Path, tag: str, message: str) -> None:
    commit_all(repo, message)
    git(repo, "tag", "-a", tag, "-m", tag)


def unpack(repo: Path, commit: str) -> None:
    """Make `repo`'s tree the template as it was at `commit` of this repository."""
    git(repo, "rm", "-rq", "--ignore-unmatch", ".")
    try:
        archive = subprocess.run(
            ["git", "archive", "--format=tar", commit],
            cwd=TEMPLATE,
            capture_output=True,
            check=True,
        ).stdout
    except subprocess.CalledProcessError as error:
        raise RuntimeError(
            f"The update tests build releases from commit {commit}: run them in a "
            "full clone of the template (git fetch --unshallow)."
        ) from error
    with tarfile.open(fileobj=BytesIO(archive)) as tar:
        # The "data" filter refuses odd members; Python 3.11 before 3.11.4 (Debian 12's) lacks it.
        if hasattr(tarfile, "data_filter"):
            tar.extractall(repo, filter="data")
        else:
            tar.extractall(repo)  # our own git archive


@pytest.fixture(scope="session")
def template_repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The template's git repo with releases v0.1.0 to v0.4.0 and a later commit."""
    root = tmp_path_factory.mktemp("releases")
    repo = root / "template"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    unpack(repo, FIRST_ROUND)
    release(repo, "v0.1.0", "First round")
    unpack(repo, ROOT_RUNTIME)
    release(repo, "v0.2.0", "cde_runtime layout")

    git(repo, "rm", "-rq", ".")
    current = working_copy(root / "current")
    for path in current.iterdir():
        path.rename(repo / path.name)
    release(repo, "v0.3.0", "The runtime as a package")

    project = repo / "{{cookiecutter.project_slug}}"
    runtime = project / RUNTIME_FILE
    runtime.write_text(runtime.read_text(encoding="utf-8") + RUNTIME_CHANGE, encoding="utf-8")
    (project / DOCS_FILE).write_text(DOCS_TEXT, encoding="utf-8")
    readme = project / "README.md"
    readme.write_text(readme.read_text(encoding="utf-8") + "\n" + DOCS_TEXT, encoding="utf-8")
    replace_in(project / HANDLER, HANDLER_LINE, HANDLER_LINE_V4)
    release(repo, "v0.4.0", "A later release")

    (repo / "NOTES.md").write_text("Work after v0.4.0, not released.\n", encoding="utf-8")
    commit_all(repo, "Unreleased work")
    return repo


@contextmanager
def quiet_warnings() -> Iterator[None]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # copier's DirtyLocalWarning and friends
        yield


def copier_copy(
    template: Path, dest: Path, ref: str | None, *, overwrite: bool = False, **data: Any
) -> Path:
    from copier import run_copy

    with quiet_warnings():
        run_copy(
            str(template),
            dest,
            data=data,
            defaults=True,
            vcs_ref=ref,
            overwrite=overwrite,
            quiet=True,
        )
    return dest


def copier_update(project: Path, ref: str | None = None, **data: Any) -> None:
    from copier import run_update

    with quiet_warnings():
        run_update(project, data=data, defaults=True, overwrite=True, quiet=True, vcs_ref=ref)


def cruft_create(template: Path, out: Path, ref: str, **context: Any) -> Path:
    import cruft

    return Path(
        cruft.create(
            str(template), checkout=ref, output_dir=out, no_input=True, extra_context=context
        )
    )


def cruft_update(project: Path, ref: str, **context: Any) -> None:
    import cruft

    assert cruft.update(
        project,
        checkout=ref,
        skip_apply_ask=True,
        allow_untracked_files=False,
        extra_context=context or None,
    )


def author_edits(project: Path) -> None:
    """Commit the generated repo, then the author's mapping rule and its test."""
    git(project, "init", "-q", "-b", "main")
    commit_all(project, "Generated")
    replace_in(project / HANDLER, ORIGINAL_MAPPING, AUTHOR_MAPPING)
    (project / AUTHOR_TEST).write_text(AUTHOR_TEST_TEXT, encoding="utf-8")
    commit_all(project, "Our mapping")


def run_in(
    project: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *args],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
        env=own_runtime_first(project, os.environ if env is None else env),
    )


def leftovers_check(project: Path) -> subprocess.CompletedProcess[str]:
    """The generated check the README's update steps run (standard library only, no .venv)."""
    return run_in(project, "dev.py", "check-update")


def assert_healthy(project: Path, *tests: str) -> None:
    """No leftovers, every handler imports, the given generated tests pass."""
    check = leftovers_check(project)
    assert check.returncode == 0, check.stdout
    suite = run_in(project, "-m", "pytest", "-q", "-p", "no:cacheprovider", *tests)
    assert suite.returncode == 0, suite.stdout[-4000:]
    describe = run_in(project, "main.py", "describe")
    assert describe.returncode == 0, describe.stderr[-4000:]


def assert_author_edits_kept(project: Path) -> None:
    assert AUTHOR_MAPPING in (project / HANDLER).read_text(encoding="utf-8")
    assert (project / AUTHOR_TEST).read_text(encoding="utf-8") == AUTHOR_TEST_TEXT


def assert_v4_arrived(project: Path) -> None:
    assert (project / RUNTIME_FILE).read_text(encoding="utf-8").endswith(RUNTIME_CHANGE)
    assert (project / DOCS_FILE).read_text(encoding="utf-8") == DOCS_TEXT
    assert DOCS_TEXT in (project / "README.md").read_text(encoding="utf-8")
    assert HANDLER_LINE_V4 in (project / HANDLER).read_text(encoding="utf-8")


def weekly_check(project: Path) -> subprocess.CompletedProcess[str]:
    """The generated CI's `template-update` step, run as GitHub runs it (bash -e)."""
    workflow = yaml.safe_load((project / ".github/workflows/ci.yml").read_text(encoding="utf-8"))
    script = workflow["jobs"]["template-update"]["steps"][-1]["run"]
    return subprocess.run(
        ["bash", "-e", "-c", script], cwd=project, capture_output=True, text=True, check=False
    )


# --- migration from the first round's layout (v0.1.0 -> v0.3.0) -------------------------------

OLD_RUNTIME = (
    "connector/cli.py",
    "connector/container_api",
    "connector/logs.py",
    "tests/test_cli.py",
)
MIGRATION_ANSWERS: dict[str, Any] = {
    "mode_export": True,
    "data_source_options": {
        "NAME": {"type": "input", "required": True, "default": "World", "description": "Who."},
        "REGION": REGION,
    },
}


def assert_migrated(project: Path) -> None:
    for old in OLD_RUNTIME:
        assert not (project / old).exists(), f"{old} survived the layout move"
    assert (project / "vendor/cde-runtime/src/cde_runtime/__init__.py").is_file()
    assert not (project / "cde_runtime").exists()
    assert not (project / "emulator").exists()
    handler = (project / HANDLER).read_text(encoding="utf-8")
    assert "from cde_runtime import" in handler
    assert "from connector.container_api" not in handler
    assert_author_edits_kept(project)
    assert "REGION" in (project / "docs" / "dev-portal.md").read_text(encoding="utf-8")
    # The author's test, and the test proving the added option reached code and docs alike.
    assert_healthy(project, "tests", "-k", "dev_portal_page or products_are_tagged")


def test_copier_update_moves_a_first_round_repo_to_the_new_layout(
    tmp_path: Path, template_repo: Path
) -> None:
    project = copier_copy(template_repo, tmp_path / "project", "v0.1.0", **MIGRATION_ANSWERS)
    assert (project / "connector" / "cli.py").is_file()
    author_edits(project)

    copier_update(project, "v0.3.0")

    assert "_commit: v0.3.0" in (project / ".copier-answers.yml").read_text(encoding="utf-8")
    assert_migrated(project)


def test_cruft_update_moves_a_first_round_repo_to_the_new_layout(
    tmp_path: Path, template_repo: Path
) -> None:
    project = cruft_create(template_repo, tmp_path / "out", "v0.1.0", **MIGRATION_ANSWERS)
    assert (project / "connector" / "cli.py").is_file()
    author_edits(project)

    cruft_update(project, "v0.3.0")

    assert_migrated(project)


# --- a release arrives (v0.3.0 -> v0.4.0), and the weekly check sees it ------------------------


def test_copier_repo_takes_a_release_and_the_weekly_check_follows(
    tmp_path: Path, template_repo: Path
) -> None:
    project = copier_copy(template_repo, tmp_path / "project", "v0.3.0")
    author_edits(project)

    outdated = weekly_check(project)
    assert outdated.returncode == 1, outdated.stdout + outdated.stderr
    assert "v0.4.0" in outdated.stdout
    assert "copier update" in outdated.stdout

    copier_update(project)  # no ref: copier takes the newest release tag, not the later commit

    assert "_commit: v0.4.0" in (project / ".copier-answers.yml").read_text(encoding="utf-8")
    assert not (project / "NOTES.md").exists()
    assert_v4_arrived(project)
    assert_author_edits_kept(project)
    commit_all(project, "Template v0.4.0")
    current = weekly_check(project)  # an unreleased template commit exists: still up to date
    assert current.returncode == 0, current.stdout + current.stderr
    assert_healthy(project, str(AUTHOR_TEST))


def test_cruft_repo_takes_a_release_and_the_weekly_check_follows(
    tmp_path: Path, template_repo: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    project = cruft_create(template_repo, tmp_path / "out", "v0.3.0")
    # cruft renders in a temporary folder: the next steps name the folder it moved the project to.
    assert f"\n  cd {project.name}\n" in capfd.readouterr().out
    author_edits(project)

    outdated = weekly_check(project)
    assert outdated.returncode == 1, outdated.stdout + outdated.stderr
    assert "cruft update --checkout v0.4.0" in outdated.stdout

    cruft_update(project, "v0.4.0")

    assert_v4_arrived(project)
    assert_author_edits_kept(project)
    commit_all(project, "Template v0.4.0")
    current = weekly_check(project)
    assert current.returncode == 0, current.stdout + current.stderr
    # A cruft repo generated from the unreleased commit after v0.4.0 is up to date too.
    later = cruft_create(template_repo, tmp_path / "later", "main")
    assert weekly_check(later).returncode == 0


def test_weekly_check_names_the_fix_when_it_cannot_check(
    tmp_path: Path, template_repo: Path
) -> None:
    project = copier_copy(template_repo, tmp_path / "project", "v0.4.0")
    answers = project / ".copier-answers.yml"
    replace_in(answers, f"_src_path: {template_repo}", "_src_path: /home/someone/template")
    moved = weekly_check(project)
    assert moved.returncode == 1
    assert "local path" in moved.stdout
    assert ".copier-answers.yml" in moved.stdout

    answers.unlink()
    unlinked = weekly_check(project)
    assert unlinked.returncode == 1
    assert "not linked to its template" in unlinked.stdout


# --- conflicts are loud -----------------------------------------------------------------------


def test_a_conflicting_copier_update_is_named_by_the_generated_check(
    tmp_path: Path, template_repo: Path
) -> None:
    project = copier_copy(template_repo, tmp_path / "project", "v0.3.0")
    git(project, "init", "-q", "-b", "main")
    commit_all(project, "Generated")
    replace_in(project / HANDLER, HANDLER_LINE, HANDLER_LINE_AUTHOR)  # the line v0.4.0 changes
    commit_all(project, "Our docstring")

    copier_update(project, "v0.4.0")  # exits normally, leaving markers in a docstring

    assert "<" * 7 in (project / HANDLER).read_text(encoding="utf-8")
    check = leftovers_check(project)
    assert check.returncode != 0
    assert f"{HANDLER}: conflict markers (lines " in check.stdout
    assert "keep the right lines, delete the markers" in check.stdout


def test_a_conflicting_cruft_update_is_named_by_the_generated_check(
    tmp_path: Path, template_repo: Path
) -> None:
    project = cruft_create(template_repo, tmp_path / "out", "v0.3.0")
    git(project, "init", "-q", "-b", "main")
    commit_all(project, "Generated")
    replace_in(project / HANDLER, HANDLER_LINE, HANDLER_LINE_AUTHOR)
    commit_all(project, "Our docstring")

    cruft_update(project, "v0.4.0")

    check = leftovers_check(project)
    assert check.returncode != 0
    assert str(HANDLER) in check.stdout  # as conflict markers or as data_source.py.rej


# --- switching modes on and off -----------------------------------------------------------------


def test_copier_switches_modes_on_and_off_edited_or_not(
    tmp_path: Path, template_repo: Path
) -> None:
    project = copier_copy(template_repo, tmp_path / "project", "v0.4.0")
    author_edits(project)

    copier_update(project, "v0.4.0", mode_export=True)
    assert (project / EXPORT_HANDLER).is_file()
    assert (project / "tests" / "test_export.py").is_file()
    assert_author_edits_kept(project)
    replace_in(project / EXPORT_HANDLER, '"""Export:', '"""Our export:')
    commit_all(project, "Export on, edited")

    copier_update(project, "v0.4.0", mode_export=False)
    assert not (project / EXPORT_HANDLER).exists()  # edited, and deleted all the same
    assert not (project / "connector" / "channel.py").exists()
    assert_author_edits_kept(project)
    assert_healthy(project, str(AUTHOR_TEST))


def test_cruft_switches_modes_on_and_off_edited_or_not(tmp_path: Path, template_repo: Path) -> None:
    project = cruft_create(template_repo, tmp_path / "out", "v0.4.0")
    author_edits(project)

    cruft_update(project, "v0.4.0", mode_export=True)
    assert (project / EXPORT_HANDLER).is_file()
    assert (project / "tests" / "test_export.py").is_file()
    replace_in(project / EXPORT_HANDLER, '"""Export:', '"""Our export:')
    commit_all(project, "Export on, edited")

    cruft_update(project, "v0.4.0", mode_export=False)
    # git cannot delete a file whose content differs: the edited handler stays, and is named.
    assert (project / EXPORT_HANDLER).is_file()
    assert not (project / "connector" / "channel.py").exists()
    check = leftovers_check(project)
    assert check.returncode != 0
    assert f"{EXPORT_HANDLER}: belongs to a mode this connector no longer offers" in check.stdout
    git(project, "rm", "-q", str(EXPORT_HANDLER))  # the README's fix
    assert_author_edits_kept(project)
    assert_healthy(project, str(AUTHOR_TEST))


# --- a plain cookiecutter repo joins the update path ---------------------------------------------


def test_a_plain_cookiecutter_repo_links_with_copier_and_updates(
    tmp_path: Path, template_repo: Path, cookies: Any, capfd: pytest.CaptureFixture[str]
) -> None:
    v2 = tmp_path / "v0.3.0"
    git(template_repo, "worktree", "add", "-q", "--detach", str(v2), "v0.3.0")
    try:
        result = cookies.bake(extra_context={"mode_export": True}, template=str(v2))
    finally:
        git(template_repo, "worktree", "remove", "--force", str(v2))
    assert result.exception is None, result.exception
    assert "Made with plain cookiecutter" in capfd.readouterr().out
    project = result.project_path
    assert not (project / ".copier-answers.yml").exists()
    assert not (project / ".cruft.json").exists()
    author_edits(project)

    # The README's link: same answers, the release it came from, keep only the answers file.
    copier_copy(template_repo, project, "v0.3.0", overwrite=True, mode_export=True)
    git(project, "add", ".copier-answers.yml")
    git(project, "checkout", "--", ".")
    assert git(project, "status", "--porcelain") == "A  .copier-answers.yml\n"
    assert_author_edits_kept(project)
    commit_all(project, "Link to the template")

    copier_update(project)

    assert_v4_arrived(project)
    assert_author_edits_kept(project)
    assert (project / EXPORT_HANDLER).is_file()
    assert_healthy(project, str(AUTHOR_TEST))


def test_a_plain_cookiecutter_repo_links_with_cruft_and_updates(
    tmp_path: Path, template_repo: Path
) -> None:
    import cruft

    project = cruft_create(template_repo, tmp_path / "out", "v0.3.0", mode_export=True)
    (project / ".cruft.json").unlink()  # what plain cookiecutter leaves: no answers file
    author_edits(project)

    cruft.link(
        str(template_repo),
        project_dir=project,
        checkout="v0.3.0",
        no_input=True,
        extra_context={"mode_export": True},
    )
    recorded = json.loads((project / ".cruft.json").read_text(encoding="utf-8"))
    assert recorded["commit"] == git(template_repo, "rev-parse", "v0.3.0^{commit}").strip()
    commit_all(project, "Link to the template")

    cruft_update(project, "v0.4.0")

    assert_v4_arrived(project)
    assert_author_edits_kept(project)


# --- what generating says about updates ----------------------------------------------------------


def test_generating_from_a_local_path_warns_that_updates_need_the_git_url(
    tmp_path: Path, template_repo: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    from copier import run_copy

    with quiet_warnings():
        run_copy(str(template_repo), tmp_path / "copier", defaults=True, vcs_ref="v0.4.0")
    said = capfd.readouterr()
    assert "Generated from a local path" in said.out + said.err
    assert "_src_path" in said.out + said.err

    cruft_create(template_repo, tmp_path / "cruft", "v0.4.0")
    said = capfd.readouterr()
    assert "Generated from a local path" in said.out
    assert '"template" in .cruft.json' in said.out


# --- the author's dependency meets the template's: pyproject.toml and uv.lock conflict ----------

# What the next release changes (the locked pydantic-settings satisfies both ranges).
TEMPLATE_RANGE = ('"pydantic-settings>=2.16,<3"', '"pydantic-settings>=2.16.1,<3"')
LOCK_RANGE = (
    '{ name = "pydantic-settings", specifier = ">=2.16,<3" }',
    '{ name = "pydantic-settings", specifier = ">=2.16.1,<3" }',
)
AUTHOR_DEPENDENCY = '    "python-dotenv>=1",  # ours\n'
UV_CACHE = Path.home() / ".cache" / "connector-template-tests" / "uv"


@pytest.fixture(scope="session")
def dependency_releases(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A template repo: v1.0.0 is the working tree, v1.1.0 narrows a dependency (re-locked)."""
    repo = tmp_path_factory.mktemp("dependency-releases") / "template"
    working_copy(repo)
    git(repo, "init", "-q", "-b", "main")
    release(repo, "v1.0.0", "Working tree")
    project = repo / "{{cookiecutter.project_slug}}"
    replace_in(project / "pyproject.toml", *TEMPLATE_RANGE)
    # The project's own entry is the last: the runtime package (cde-runtime) sorts before it.
    lock = project / "uv.lock"
    before, _, after = lock.read_text(encoding="utf-8").rpartition(LOCK_RANGE[0])
    assert before, f"{LOCK_RANGE[0]} not in {lock}"
    lock.write_text(before + LOCK_RANGE[1] + after, encoding="utf-8")
    release(repo, "v1.1.0", "pydantic-settings>=2.16.1")
    return repo


def test_a_dependency_conflict_is_named_and_the_documented_recovery_ends_green(
    tmp_path: Path, dependency_releases: Path
) -> None:
    from tests.test_delivery import tool

    project = copier_copy(dependency_releases, tmp_path / "project", "v1.0.0")
    git(project, "init", "-q", "-b", "main")
    commit_all(project, "Generated")
    # The author adds a dependency next to the line the template changes, and re-locks.
    replace_in(
        project / "pyproject.toml",
        '    "pydantic-settings>=2.16,<3",\n',
        '    "pydantic-settings>=2.16,<3",\n' + AUTHOR_DEPENDENCY,
    )
    env = {**os.environ, "UV_CACHE_DIR": str(UV_CACHE)}
    relocked = subprocess.run(
        [tool("uv"), "lock", "--quiet"], cwd=project, env=env, capture_output=True, text=True
    )
    assert relocked.returncode == 0, relocked.stderr
    commit_all(project, "Our dependency")

    copier_update(project, "v1.1.0")

    pyproject = (project / "pyproject.toml").read_text(encoding="utf-8")
    assert "<" * 7 in pyproject, "the scenario needs a conflict in pyproject.toml"
    assert "<" * 7 in (project / "uv.lock").read_text(encoding="utf-8")
    check = leftovers_check(project)
    assert check.returncode == 1
    assert "pyproject.toml: conflict markers" in check.stdout
    assert "uv.lock: conflict markers" in check.stdout
    assert "git checkout HEAD -- uv.lock" in check.stdout
    # Without the recovery, the README's commands stop on the conflict, naming it, not on TOML.
    tested = run_in(project, "dev.py", "test")
    assert tested.returncode == 1
    assert "uv.lock: conflict markers" in tested.stdout
    assert "TOML" not in tested.stdout + tested.stderr

    # The recovery check-update names: both sides' lines in pyproject.toml ...
    resolved = re.sub(
        r"^<{7} .*?\n(.*?)^={7}\n(.*?)^>{7} .*?\n",
        lambda conflict: '    "pydantic-settings>=2.16.1,<3",\n' + AUTHOR_DEPENDENCY,
        pyproject,
        flags=re.MULTILINE | re.DOTALL,
    )
    (project / "pyproject.toml").write_text(resolved, encoding="utf-8")
    # ... our last committed lock, then `python3 dev.py lock`, then the tests.
    git(project, "checkout", "HEAD", "--", "uv.lock")
    locked = run_in(project, "dev.py", "lock", env=env)
    assert locked.returncode == 0, locked.stdout + locked.stderr
    lock = (project / "uv.lock").read_text(encoding="utf-8")
    assert LOCK_RANGE[1] in lock
    assert '{ name = "python-dotenv", specifier = ">=1" }' in lock
    assert leftovers_check(project).returncode == 0
    suite = run_in(project, "dev.py", "test", "-q", "-p", "no:cacheprovider", env=env)
    assert suite.returncode == 0, suite.stdout[-4000:] + suite.stderr[-2000:]
    assert re.search(r"\b\d+ passed\b", suite.stdout), suite.stdout[-2000:]


# --- the weekly check reads every source form the tools accept ----------------------------------

SOURCES = [
    # (recorded source, what git clones, remote)
    ("gh:acme/template", "https://github.com/acme/template.git", True),
    ("gh:acme/template.git", "https://github.com/acme/template.git", True),
    ("gh:/acme/template", "https://github.com/acme/template.git", True),
    ("gl:acme/group/template", "https://gitlab.com/acme/group/template.git", True),
    ("bb:acme/template", "https://bitbucket.org/acme/template.git", True),
    ("https://github.com/acme/template", "https://github.com/acme/template", True),
    ("https://github.com/acme/template.git", "https://github.com/acme/template.git", True),
    ("git+https://example.com/acme/template.git", "https://example.com/acme/template.git", True),
    ("git+ssh://git@example.com/acme/t.git", "ssh://git@example.com/acme/t.git", True),
    ("ssh://git@example.com:2222/acme/t.git", "ssh://git@example.com:2222/acme/t.git", True),
    ("git://example.com/acme/template.git", "git://example.com/acme/template.git", True),
    ("git@github.com:acme/template.git", "git@github.com:acme/template.git", True),
    ("git+file:///srv/template", "file:///srv/template", False),
    ("file:///srv/template", "file:///srv/template", False),
    ("/srv/template", "/srv/template", False),
    ("../template", "../template", False),
]  # fmt: skip


@pytest.fixture(scope="module")
def generated_dev(bake: Any) -> Any:
    """A generated dev.py, imported as a module."""
    import importlib.util

    path = bake("copier", ("data_source",)) / "dev.py"
    spec = importlib.util.spec_from_file_location("generated_dev", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize(("source", "url", "remote"), SOURCES)
def test_the_weekly_check_reads_every_template_source_form(
    generated_dev: Any, source: str, url: str, remote: bool
) -> None:
    assert generated_dev.template_url(source) == (url, remote)
    # Where copier reads the form itself, it clones the same repository.
    from copier._vcs import get_repo

    if remote and not source.startswith("bb:"):
        copier_url = get_repo(source)
        assert copier_url is not None, source
        assert copier_url.removesuffix(".git") == url.removesuffix(".git")


def test_the_weekly_check_refuses_mercurial_sources_in_one_line(generated_dev: Any) -> None:
    with pytest.raises(ValueError, match="Mercurial"):
        generated_dev.template_url("hg+https://example.com/template")


def test_the_weekly_check_clones_a_source_recorded_as_a_shortcut(
    tmp_path: Path, template_repo: Path
) -> None:
    """`gh:` recorded in .cruft.json: the step clones the GitHub URL (a failure there says so)."""
    project = cruft_create(template_repo, tmp_path / "out", "v0.4.0")
    recorded = json.loads((project / ".cruft.json").read_text(encoding="utf-8"))
    recorded["template"] = "gh:acme/template.git"
    (project / ".cruft.json").write_text(json.dumps(recorded), encoding="utf-8")
    # No network in tests: git is pointed at the template repo instead of GitHub.
    rewrite = f"url.{template_repo}.insteadOf"
    env = {**os.environ, "GIT_CONFIG_COUNT": "1", "GIT_CONFIG_KEY_0": rewrite,
           "GIT_CONFIG_VALUE_0": "https://github.com/acme/template.git"}  # fmt: skip
    script = yaml.safe_load((project / ".github/workflows/ci.yml").read_text(encoding="utf-8"))
    step = script["jobs"]["template-update"]["steps"][-1]["run"]
    checked = subprocess.run(
        ["bash", "-e", "-c", step],
        cwd=project,
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "Up to date with template release v0.4.0" in checked.stdout


# --- migration from the cde_runtime/ layout (v0.2.0 -> v0.3.0): the runtime becomes a package --

# A connector whose author rewrote the data source, the channel and the tests by hand.
REWRITTEN = {
    "connector/modes/data_source.py": '''"""Acme's catalogue, written by hand."""

from __future__ import annotations

import logging

from cde_runtime import SUCCESS, ContainerApi, Progress, RunFailed

from connector.settings import DataSourceSettings

log = logging.getLogger(__name__)

CATALOGUE = [{"id": "a1", "title": "Anvil"}, {"id": "a2", "title": "Rocket"}]


def to_platform_product(product: dict[str, str]) -> dict[str, str]:
    return {**product, "source": "acme"}


def run(settings: DataSourceSettings, api: ContainerApi) -> None:
    progress = Progress(log, "products")
    with api.writer("output") as output:
        output.write_many(to_platform_product(product) for product in CATALOGUE)
        progress.add(len(CATALOGUE))
    if output.rows_written != progress.count:
        raise RunFailed("Acme's catalogue did not reach the platform whole.")
    log.log(SUCCESS, "Imported %s", progress.summary())
''',
    "connector/channel.py": '''"""Acme Marketplace's bulk API."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from cde_runtime import ChannelClient, Result

CHANNEL_BATCH_SIZE = 50
CHANNEL_CONCURRENCY = 2


class Channel(ChannelClient):
    def upsert(self, products: Sequence[dict[str, Any]]) -> list[Result]:
        payload = self.post_json("/products", {"products": list(products)})
        answers = {str(item["id"]): item for item in payload["results"]}
        return [
            Result(p["id"], ok=answers[str(p["id"])]["status"] == "ok") for p in products
        ]

    def delete(self, ids: Sequence[Any]) -> list[Result]:
        return [Result(i, ok=True) for i in ids]
''',
    "tests/test_data_source.py": '''"""Our data source, end to end (0.2.0 layout)."""

from emulator.testing import ConnectorRunner, EmulatorFactory


def test_the_catalogue_is_imported(
    emulator: EmulatorFactory, run_connector: ConnectorRunner
) -> None:
    emu = emulator()
    result = run_connector("data-source", emu, env={"NAME": "x"})
    assert result.returncode == 0, result.stderr
    assert [row["source"] for row in emu.output_rows("output")] == ["acme", "acme"]
''',
}
ROOT_LAYOUT = ("cde_runtime", "emulator", "tests/runtime")


def rewrite_by_hand(project: Path) -> None:
    git(project, "init", "-q", "-b", "main")
    commit_all(project, "Generated")
    for path, text in REWRITTEN.items():
        (project / path).write_text(text, encoding="utf-8")
    commit_all(project, "Our own connector")


def keep_the_authors_side(project: Path) -> list[str]:
    """Resolve every conflict the update left as the author would: keep their own version."""
    resolved = []
    for path, text in REWRITTEN.items():
        if "<<<<<<<" in (project / path).read_text(encoding="utf-8"):
            (project / path).write_text(text, encoding="utf-8")
            resolved.append(path)
        (project / f"{path}.rej").unlink(missing_ok=True)
    return resolved


def assert_moved_to_the_package(project: Path) -> None:
    for old in ROOT_LAYOUT:
        assert not (project / old).exists(), f"{old} survived the move to vendor/cde-runtime"
    assert (project / "vendor/cde-runtime/pyproject.toml").is_file()
    # The author's code is theirs, and still imports the runtime the same way.
    for path in ("connector/modes/data_source.py", "connector/channel.py"):
        assert (project / path).read_text(encoding="utf-8") == REWRITTEN[path]
    # Files the author did not edit carry no conflict.
    check = leftovers_check(project)
    assert check.returncode == 0, check.stdout
    describe = run_in(project, "main.py", "describe")
    assert describe.returncode == 0, describe.stderr[-2000:]
    # The author's test still says `from emulator.testing import ...`: one line names the fix.
    old_import = run_in(project, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests")
    assert old_import.returncode != 0
    assert "`emulator` moved into the runtime package" in old_import.stdout, old_import.stdout[
        -3000:
    ]
    assert "`from cde_runtime.testing import ...` for `from emulator.testing" in old_import.stdout
    test = project / "tests/test_data_source.py"
    test.write_text(
        test.read_text(encoding="utf-8").replace(
            "from emulator.testing", "from cde_runtime.testing"
        ),
        encoding="utf-8",
    )
    # The author's test, and the runtime's checks on the rewritten connector.
    checks = "catalogue or dev_portal_page or health_check or missing_required"
    suite = run_in(project, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests", "-k", checks)
    assert suite.returncode == 0, suite.stdout[-4000:]
    assert (
        "test_the_catalogue_is_imported"
        in run_in(
            project, "-m", "pytest", "-q", "--co", "-p", "no:cacheprovider", "tests", "-k", checks
        ).stdout
    )


def test_copier_update_moves_a_root_runtime_repo_into_the_package(
    tmp_path: Path, template_repo: Path
) -> None:
    project = copier_copy(template_repo, tmp_path / "project", "v0.2.0", mode_export=True)
    assert (project / "cde_runtime" / "cli.py").is_file()
    rewrite_by_hand(project)

    copier_update(project, "v0.3.0")

    assert "_commit: v0.3.0" in (project / ".copier-answers.yml").read_text(encoding="utf-8")
    # Only the author's rewritten files may conflict; the author keeps their side.
    assert set(keep_the_authors_side(project)) <= set(REWRITTEN)
    assert_moved_to_the_package(project)


def test_cruft_update_moves_a_root_runtime_repo_into_the_package(
    tmp_path: Path, template_repo: Path
) -> None:
    project = cruft_create(template_repo, tmp_path / "out", "v0.2.0", mode_export=True)
    rewrite_by_hand(project)

    cruft_update(project, "v0.3.0")

    assert set(keep_the_authors_side(project)) <= set(REWRITTEN)
    assert_moved_to_the_package(project)
