"""Refuse invalid answers before cookiecutter/cruft write anything.

Copier checks the same rules with the `validator:` entries in copier.yml (a validator
cannot run Python without an extension and `--trust`). The messages are word for
word the same, and tests/test_validation.py runs one table of bad answers through
both tools to prove the two copies agree.

Exit code 1 makes cookiecutter delete the half-made output folder, so a bad
answer leaves nothing behind.
"""

from __future__ import annotations

import json
import re
import sys
from typing import Any

MODES = ("data_source", "data_service", "export", "export_delta")
FIELD_TYPES = (
    "input",
    "textarea",
    "password",
    "checkbox",
    "select",
    "select_multiple",
    "stage_columns_dropdown",
)
SPEC_KEYS = ("type", "required", "default", "description", "choices")
SLUG_RE = r"^[a-z0-9]+([-_][a-z0-9]+)*\Z"
OPTION_NAME_RE = r"^[A-Za-z][A-Za-z0-9_-]*\Z"
COLUMN_PREFIX_RE = r"^___[A-Za-z]+\Z"
MAX_USAGE_RE = r"^[1-9][0-9]*\Z"
EMAIL_RE = r"^[^@\s]+@[^@\s]+\.[^@\s]+\Z"
SECRET_DEFAULT = "is a password with a default"
# Environment variables and flags the runtime or the interpreter owns; an option
# with one of these names would silently change how the connector runs.
RESERVED_PREFIXES = ("container_api_", "python")
RESERVED_NAMES = ("path", "home", "hostname", "user", "lang", "tz", "pwd", "health_check", "help")
# Characters no file format takes raw (line breaks and tabs are fine: they are escaped).
CONTROL_RE = r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufffe\uffff]"
# Option names need no deny-list for code: each becomes the attribute of the same name in
# capitals, and nothing in Python, pydantic or the runtime is spelled in capitals only.


def attribute_name(option: str) -> str:
    """The settings attribute an option becomes (new-column → NEW_COLUMN)."""
    return option.upper().replace("-", "_")


def is_text(value: Any) -> bool:
    """A string, or a number (cookiecutter turns numbers into strings; copier keeps them)."""
    return isinstance(value, str | int | float) and not isinstance(value, bool)


def text(value: Any) -> str:
    """A text answer as both tools render it (str(1) == "1" in Python and Jinja alike)."""
    return str(value)


def declaration(spec: dict[str, Any]) -> tuple[Any, ...]:
    """An option's settings with the defaults filled in, to compare two declarations."""
    choices = spec.get("choices")
    return (
        spec.get("type", "input"),
        spec.get("required", False),
        text(spec.get("default", "")),
        text(spec.get("description", "")),
        [text(choice) for choice in choices] if isinstance(choices, list) else choices,
    )


def validate(answers: dict[str, Any]) -> list[str]:
    """Every problem with the answers, one readable sentence each."""
    errors = []
    name = str(answers["project_name"])
    if not name.strip() or "\n" in name or re.search(CONTROL_RE, name):
        errors.append(
            f"project_name '{name}' is invalid: it must be one non-empty line of printable text. "
            "Example: My Connector"
        )
    if not re.match(SLUG_RE, str(answers["project_slug"])):
        errors.append(
            f"project_slug '{answers['project_slug']}' is invalid: use lowercase letters and digits "
            "in words joined by single '-' or '_'. Example: my-connector"
        )
    for question in ("description", "author_name"):
        if re.search(CONTROL_RE, str(answers[question])):
            errors.append(
                f"{question} contains a control character: use printable text (line breaks and "
                "tabs are fine). Example: A Productsup CDE connector."
            )
    if not re.match(EMAIL_RE, str(answers["author_email"])):
        errors.append(
            f"author_email '{answers['author_email']}' is invalid: it must look like an e-mail address. "
            "Example: jane.doe@example.com"
        )
    if not any(truthy(answers[f"mode_{mode}"]) for mode in MODES):
        errors.append(
            "No mode chosen: answer yes to at least one of mode_data_source, mode_data_service, "
            "mode_export, mode_export_delta. Example: mode_data_source=yes"
        )
    chosen = [mode for mode in MODES if truthy(answers[f"mode_{mode}"])]
    for index, mode in enumerate(chosen):
        question = f"{mode}_options"
        own = option_errors(question, answers[question])
        errors.extend(own)
        if not own:
            earlier = {f"{m}_options": answers[f"{m}_options"] for m in chosen[:index]}
            errors.extend(cross_mode_errors(question, answers[question], earlier))
    if truthy(answers["mode_data_service"]):
        prefix = str(answers["data_service_column_prefix"])
        if not re.match(COLUMN_PREFIX_RE, prefix):
            errors.append(
                f"data_service_column_prefix '{prefix}' is invalid: three underscores followed by "
                "letters only. Example: ___prefix"
            )
        usage = str(answers["data_service_max_usage"])
        if not re.match(MAX_USAGE_RE, usage):
            errors.append(
                f"data_service_max_usage '{usage}' is invalid: a whole number of at least 1. Example: 1"
            )
    if truthy(answers["mode_export_delta"]):
        key = str(answers["export_delta_key"])
        if not key.strip() or "\n" in key:
            errors.append(
                f"export_delta_key '{key}' is invalid: the name of the unique id column, one "
                "non-empty line. Example: id"
            )
    return errors


