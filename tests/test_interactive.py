"""Both tools' interactive flows, driven through a pseudo-terminal as a person would type.

cookiecutter asks every question (scalars first, then the option dicts); copier asks only the
questions of the modes chosen. Both show the same prompt text, derive the same slug, keep the
declared option order and end with the same next-steps message.
"""

from __future__ import annotations

import json
import os
import re
import sys
from pathlib import Path

import pexpect
import pytest
import yaml

from hooks import post_gen_project
from hooks.rules import Rules
from tests.bake import TEMPLATE

RULES = Rules(TEMPLATE)

BIN = Path(sys.executable).parent
NAME = "Müller Feed (EU)"
SLUG = "muller-feed-eu"
TYPED_OPTIONS = '{"REGION": {"type": "select", "choices": ["eu", "us"], "default": "eu"}}'


def prompt(text: str) -> str:
    """A pattern for a prompt text however the terminal wraps it."""
    return r"\s+".join(re.escape(word) for word in text.split())


def spawn(command: str, args: list[str], cwd: Path) -> pexpect.spawn:
    env = {**os.environ, "NO_COLOR": "1", "COLUMNS": "200"}
    return pexpect.spawn(
        str(BIN / command),
        args,
        cwd=str(cwd),
        env=env,
        encoding="utf-8",
        timeout=60,
        dimensions=(50, 200),
    )


def message_lines(output: str, project: Path) -> list[str]:
    """The next-steps message in a tool's output, with the project path made generic."""
    text = re.sub(r"\x1b\[[0-9;]*m", "", output).replace("\r\n", "\n")
    start = text.index("Created ")
    lines = text[start:].strip().splitlines()[:6]
    return [line.rstrip().replace(str(project), "<project>") for line in lines]


def documented_options(project: Path) -> list[str]:
    docs = (project / "docs" / "dev-portal.md").read_text(encoding="utf-8")
    return re.findall(r"^\| `([A-Za-z][\w-]*)` \|", docs, flags=re.MULTILINE)


@pytest.fixture(scope="module")
def cookiecutter_run(
    tmp_path_factory: pytest.TempPathFactory, template_copy: Path
) -> tuple[Path, str]:
    out = tmp_path_factory.mktemp("interactive-cookiecutter")
    questions = json.loads((template_copy / "cookiecutter.json").read_text(encoding="utf-8"))
    prompts = questions["__prompts__"]
    asked = [key for key in questions if not key.startswith("_")]
    order = [k for k in asked if not isinstance(questions[k], dict)]
    order += [k for k in asked if isinstance(questions[k], dict)]
    typed = {"project_name": NAME, "mode_export": "y", "data_source_options": TYPED_OPTIONS}

    child = spawn("cookiecutter", [str(template_copy), "-o", str(out)], out)
    transcript = []
    for question in order:
        child.expect(prompt(prompts[question]))
        child.expect(r":\s*$")
        transcript.append(child.before + child.after)
        child.sendline(typed.get(question, ""))
    child.expect(pexpect.EOF)
    transcript.append(child.before)
    child.close()
    assert child.exitstatus == 0, "".join(transcript)[-3000:]
    return out / SLUG, "".join(transcript)


@pytest.fixture(scope="module")
def copier_run(tmp_path_factory: pytest.TempPathFactory, template_copy: Path) -> tuple[Path, str]:
    out = tmp_path_factory.mktemp("interactive-copier")
    project = out / SLUG
    help_texts = [
        ("project_name", NAME + "\r"),
        ("project_slug", "\r"),
        ("description", "\r"),
        ("author_name", "\r"),
        ("author_email", "\r"),
        ("python_version", "\r"),
        ("mode_data_source", "\r"),
        ("mode_data_service", "\r"),
        ("mode_export", "y\r"),
        ("mode_export_delta", "\r"),
        ("execution_mode", "\r"),
        # A multi-line answer is ended by Esc, Enter; the defaults are kept as shown.
        ("data_source_options", "\x1b\r"),
        ("export_options", "\x1b\r"),
        ("export_feedback_file", "\r"),
        ("export_feedback_successes", "\r"),
    ]
    copier = yaml.safe_load((TEMPLATE / "copier.yml").read_text(encoding="utf-8"))
    child = spawn("copier", ["copy", str(template_copy), SLUG], out)
    for question, keys in help_texts:
        child.expect(prompt(copier[question]["help"]))
        if question == "project_slug":
            child.expect(re.escape(SLUG))  # the default shown, derived from the name
        child.send(keys)
    child.expect(pexpect.EOF)
    output = child.before
    child.close()
    assert child.exitstatus == 0, output[-3000:]
    return project, output


