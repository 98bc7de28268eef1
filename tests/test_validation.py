"""Bad answers: refused by both tools, with the same message, and nothing written.

One table drives cookiecutter (the pre-gen hook) and copier (the validators in
copier.yml): both evaluate the same validators (hooks/rules.py), and each row proves the
refusal reaches the user through each tool's own plumbing, with nothing written.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from hooks import pre_gen_project as hook
from hooks.rules import Rules
from tests.bake import TEMPLATE, bake_cookiecutter, bake_copier, defaults

RULES = Rules(TEMPLATE)
DEFAULT_OPTIONS = {mode: defaults()[f"{mode}_options"] for mode in RULES.modes}


def options(mode: str, declared: Any) -> dict[str, Any]:
    """Answers declaring exactly `declared` as the options of `mode` (and turning it on)."""
    return {f"mode_{mode}": True, f"{mode}_options": declared}


def spec(**settings: Any) -> dict[str, Any]:
    return {"type": "input", "required": False, "default": "", "description": "", **settings}


# (id, answers, a fragment the message must contain)
BAD_ANSWERS: list[tuple[str, dict[str, Any], str]] = [
    ("slug-with-space", {"project_slug": "my connector"}, "project_slug 'my connector'"),
    ("slug-uppercase", {"project_slug": "MyConnector"}, "project_slug 'MyConnector'"),
    ("slug-double-dash", {"project_slug": "my--connector"}, "project_slug 'my--connector'"),
    ("slug-accent", {"project_slug": "müller"}, "project_slug 'müller'"),
    ("slug-trailing-newline", {"project_slug": "connector\n"}, "project_slug"),
    ("blank-project-name", {"project_name": "  ", "project_slug": "x"}, "project_name"),
    # A C1 control character: copier's YAML answers file cannot hold it (found by Hypothesis).
    ("project-name-control", {"project_name": "Feed\x95", "project_slug": "x"}, "project_name"),
    ("bad-email", {"author_email": "jane"}, "author_email 'jane'"),
    ("no-mode", {"mode_data_source": False}, "No mode chosen"),
    ("option-with-quote", options("data_source", {'NA"ME': spec()}), "invalid name"),
    ("option-with-space", options("data_source", {"MY NAME": spec()}), "invalid name"),
    ("option-with-subshell", options("data_source", {"$(rm -rf ~)": spec()}), "invalid name"),
    ("option-with-newline", options("data_source", {"A\nB": spec()}), "invalid name"),
    ("option-as-python", options("data_source", {"__import__('os')": spec()}), "invalid name"),
    ("duplicate-case", options("data_service", {"Name": spec(), "NAME": spec()}), "duplicates"),
    ("duplicate-dash", options("export", {"MY-OPT": spec(), "MY_OPT": spec()}), "duplicates"),
    ("reserved-name", options("data_source", {"CONTAINER_API_URL": spec()}), "reserved name"),
    ("reserved-prefix", options("export_delta", {"PYTHONPATH": spec()}), "reserved name"),
    ("unknown-type", options("data_source", {"SIZE": spec(type="dropdown")}), "unknown type"),
    ("unknown-setting", options("data_source", {"SIZE": spec(label="x")}), "unknown settings"),
    # `{type: input, description: URL of the API, e.g. https://…}`: YAML cut the text at ", ".
    (
        "flow-mapping-split-text",
        options("data_source", {"URL": {"type": "input", "description": "URL", "e.g. x": None}}),
        "unknown settings e.g. x: a setting without a value is usually the rest of a text",
    ),
    ("not-a-mapping", options("data_source", ["NAME"]), "must be a mapping"),
    ("spec-not-a-mapping", options("data_source", {"NAME": "input"}), "must map to settings"),
    ("required-not-bool", options("data_source", {"X": spec(required="maybe")}), "required"),
    ("select-no-choices", options("data_source", {"SIZE": spec(type="select")}), "choices"),
    (
        "select-empty-choices",
        options("data_source", {"SIZE": spec(type="select_multiple", choices=[])}),
        "choices",
    ),
    (
        "default-not-a-choice",
        options("data_source", {"SIZE": spec(type="select", choices=["s"], default="xl")}),
        "not among its choices",
    ),
    ("choices-on-input", options("data_source", {"X": spec(choices=["a"])}), "has choices"),
    (
        "duplicate-choice",
        options("data_source", {"SIZE": spec(type="select", choices=["s", "m", "s"])}),
        "lists choice 's' twice",
    ),
    (
        "choice-with-spaces",
        options("data_source", {"SIZE": spec(type="select", choices=["s", " m"])}),
        "spaces around it",
    ),
    (
        "multi-choice-with-comma",
        options("data_source", {"TAGS": spec(type="select_multiple", choices=["a", "b,c"])}),
        "containing ','",
    ),
    (
        "choice-with-newline",
        options("data_source", {"SIZE": spec(type="select", choices=["a\nb"])}),
        "line break",
    ),
    (
        "multi-default-not-a-choice",
        options("data_source", {"T": spec(type="select_multiple", choices=["a"], default="a,z")}),
        "not among its choices",
    ),
    (
        "boolean-choice",
        options("data_source", {"SIZE": spec(type="select", choices=[True, "b"])}),
        "without choices",
    ),
    ("boolean-default", options("data_source", {"X": spec(default=True)}), "default must be"),
    ("null-description", options("data_source", {"X": spec(description=None)}), "description"),
    ("control-in-default", options("data_source", {"X": spec(default="a\x00b")}), "control"),
    ("control-in-description", {"description": "bell \x07"}, "description contains a control"),
    ("control-in-author", {"author_name": "Jane\x1b[31m"}, "author_name contains a control"),
    (
        "same-option-two-declarations",
        {
            "mode_export": True,
            "mode_export_delta": True,
            "export_delta_options": {"CHANNEL_URL": spec(required=True, description="other")},
        },
        "declared differently in export_options",
    ),
    (
        "same-option-two-spellings",
        {
            "mode_data_service": True,
            "data_service_options": {"name": spec()},
        },
        "as 'NAME'",
    ),
    ("checkbox-default", options("data_source", {"X": spec(type="checkbox", default="yes")}), "0"),
    # A YAML/JSON boolean: the example is the quoted text that means the same.
    (
        "checkbox-default-true",
        options("data_source", {"X": spec(type="checkbox", default=True)}),
        'quoted, not a YAML/JSON boolean. Example: "default": "1"',
    ),
    (
        "checkbox-default-false",
        options("data_source", {"X": spec(type="checkbox", default=False)}),
        'Example: "default": "0"',
    ),
    (
        "password-default",
        options("export", {"TOKEN": spec(type="password", default="hunter2")}),
        "secrets must never",
    ),
    (
        "prefix-without-underscores",
        {"mode_data_service": True, "data_service_column_prefix": "prefix"},
        "data_service_column_prefix 'prefix'",
    ),
    (
        "prefix-with-digits",
        {"mode_data_service": True, "data_service_column_prefix": "___pre1"},
        "data_service_column_prefix",
    ),
    (
        "max-usage-word",
        {"mode_data_service": True, "data_service_max_usage": "one"},
        "data_service_max_usage 'one'",
    ),
    (
        "max-usage-zero",
        {"mode_data_service": True, "data_service_max_usage": "0"},
        "data_service_max_usage '0'",
    ),
    ("blank-delta-key", {"mode_export_delta": True, "export_delta_key": " "}, "export_delta_key"),
]


BAD_ANSWER_PARAMS = [row[1:] for row in BAD_ANSWERS]
BAD_ANSWER_IDS = [row[0] for row in BAD_ANSWERS]


def for_cookiecutter(answers: dict[str, Any]) -> dict[str, Any]:
    """Cookiecutter merges dict answers into the defaults; null removes the defaults."""
    merged = dict(answers)
    for mode in RULES.modes:
        declared = answers.get(f"{mode}_options")
        if isinstance(declared, dict):
            removed = {name: None for name in DEFAULT_OPTIONS[mode] if name not in declared}
            merged[f"{mode}_options"] = {**removed, **declared}
    return merged


def expected_message(answers: dict[str, Any]) -> str:
    """The validators' first complaint about `answers` on top of the defaults."""
    errors = RULES.errors({**defaults(), **answers})
    assert errors, "the table row must be invalid"
    return errors[0]