def option_errors(question: str, options: Any) -> list[str]:
    """Problems with one mode's option declarations (`{NAME: {type, required, …}}`)."""
    if not isinstance(options, dict):
        return [
            f"{question} is invalid: it must be a mapping of option name to settings. Example: "
            '{"NAME": {"type": "input", "required": true, "default": "", "description": "Who to greet"}}'
        ]
    errors = []
    seen: dict[str, str] = {}
    for name, spec in options.items():
        if spec is None:  # `"NAME": null` removes a default option
            continue
        where = f"{question}: option '{name}'"
        if not re.match(OPTION_NAME_RE, str(name)):
            errors.append(
                f"{where} has an invalid name: start with a letter, then only letters, digits, "
                "'-' or '_'. Example: MY_OPTION"
            )
            continue
        attribute = attribute_name(name)
        if attribute in seen:
            first, second = sorted((seen[attribute], name))
            errors.append(
                f"{question}: options '{first}' and '{second}' are duplicates: names must differ "
                "ignoring case and '-' versus '_'. Example: rename one to MY_OPTION_2"
            )
        seen[attribute] = name
        if attribute.lower().startswith(RESERVED_PREFIXES) or attribute.lower() in RESERVED_NAMES:
            errors.append(
                f"{where} uses a reserved name: CONTAINER_API_*, PYTHON*, PATH, HOME, HOSTNAME, "
                "USER, LANG, TZ, PWD, HEALTH_CHECK and HELP belong to the runtime. Example: MY_OPTION"
            )
        errors.extend(spec_errors(where, spec))
    return errors


def spec_errors(where: str, spec: Any) -> list[str]:
    """Problems with the settings of one option."""
    if not isinstance(spec, dict):
        return [
            f"{where} must map to settings. Example: "
            '{"type": "input", "required": false, "default": "", "description": "…"}'
        ]
    unknown = sorted(set(spec) - set(SPEC_KEYS))
    if unknown:
        return [
            f"{where} has unknown settings {', '.join(unknown)}: allowed are type, required, default, "
            'description, choices. Example: {"type": "input", "required": false}'
        ]
    field_type = spec.get("type", "input")
    if field_type not in FIELD_TYPES:
        return [
            f"{where} has unknown type '{field_type}': use one of {', '.join(FIELD_TYPES)}. "
            "Example: input"
        ]
    errors = []
    if not isinstance(spec.get("required", False), bool):
        errors.append(f"{where}: required must be true or false. Example: true")
    for key in ("default", "description"):
        if not is_text(spec.get(key, "")):
            errors.append(f'{where}: {key} must be a string. Example: ""')
        elif re.search(CONTROL_RE, text(spec.get(key, ""))):
            errors.append(
                f"{where}: {key} contains a control character: use printable text (line breaks "
                'and tabs are fine). Example: ""'
            )
    if errors:
        return errors
    default = text(spec.get("default", ""))
    choices = spec.get("choices")
    if field_type in ("select", "select_multiple"):
        if (
            not isinstance(choices, list)
            or not choices
            or not all(is_text(choice) and text(choice).strip() for choice in choices)
        ):
            return [
                f"{where} is a {field_type} without choices: give a non-empty list of strings. "
                'Example: "choices": ["small", "large"]'
            ]
        choices = [text(choice) for choice in choices]
        errors.extend(choice_errors(where, field_type, choices))
        if errors:
            return errors
        given = (
            [item.strip() for item in default.split(",")]
            if field_type == "select_multiple"
            else [default]
        )
        if default and not set(given) <= set(choices):
            errors.append(
                f"{where} has default '{default}', which is not among its choices {', '.join(choices)}. "
                f"Example: {choices[0]}"
            )
    elif choices is not None:
        errors.append(
            f"{where} has choices but is a {field_type}: only select and select_multiple take "
            'choices. Example: "type": "select"'
        )
    if field_type == "checkbox" and default not in ("", "0", "1"):
        errors.append(f'{where} is a checkbox: its default must be "0" or "1". Example: 0')
    if field_type == "password" and default:
        errors.append(
            f"{where} {SECRET_DEFAULT}: secrets must never be stored in answers "
            'files. Example: "default": ""'
        )
    return errors