def test_cookiecutter_interactive_run_derives_the_slug_and_says_what_next(
    cookiecutter_run: tuple[Path, str],
) -> None:
    project, output = cookiecutter_run
    assert project.is_dir()
    assert "Next steps:" in output
    assert f"cd {project}" in output


def test_cookiecutter_typed_options_replace_the_defaults(
    cookiecutter_run: tuple[Path, str],
) -> None:
    # Typed interactively, a dict is the whole answer (with --no-input cookiecutter merges).
    project, _output = cookiecutter_run
    sections = (project / "docs" / "dev-portal.md").read_text(encoding="utf-8").split("## Mode")
    assert re.findall(r"^\| `(\w+)` \|", sections[1], flags=re.MULTILINE) == ["REGION"]


def test_copier_interactive_run_keeps_the_declared_option_order(
    copier_run: tuple[Path, str],
) -> None:
    project, output = copier_run
    assert "Next steps:" in output
    assert documented_options(project) == [
        "NAME",
        "SHOULD_FAIL",
        "FEED_URL",
        "CHANNEL_URL",
        "CHANNEL_TOKEN",
    ]


def test_both_tools_print_the_same_next_steps(
    cookiecutter_run: tuple[Path, str], copier_run: tuple[Path, str]
) -> None:
    by_cookiecutter = message_lines(cookiecutter_run[1], cookiecutter_run[0])
    by_copier = message_lines(copier_run[1], Path(SLUG))
    assert by_cookiecutter == by_copier
    assert by_cookiecutter[0] == "Created <project>. Next steps:"


@pytest.mark.parametrize(
    ("modes", "first"),
    [(("data_source",), "data-source"), (("export", "export_delta"), "export")],
)
def test_the_next_steps_name_the_first_chosen_mode(modes: tuple[str, ...], first: str) -> None:
    answers = {f"mode_{mode}": mode in modes for mode in RULES.modes}
    message = RULES.next_steps(answers, Path("/x/acme"))
    assert f"python3 dev.py run {first} " in message
    assert message.splitlines()[:2] == ["Created /x/acme. Next steps:", "  cd /x/acme"]


def test_cruft_next_steps_name_the_folder_not_crufts_temporary_one() -> None:
    answers = {f"mode_{mode}": True for mode in RULES.modes}
    rendered_in = Path("/tmp/tmpab12cd/acme")
    by_cruft = post_gen_project.shown_path({**answers, "_commit": "0" * 40}, rendered_in)
    by_cookiecutter = post_gen_project.shown_path(answers, rendered_in)
    assert RULES.next_steps(answers, by_cruft).splitlines()[1] == "  cd acme"
    assert by_cookiecutter == rendered_in


def cd_line(output: str) -> list[str]:
    """The `cd` line of the next-steps message, split as a POSIX shell would."""
    import shlex

    [line] = [line for line in output.splitlines() if line.startswith("  cd ")]
    return shlex.split(line)


@pytest.mark.parametrize("folder", ["My Connectors", "it's here", "-rf"])
def test_the_cd_line_is_shell_quoted_by_both_tools(
    tmp_path: Path,
    template_copy: Path,
    capfd: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    folder: str,
) -> None:
    from copier import run_copy

    from tests.bake import bake_cookiecutter

    monkeypatch.chdir(tmp_path)
    # cookiecutter names the folder by its absolute path; copier as it was typed.
    project = bake_cookiecutter({}, Path(folder), template=template_copy)
    assert cd_line(capfd.readouterr().out) == ["cd", str(project)]

    run_copy(str(template_copy), folder, defaults=True, unsafe=False)
    expected = f"./{folder}" if folder.startswith("-") else folder
    assert cd_line(capfd.readouterr().err) == ["cd", expected]


def test_the_next_steps_quote_the_path_and_keep_it_off_cds_options() -> None:
    answers = {f"mode_{mode}": mode == "export" for mode in RULES.modes}
    assert RULES.next_steps(answers, "My Feed").splitlines()[1] == "  cd 'My Feed'"
    assert RULES.next_steps(answers, "-x").splitlines()[1] == "  cd ./-x"