@pytest.mark.parametrize(
    ("answers", "fragment"), [p[1:] for p in BAD_ANSWERS], ids=[p[0] for p in BAD_ANSWERS]
)
def test_cookiecutter_refuses_bad_answer_and_writes_nothing(
    tmp_path: Path, capfd: pytest.CaptureFixture[str], answers: dict[str, Any], fragment: str
) -> None:
    from cookiecutter.exceptions import FailedHookException

    message = expected_message(answers)
    with pytest.raises(FailedHookException):
        bake_cookiecutter(for_cookiecutter(answers), tmp_path)

    assert fragment in message
    assert message in capfd.readouterr().err
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("answers", "fragment"), [p[1:] for p in BAD_ANSWERS], ids=[p[0] for p in BAD_ANSWERS]
)
def test_copier_refuses_bad_answer_with_the_same_message_and_writes_nothing(
    tmp_path: Path, template_copy: Path, answers: dict[str, Any], fragment: str
) -> None:
    message = expected_message(answers)
    with pytest.raises(ValueError, match="Validation error") as refused:
        bake_copier(answers, tmp_path, template=template_copy)

    assert fragment in message
    assert str(refused.value).endswith(message)
    assert list(tmp_path.iterdir()) == []


def test_the_default_answers_are_valid() -> None:
    assert RULES.errors(defaults()) == []


