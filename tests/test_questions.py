"""cookiecutter.json and copier.yml ask the same questions with the same defaults."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from hooks import post_gen_project as strip
from tests.bake import TEMPLATE, bake_cookiecutter, bake_copier, defaults

COOKIECUTTER = json.loads((TEMPLATE / "cookiecutter.json").read_text(encoding="utf-8"))
COPIER = yaml.safe_load((TEMPLATE / "copier.yml").read_text(encoding="utf-8"))
QUESTIONS = [key for key in COOKIECUTTER if not key.startswith("_")]
# project_slug is derived from project_name in both; its default is a template.
PLAIN_DEFAULTS = [key for key in QUESTIONS if key != "project_slug"]


def test_both_tools_ask_the_same_questions_in_the_same_order() -> None:
    copier_questions = [key for key in COPIER if not key.startswith("_") and key != "cookiecutter"]
    assert copier_questions == QUESTIONS


@pytest.mark.parametrize("question", PLAIN_DEFAULTS)
def test_both_tools_offer_the_same_default(question: str) -> None:
    cookiecutter_default = COOKIECUTTER[question]
    copier_default = COPIER[question]["default"]
    if isinstance(cookiecutter_default, list):  # a choice: the first item is the default
        assert COPIER[question]["choices"] == cookiecutter_default
        cookiecutter_default = cookiecutter_default[0]
    if isinstance(cookiecutter_default, dict):
        assert list(copier_default) == list(cookiecutter_default), "declaration order differs"
    assert copier_default == cookiecutter_default


def test_both_tools_derive_the_slug_with_the_same_expression() -> None:
    copier = COPIER["project_slug"]["default"]
    cookiecutter = COOKIECUTTER["project_slug"].replace("cookiecutter.project_name", "project_name")
    assert copier == cookiecutter


@pytest.mark.parametrize("question", QUESTIONS)
def test_cookiecutter_prompts_with_copiers_help_text(question: str) -> None:
    assert COOKIECUTTER["__prompts__"][question] == COPIER[question]["help"]


def test_the_copier_namespace_passes_every_question_to_the_project() -> None:
    namespace = COPIER["cookiecutter"]["default"]
    for question in QUESTIONS:
        assert f"{question}={question}" in namespace
    assert "__answers=" in namespace


def test_the_answers_file_name_is_empty_for_cookiecutter() -> None:
    # An empty file name makes cookiecutter skip the copier answers file.
    assert COOKIECUTTER["__answers"] == ""
    assert (TEMPLATE / "{{cookiecutter.project_slug}}" / "{{cookiecutter.__answers}}").is_file()


def test_copier_excludes_by_the_same_naming_rule_as_the_hook() -> None:
    exclude = "\n".join(COPIER["_exclude"])
    for pattern in ("{{ mode }}", "{{ mode }}.*", "test_{{ mode }}.*", "channel", "channel.*"):
        assert pattern in exclude


@pytest.mark.parametrize(
    ("name", "owner", "owned"),
    [
        ("export.py", "export", True),
        ("test_export.py", "export", True),
        ("export", "export", True),
        ("export_delta.py", "export", False),
        ("test_export_delta.py", "export", False),
        ("export_delta", "export_delta", True),
        ("data_source.jsonl", "data_source", True),
        ("exporter.py", "export", False),
        ("channel.py", "channel", True),
    ],
)
def test_naming_rule_decides_which_mode_owns_a_file(name: str, owner: str, owned: bool) -> None:
    assert strip.owned_by(Path("any") / name, owner) is owned


def test_stripping_removes_only_unchosen_modes(tmp_path: Path) -> None:
    names = ["modes/export.py", "modes/export_delta.py", "tests/test_export.py", "channel.py"]
    for name in names:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("")
    (tmp_path / "sample_data" / "export").mkdir(parents=True)
    (tmp_path / "sample_data" / "export" / "a.json").write_text("")
    answers = {**defaults(), "mode_data_source": False, "mode_export_delta": True}
    paths = [Path(name) for name in [*names, "sample_data", "sample_data/export"]]

    strip.remove_files_of(tmp_path, strip.unused_owners(answers), paths)

    remaining = sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*"))
    assert remaining == ["channel.py", "modes", "modes/export_delta.py", "sample_data", "tests"]


def test_stripping_leaves_paths_the_template_does_not_hold(tmp_path: Path) -> None:
    for name in ("scripts/export.sh", "docs/channel.md", "modes/export.py"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("")

    strip.remove_files_of(tmp_path, strip.unused_owners(defaults()), [Path("modes/export.py")])

    assert (tmp_path / "scripts" / "export.sh").is_file()
    assert (tmp_path / "docs" / "channel.md").is_file()
    assert not (tmp_path / "modes" / "export.py").exists()


def test_the_template_paths_are_the_project_folders_own(template_copy: Path) -> None:
    paths = strip.template_paths(template_copy)
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
    assert "channel" in strip.unused_owners(defaults())
    assert "channel" not in strip.unused_owners({**defaults(), "mode_export": True})


def test_both_hooks_know_the_same_modes_and_read_booleans_alike() -> None:
    # Cookiecutter runs each hook as a standalone script, so they cannot share this code.
    from hooks import pre_gen_project as validate

    assert validate.MODES == strip.MODES
    for value in (True, False, "yes", "no", "True", "false", "1", "0", " y ", "", None):
        assert validate.truthy(value) is strip.truthy(value), value


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
    from hooks.pre_gen_project import SLUG_RE

    derived = render_slug(name, tool)
    assert derived == slug
    assert re.match(SLUG_RE, derived)


@settings(max_examples=150, deadline=None, database=None)
@given(name=st.text(max_size=30))
def test_any_name_gives_the_same_valid_slug_in_both_tools(name: str) -> None:
    from hooks.pre_gen_project import SLUG_RE

    derived = render_slug(name, "cookiecutter")
    assert derived == render_slug(name, "copier")
    assert re.match(SLUG_RE, derived), derived


def test_the_field_types_are_one_list_in_the_hook_the_validators_and_the_runtime() -> None:
    from hooks import pre_gen_project as hook

    jinja = (TEMPLATE / "hooks" / "validate_answers.jinja").read_text(encoding="utf-8")
    listed = re.search(r"set FIELD_TYPES = \[([^\]]*)\]", jinja)
    assert listed, "hooks/validate_answers.jinja no longer sets FIELD_TYPES"
    in_validators = tuple(re.findall(r'"([a-z_]+)"', listed.group(1)))

    options = TEMPLATE / "{{cookiecutter.project_slug}}" / "cde_runtime" / "options.py"
    declared = re.search(r"FieldType = Literal\[([^\]]*)\]", options.read_text(encoding="utf-8"))
    assert declared, "cde_runtime/options.py no longer declares FieldType"
    in_runtime = tuple(re.findall(r'"([a-z_]+)"', declared.group(1)))

    assert hook.FIELD_TYPES == in_validators == in_runtime


@pytest.mark.parametrize(
    "source",
    [
        "gh:acme/template",
        "gl:acme/template",
        "bb:acme/template",
        "git@github.com:acme/template.git",
        "https://github.com/acme/template.git",
        "git+https://github.com/acme/template.git",
        "ssh://git@example.com/template.git",
        "git://example.com/template.git",
        "file:///home/me/template",
        "/home/me/template",
        "../template",
        "template",
        "C:\\templates\\cde",
    ],
)
def test_both_tools_agree_which_template_sources_are_local(source: str) -> None:
    import jinja2

    config = yaml.safe_load((TEMPLATE / "copier.yml").read_text(encoding="utf-8"))
    condition = re.search(r"\{%- if (not \(.*?\)) %\}", config["_message_after_copy"])
    assert condition, "copier.yml's _message_after_copy no longer tests the source"
    copier_says_local = jinja2.Environment().compile_expression(
        condition.group(1).replace("src", "source")
    )(source=source)

    assert bool(copier_says_local) == strip.is_local(source)
