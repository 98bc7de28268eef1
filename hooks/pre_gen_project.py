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
# Environment variables and flags the runtime or the interpreter owns; an option
# with one of these names would silently change how the connector runs.
RESERVED_PREFIXES = ("container_api_", "python")
RESERVED_NAMES = ("path", "home", "hostname", "user", "lang", "tz", "pwd", "health_check", "help")
# Option names become attributes of a pydantic settings class: these would clash.
RESERVED_ATTRIBUTES = (
    "and", "as", "assert", "async", "await", "break", "class", "continue", "def", "del",
    "elif", "else", "except", "finally", "for", "from", "global", "if", "import", "in",
    "is", "lambda", "nonlocal", "not", "or", "pass", "raise", "return", "try", "while",
    "with", "yield", "copy", "dict", "json", "schema", "schema_json", "construct",
    "validate", "parse_obj", "parse_raw", "parse_file", "from_orm", "update_forward_refs",
)  # fmt: skip


def attribute_name(option: str) -> str:
    """The settings attribute an option becomes (NEW-COLUMN → new_column)."""
    return option.lower().replace("-", "_")


def validate(answers: dict[str, Any]) -> list[str]:
    """Every problem with the answers, one readable sentence each."""
    errors = []
    if not str(answers["project_name"]).strip() or "\n" in str(answers["project_name"]):
        errors.append(
            f"project_name '{answers['project_name']}' is invalid: it must be one non-empty line. "
            "Example: My Connector"
        )
    if not re.match(SLUG_RE, str(answers["project_slug"])):
        errors.append(
            f"project_slug '{answers['project_slug']}' is invalid: use lowercase letters and digits "
            "in words joined by single '-' or '_'. Example: my-connector"
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
    for mode in MODES:
        if truthy(answers[f"mode_{mode}"]):
            errors.extend(option_errors(f"{mode}_options", answers[f"{mode}_options"]))
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
        if not re.match(OPTION_NAME_RE, name):
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
        if attribute.startswith(RESERVED_PREFIXES) or attribute in RESERVED_NAMES:
            errors.append(
                f"{where} uses a reserved name: CONTAINER_API_*, PYTHON*, PATH, HOME, HOSTNAME, "
                "USER, LANG, TZ, PWD, HEALTH_CHECK and HELP belong to the runtime. Example: MY_OPTION"
            )
        if attribute in RESERVED_ATTRIBUTES or attribute.startswith("model_"):
            errors.append(
                f"{where} cannot be a settings attribute (Python keyword or pydantic name). "
                "Example: MY_OPTION"
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
        if not isinstance(spec.get(key, ""), str):
            errors.append(f'{where}: {key} must be a string. Example: ""')
    default = spec.get("default", "")
    choices = spec.get("choices")
    if field_type in ("select", "select_multiple"):
        if (
            not isinstance(choices, list)
            or not choices
            or not all(isinstance(choice, str) and choice.strip() for choice in choices)
        ):
            errors.append(
                f"{where} is a {field_type} without choices: give a non-empty list of strings. "
                'Example: "choices": ["small", "large"]'
            )
        elif default and not set(str(default).split(",")) <= set(choices):
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
            f"{where} is a password with a default: secrets must never be stored in answers "
            'files. Example: "default": ""'
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
    return 1 if errors else 0


if __name__ == "__main__":
    # tojson escapes quotes, so no answer can end this raw string early.
    sys.exit(main(json.loads(r"""{{ cookiecutter | tojson }}""")))