def git_template(template_copy: Path, dest: Path) -> Path:
    """The template as a git repository of one commit, as a local clone would be."""
    import shutil

    from tests.test_questions import git

    shutil.copytree(template_copy, dest)
    git(dest, "init", "-q", "-b", "main")
    git(dest, "add", "-A")
    git(dest, "commit", "-qm", "v1")
    return dest


def cruft(*args: str, cwd: Path) -> str:
    import subprocess

    result = subprocess.run(
        [str(BIN / "cruft"), *args], cwd=cwd, capture_output=True, text=True, check=True
    )
    return result.stdout + result.stderr


def test_cruft_diff_and_update_do_not_print_the_next_steps(
    tmp_path: Path, template_copy: Path
) -> None:
    from tests.test_questions import git

    template = git_template(template_copy, tmp_path / "template")
    out = tmp_path / "out"
    out.mkdir()

    created = cruft("create", "--no-input", str(template), cwd=out)
    assert "Created my-connector. Next steps:" in created
    project = out / "my-connector"
    git(project, "init", "-q", "-b", "main")
    git(project, "add", "-A")
    git(project, "commit", "-qm", "generated")
    # cruft diff renders the recorded release to compare a local change with it.
    local = project / "README.md"
    local.write_text(local.read_text(encoding="utf-8") + "A local line.\n", encoding="utf-8")
    diffed = cruft("diff", cwd=project)
    git(project, "checkout", "README.md")
    # cruft update renders the recorded release and the new one.
    readme = template / "{{cookiecutter.project_slug}}" / "README.md"
    readme.write_text(readme.read_text(encoding="utf-8") + "Template v2.\n", encoding="utf-8")
    git(template, "add", "-A")
    git(template, "commit", "-qm", "v2")
    updated = cruft("update", "--skip-apply-ask", cwd=project)

    assert "A local line." in diffed
    assert (project / "README.md").read_text(encoding="utf-8").endswith("Template v2.\n")
    assert "Next steps" not in diffed
    assert "Next steps" not in updated


def test_a_copy_from_a_local_git_path_updates_on_this_machine_as_the_message_says(
    tmp_path: Path, template_copy: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    import warnings

    from copier import run_copy, run_update

    from tests.test_questions import git

    template = git_template(template_copy, tmp_path / "template")
    git(template, "tag", "v9.0.0")
    project = tmp_path / "project"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        run_copy(str(template), project, defaults=True, unsafe=False)
    said = capfd.readouterr().err
    assert f"Generated from a local path ({template}). `copier update` works on this" in said
    assert "weekly template check in CI (and anyone else) cannot" in said
    assert "set `_src_path` in .copier-answers.yml to the template's git URL" in said

    git(project, "init", "-q", "-b", "main")
    git(project, "add", "-A")
    git(project, "commit", "-qm", "generated")
    readme = template / "{{cookiecutter.project_slug}}" / "README.md"
    readme.write_text(readme.read_text(encoding="utf-8") + "Release 9.1.\n", encoding="utf-8")
    git(template, "commit", "-qam", "v9.1")
    git(template, "tag", "v9.1.0")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        run_update(project, defaults=True, overwrite=True, unsafe=False, quiet=True)
    assert (project / "README.md").read_text(encoding="utf-8").endswith("Release 9.1.\n")


def test_a_copy_from_a_folder_without_git_says_it_cannot_be_updated(
    tmp_path: Path, template_copy: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    import warnings

    from copier import run_copy, run_update
    from copier.errors import UserMessageError

    from tests.test_questions import git

    project = tmp_path / "project"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        run_copy(str(template_copy), project, defaults=True, unsafe=False)
    said = capfd.readouterr().err
    assert "is not a git repository" in said
    assert "neither `copier update` nor the weekly template check in CI can update" in said

    git(project, "init", "-q", "-b", "main")
    git(project, "add", "-A")
    git(project, "commit", "-qm", "generated")
    with pytest.raises(UserMessageError, match="old template references"):
        run_update(project, defaults=True, overwrite=True, unsafe=False, quiet=True)


def test_cruft_from_a_local_git_path_names_crufts_update_and_key(
    tmp_path: Path, template_copy: Path
) -> None:

    template = git_template(template_copy, tmp_path / "template")

    said = cruft("create", "--no-input", str(template), cwd=tmp_path)

    assert f"Generated from a local path ({template}). `cruft update` works on this" in said
    assert 'set "template" in .cruft.json to the template\'s git URL' in said