def choice_errors(where: str, field_type: str, choices: list[str]) -> list[str]:
    """Problems with the choices of a select: each one a distinct value the portal can pass."""
    for index, choice in enumerate(choices):
        if choice != choice.strip():
            return [
                f"{where} has choice '{choice}' with spaces around it: the portal passes the "
                'value exactly, so write it without them. Example: "choices": ["small", "large"]'
            ]
        if re.search(CONTROL_RE, choice) or "\n" in choice or "\r" in choice or "\t" in choice:
            return [
                f"{where} has a choice with a line break or control character: a choice is one "
                'line of printable text. Example: "choices": ["small", "large"]'
            ]
        if choice in choices[:index]:
            return [
                f"{where} lists choice '{choice}' twice: each choice must be unique. "
                'Example: "choices": ["small", "large"]'
            ]
        if field_type == "select_multiple" and "," in choice:
            return [
                f"{where} has choice '{choice}' containing ',': select_multiple values are passed "
                'comma-separated. Example: "choices": ["small", "large"]'
            ]
    return []


def cross_mode_errors(question: str, options: dict[str, Any], earlier: dict[str, Any]) -> list[str]:
    """An option name used by two modes must be one declaration (one .env, one portal name)."""
    errors = []
    for name, spec in options.items():
        if not isinstance(spec, dict):
            continue
        for other_question, other_options in earlier.items():
            if not isinstance(other_options, dict):
                continue
            for other_name, other_spec in other_options.items():
                if not isinstance(other_spec, dict):
                    continue
                if attribute_name(str(other_name)) != attribute_name(str(name)):
                    continue
                if other_name != name or declaration(other_spec) != declaration(spec):
                    errors.append(
                        f"{question}: option '{name}' is declared differently in {other_question} "
                        f"as '{other_name}': one name, one declaration, so make them identical or "
                        f"rename one. Example: {name}_2"
                    )
    return errors


def truthy(value: Any) -> bool:
    """Cookiecutter booleans arrive as bools; strings from old replay files as text."""
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes", "y", "on")
    return bool(value)


def main(answers: dict[str, Any]) -> int:
    errors = validate(answers)
    for error in errors:
        print(f"ERROR: {error}", file=sys.stderr)
    if errors:
        print("Nothing was generated. Fix the answers above and run again.", file=sys.stderr)
    if "_commit" not in answers and any(SECRET_DEFAULT in error for error in errors):
        # Plain cookiecutter saves the answers to its replay file before any hook runs (cruft,
        # which adds `_commit`, does not): the secret is on disk already, so say where.
        print(
            "cookiecutter has already saved these answers, that secret included, to its replay "
            "folder (~/.cookiecutter_replay/ unless your cookiecutter config names another "
            "replay_dir): delete the template's .json file there.",
            file=sys.stderr,
        )
    return 1 if errors else 0


if __name__ == "__main__":
    # tojson escapes quotes, so no answer can end this raw string early.
    sys.exit(main(json.loads(r"""{{ cookiecutter | tojson }}""")))