def test_a_null_option_removes_a_default_option() -> None:
    answers = {**defaults(), "data_source_options": {"NAME": None, "class": None}}
    assert RULES.errors(answers) == []


def test_the_hook_reports_every_problem_at_once() -> None:
    answers = {**defaults(), "project_slug": "Bad Slug", "author_email": "nope"}
    errors = RULES.errors(answers)
    assert [error.split(" ")[0] for error in errors] == ["project_slug", "author_email"]


def test_the_hook_exits_1_and_says_nothing_was_generated(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert hook.main({**defaults(), "project_slug": "Bad Slug"}, TEMPLATE) == 1
    err = capsys.readouterr().err
    assert "ERROR: project_slug 'Bad Slug'" in err
    assert "Nothing was generated" in err


def test_hostile_answers_cannot_break_the_rendered_hook(tmp_path: Path) -> None:
    import subprocess
    import sys

    from cookiecutter.environment import StrictEnvironment

    hostile = "\"\"\"''' \\ \n <b>&</b> ünïcödé"
    answers = {**defaults(), "description": hostile, "author_name": hostile}
    source = Path(hook.__file__).read_text(encoding="utf-8")
    context = {"cookiecutter": {**answers, "_extensions": ["hooks.literal_answers.LiteralAnswers"]}}
    rendered = StrictEnvironment(context=context).from_string(source)
    script = tmp_path / "pre_gen_project.py"
    script.write_text(rendered.render(cookiecutter=answers), encoding="utf-8")

    result = subprocess.run([sys.executable, str(script)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_option_text_that_is_not_json_is_refused_by_both_tools_and_writes_nothing(
    tmp_path: Path, template_copy: Path
) -> None:
    # Option questions are JSON in copier (so its prompt keeps the declaration order): text that
    # is not JSON stops copier at parsing, before our validator can word the refusal.
    from cookiecutter.exceptions import FailedHookException

    answers = options("data_source", "NAME")
    with pytest.raises(ValueError, match="Expecting value"):
        bake_copier(answers, tmp_path / "copier", template=template_copy)
    with pytest.raises(FailedHookException):
        bake_cookiecutter(for_cookiecutter(answers), tmp_path / "cookiecutter")
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == []


def test_a_refused_password_default_names_the_replay_file_cookiecutter_already_wrote(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    from cookiecutter.exceptions import FailedHookException
    from cookiecutter.main import cookiecutter

    from tests.bake import TEMPLATE

    replay = tmp_path / "replay"
    config = tmp_path / "config.yml"
    config.write_text(f"replay_dir: {replay}\ncookiecutters_dir: {tmp_path / 'clones'}\n")
    secret = "s3cr%t#-9f8e7d"
    options = {"CHANNEL_TOKEN": {"type": "password", "default": secret}}
    with pytest.raises(FailedHookException):
        cookiecutter(
            str(TEMPLATE),
            no_input=True,
            extra_context={"mode_export": True, "export_options": options},
            output_dir=str(tmp_path / "out"),
            config_file=str(config),
        )

    # The claim the message makes: the secret is on disk before any hook could refuse it.
    [saved] = replay.iterdir()
    assert secret in saved.read_text(encoding="utf-8")
    err = capfd.readouterr().err
    assert "is a password with a default" in err
    assert "delete the template's .json file there" in err
    assert secret not in err
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_the_replay_note_is_for_plain_cookiecutter_only(capsys: pytest.CaptureFixture[str]) -> None:
    options = {"CHANNEL_TOKEN": {"type": "password", "default": "x"}}
    answers = {**defaults(), "mode_export": True, "export_options": options}
    assert hook.main({**answers, "_commit": "0" * 40}, TEMPLATE) == 1  # cruft writes no replay file
    assert "replay" not in capsys.readouterr().err
    assert hook.main({**defaults(), "project_slug": "Bad Slug"}, TEMPLATE) == 1
    assert "replay" not in capsys.readouterr().err


def test_the_readme_answers_example_keeps_text_with_a_comma_in_both_tools(
    tmp_path: Path, template_copy: Path
) -> None:
    from tests.test_generated import readme_answers

    answers = readme_answers()
    description = answers["data_source_options"]["FEED_URL"]["description"]
    assert ", " in description, "the example should show that a block mapping keeps ', '"
    for project in (
        bake_cookiecutter(for_cookiecutter(answers), tmp_path / "cookiecutter"),
        bake_copier(answers, tmp_path / "copier", template=template_copy),
    ):
        assert description in (project / "docs" / "dev-portal.md").read_text(encoding="utf-8")
