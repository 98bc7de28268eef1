"""cookiecutter.json and copier.yml ask the same questions with the same defaults."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from hooks import post_gen_project as post_gen
from hooks.rules import Rules, excluded
from tests.bake import (
    RUNTIME_SOURCE,
    TEMPLATE,
    bake_cookiecutter,
    bake_copier,
    defaults,
    mode_answers,
)

COOKIECUTTER = json.loads((TEMPLATE / "cookiecutter.json").read_text(encoding="utf-8"))
COPIER = yaml.safe_load((TEMPLATE / "copier.yml").read_text(encoding="utf-8"))
QUESTIONS = [key for key in COOKIECUTTER if not key.startswith("_")]
# project_slug is derived from project_name in both; its default is a template.
PLAIN_DEFAULTS = [key for key in QUESTIONS if key != "project_slug"]


def test_cookiecutter_json_is_generated_from_copier_yml() -> None:
    from tests.bake import TEMPLATE as ROOT

    sys.path.insert(0, str(ROOT / ".ci"))
    import questions

    current = (ROOT / "cookiecutter.json").read_text(encoding="utf-8")
    assert current == questions.cookiecutter_json(ROOT), (
        f"cookiecutter.json is not current with copier.yml: run {questions.COMMAND}"
    )


def test_the_generated_questions_keep_copiers_order_prompts_and_defaults() -> None:
    copier_questions = [key for key in COPIER if not key.startswith("_") and key != "cookiecutter"]
    assert copier_questions == QUESTIONS
    assert list(COOKIECUTTER["__prompts__"]) == QUESTIONS
    assert COOKIECUTTER["__prompts__"]["mode_export"] == COPIER["mode_export"]["help"]
    # A choice lists its default first; a templated default reads cookiecutter.<answer>.
    assert COOKIECUTTER["python_version"][0] == COPIER["python_version"]["default"]
    assert "cookiecutter.project_name | string" in COOKIECUTTER["project_slug"]
    assert list(COOKIECUTTER["data_source_options"]) == ["NAME", "SHOULD_FAIL", "FEED_URL"]


def test_the_copier_namespace_passes_every_question_to_the_project() -> None:
    namespace = COPIER["cookiecutter"]["default"]
    for question in QUESTIONS:
        assert f"{question}={question}" in namespace
    assert "__answers=" in namespace


def test_the_answers_file_name_is_empty_for_cookiecutter() -> None:
    # An empty file name makes cookiecutter skip the copier answers file.
    assert COOKIECUTTER["__answers"] == ""
    assert (TEMPLATE / "{{cookiecutter.project_slug}}" / "{{cookiecutter.__answers}}").is_file()


RULES = Rules(TEMPLATE)


@pytest.mark.parametrize(
    ("name", "modes", "stripped"),
    [
        ("modes/export.py", ("data_source",), True),
        ("tests/test_export.py", ("data_source",), True),
        ("sample_data/export/input.jsonl", ("data_source",), True),
        ("modes/export_delta.py", ("export",), True),
        ("modes/export.py", ("export_delta",), True),
        ("modes/export.py", ("export",), False),
        ("tests/test_export_delta.py", ("export",), True),
        ("data_source.jsonl", ("export",), True),
        ("exporter.py", ("data_source",), False),
        ("channel.py", ("data_source",), True),
        ("channel.py", ("export_delta",), False),
        ("test_channel.py", ("data_service", "export"), False),
    ],
)
def test_the_naming_rule_decides_which_mode_owns_a_file(
    name: str, modes: tuple[str, ...], stripped: bool
) -> None:
    answers = {**defaults(), **mode_answers(modes)}
    assert excluded([Path(name)], RULES.excluded_patterns(answers)) == (
        [Path(name)] if stripped else []
    )


def test_stripping_removes_only_the_template_paths_it_is_given(tmp_path: Path) -> None:
    for name in ("scripts/export.sh", "docs/channel.md", "modes/export.py", "sample_data/export/a"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("")

    post_gen.remove(tmp_path, [Path("modes/export.py"), Path("sample_data/export")])

    assert (tmp_path / "scripts" / "export.sh").is_file()
    assert (tmp_path / "docs" / "channel.md").is_file()
    assert not (tmp_path / "modes" / "export.py").exists()
    assert not (tmp_path / "sample_data" / "export").exists()


def test_the_template_paths_are_the_project_folders_own(template_copy: Path) -> None:
    paths = Rules(template_copy).template_paths()
    assert Path("connector/modes/export.py") in paths
    assert Path("sample_data/export") in paths
    assert not [path for path in paths if "{" in path.as_posix()]


# Files a user of a generated data-source project might keep, named like the modes left out.
USER_FILES = ("scripts/export.sh", "docs/channel.md", "export", "data_service/notes.txt")


def git(repo: Path, *args: str) -> str:
    import subprocess

    command = ["git", "-c", "user.name=T", "-c", "user.email=t@example.com", *args]
    return subprocess.run(command, cwd=repo, capture_output=True, text=True, check=True).stdout


def add_user_files(project: Path) -> None:
    """Commit the project, then add files (and a branch) named after unchosen modes."""
    git(project, "init", "-q", "-b", "main")
    git(project, "add", "-A")
    git(project, "commit", "-qm", "generated")
    git(project, "branch", "export")
    for name in USER_FILES:
        (project / name).parent.mkdir(parents=True, exist_ok=True)
        (project / name).write_text("mine\n", encoding="utf-8")


def assert_user_files_survived(project: Path) -> None:
    for name in USER_FILES:
        assert (project / name).read_text(encoding="utf-8") == "mine\n", name
    assert (project / ".git" / "refs" / "heads" / "export").is_file()
    assert (project / ".git" / "logs" / "refs" / "heads" / "export").is_file()
    assert "export" in git(project, "branch", "--list", "export")
    # The template's own files of the modes left out are still stripped.
    assert not (project / "connector" / "modes" / "export.py").exists()
    assert not (project / "sample_data" / "export").exists()
    assert not (project / "tests" / "test_channel.py").exists()
    assert (project / "connector" / "modes" / "data_source.py").is_file()


def test_cookiecutter_regeneration_keeps_the_users_files(
    tmp_path: Path, template_copy: Path
) -> None:
    from cookiecutter.main import cookiecutter

    project = bake_cookiecutter({}, tmp_path, template=template_copy)
    add_user_files(project)

    cookiecutter(
        str(template_copy), no_input=True, output_dir=str(tmp_path), overwrite_if_exists=True
    )

    assert_user_files_survived(project)


def test_copier_regeneration_keeps_the_users_files(tmp_path: Path, template_copy: Path) -> None:
    # Copier's `_exclude` only ever matches the template's own paths.
    project = bake_copier({}, tmp_path, template=template_copy)
    add_user_files(project)

    bake_copier({}, tmp_path, template=template_copy)

    assert_user_files_survived(project)


def test_channel_files_go_when_neither_export_mode_is_chosen() -> None:
    assert "channel" in RULES.excluded_patterns(defaults())
    assert "channel" not in RULES.excluded_patterns({**defaults(), "mode_export": True})


def test_mode_answers_from_old_replay_files_read_as_booleans() -> None:
    for value, on in (("yes", True), ("no", False), (" y ", True), ("0", False), ("", False)):
        patterns = RULES.excluded_patterns({**defaults(), "mode_export": value})
        assert ("export" not in patterns) is on, value


def render_slug(name: str, tool: str) -> str:
    """The default slug each tool derives from `name` (its own Jinja environment)."""
    if tool == "cookiecutter":
        from cookiecutter.environment import StrictEnvironment

        source = COOKIECUTTER["project_slug"]
        env = StrictEnvironment(context={"cookiecutter": COOKIECUTTER})
        return env.from_string(source).render(cookiecutter={"project_name": name})
    from jinja2.sandbox import SandboxedEnvironment  # copier renders in a sandbox

    return (
        SandboxedEnvironment()
        .from_string(COPIER["project_slug"]["default"])
        .render(project_name=name)
    )


@pytest.mark.parametrize(
    ("name", "slug"),
    [
        ("My Connector", "my-connector"),
        ("Acme Feed (EU)", "acme-feed-eu"),
        ("Acme's Feed", "acmes-feed"),
        ("Müller Feed", "muller-feed"),
        ("Feed 2.0", "feed-2-0"),
        ("3M Feed", "3m-feed"),
        ("İstanbul Œuvre Straße", "istanbul-oeuvre-strasse"),
        ("日本語 🚀", "connector"),
        ("{{ 7*7 }}", "7-7"),
    ],
)
@pytest.mark.parametrize("tool", ["cookiecutter", "copier"])
def test_the_slug_is_derived_from_any_name_and_always_valid(
    name: str, slug: str, tool: str
) -> None:
    derived = render_slug(name, tool)
    assert derived == slug
    assert not RULES.validators.slug_error(derived)


@settings(max_examples=150, deadline=None, database=None)
@given(name=st.text(max_size=30))
def test_any_name_gives_the_same_valid_slug_in_both_tools(name: str) -> None:
    derived = render_slug(name, "cookiecutter")
    assert derived == render_slug(name, "copier")
    assert not RULES.validators.slug_error(derived), derived


def test_the_field_types_are_one_list_in_the_validators_and_the_runtime() -> None:
    import re

    options = RUNTIME_SOURCE / "cde_runtime" / "options.py"
    declared = re.search(r"FieldType = Literal\[([^\]]*)\]", options.read_text(encoding="utf-8"))
    assert declared, "cde_runtime/options.py no longer declares FieldType"
    in_runtime = tuple(re.findall(r'"([a-z_]+)"', declared.group(1)))

    assert tuple(RULES.validators.FIELD_TYPES) == in_runtime


@pytest.mark.parametrize(
    ("source", "local"),
    [
        ("gh:acme/template", False),
        ("gl:acme/template", False),
        ("bb:acme/template", False),
        ("git@github.com:acme/template.git", False),
        ("https://github.com/acme/template.git", False),
        ("git+https://github.com/acme/template.git", False),
        ("ssh://git@example.com/template.git", False),
        ("git://example.com/template.git", False),
        ("file:///home/me/template", True),
        ("/home/me/template", True),
        ("../template", True),
        ("template", True),
        ("C:\\templates\\cde", True),
    ],
)
def test_which_template_sources_are_local(source: str, local: bool) -> None:
    assert RULES.is_local(source) is local
