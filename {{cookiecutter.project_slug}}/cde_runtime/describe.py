"""The Dev-portal settings of this connector, printed from the code's own declarations.

`python main.py describe` prints `render()`: for every mode the code ships, the values to enter
when the connector is created in the Dev portal. Everything comes from `connector/settings.py`
(the settings classes' options and the module constants), so what is printed is what runs.
docs/dev-portal.md holds the same tables; tests/runtime/test_describe.py fails when the two
disagree.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Sequence
from typing import Any

from cde_runtime.mode import Mode
from cde_runtime.options import Option

EXECUTION_MODES = {
    "environment_variables": "Environment variables",
    "command_line_arguments": "Command line arguments",
}
COMMAND = "python"
HEALTH_CHECK = "--health-check"
VERSION_CONTROL = "this repository (Dockerfile at its root)"
# The sample handlers send every column; the channel keys products on `id` and needs a `title`.
CHANNEL_TEMPLATE_COLUMNS = ("id", "title")
OPTION_HEADER = (
    "Command option",
    "Field type",
    "Required",
    "Default",
    "Description",
    "Field config",
)
SETTING_HEADER = ("Setting", "Value")

Rows = list[tuple[str, str]]


class Code(str):
    """Markdown code: shown literally, so a table cell escapes only its pipes."""


def cell(value: object) -> str:
    """Text that stays inside one Markdown table cell and shows as typed: pipes escaped, line
    breaks as <br>, and outside code, HTML escaped."""
    text = str(value).replace("\r\n", "\n").replace("\r", "\n").strip()
    text = text.replace("\u2028", "\n").replace("\u2029", "\n")  # Unicode line/paragraph breaks
    if not isinstance(value, Code):
        text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return text.replace("|", "\\|").replace("\n", "<br>")


def code(value: str) -> Code:
    """A Markdown code span; double backticks when the value holds one."""
    if not value:
        return Code("")
    return Code(f"`` {value} ``" if "`" in value else f"`{value}`")


def yes_no(flag: object) -> str:
    return "yes" if flag else "no"


def table(header: Sequence[str], rows: Iterable[Sequence[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(cell(value) for value in row) + " |" for row in rows]
    return lines


def option_row(declared: Option) -> tuple[str, ...]:
    return (
        code(declared.name),
        declared.field_type,
        yes_no(declared.required),
        declared.default,
        declared.description,
        code(declared.field_config),
    )


def mode_tables(mode: Mode[Any]) -> list[tuple[str, Rows]]:
    """The configuration a mode type has in the Dev portal besides its options.

    Read from the constants of the module that declares the mode's settings
    (connector/settings.py), so only the constants of the modes you ship need exist there.
    """
    constants = vars(sys.modules[mode.settings.__module__])
    tables: list[tuple[str, Rows]] = []
    if mode.name == "data-service":
        rows = [
            ("Service type", str(constants["DATA_SERVICE_TYPE"])),
            ("Stage", str(constants["DATA_SERVICE_STAGE"])),
            ("Column prefix", code(str(constants["COLUMN_PREFIX"]))),
            ("Max usage", str(constants["MAX_USAGE"])),
        ]
        tables.append(("Data service configuration", rows))
    if mode.name in ("export", "export-delta"):
        delta = mode.name == "export-delta"
        columns = list(CHANNEL_TEMPLATE_COLUMNS)
        if delta and constants["DELTA_KEY"] not in columns:
            columns.append(str(constants["DELTA_KEY"]))
        rows = [
            ("Channel template columns", Code(", ".join(code(column) for column in columns))),
            ("Feedback file", "enabled" if constants["FEEDBACK_FILE"] else "disabled"),
            ("Feedback rows for accepted products", yes_no(constants["FEEDBACK_SUCCESSES"])),
            ("Delta channel", yes_no(delta)),
        ]
        if delta:
            rows.append(("Delta key", code(str(constants["DELTA_KEY"]))))
        tables.append(("Export configuration", rows))
    return tables


def mode_section(mode: Mode[Any]) -> list[str]:
    command, settings_class = mode.name, mode.settings
    kind = command.replace("-", " ").capitalize()
    execution_mode = settings_class.execution_mode
    lines = [f"## Mode `{command}`", ""]
    lines += table(
        SETTING_HEADER,
        [
            ("Connector type", kind),
            ("Execution mode", EXECUTION_MODES.get(execution_mode, execution_mode)),
            ("Version control", VERSION_CONTROL),
            ("Command", code(COMMAND)),
            ("Arguments", code(f"main.py {command}")),
            ("Health check", code(HEALTH_CHECK)),
        ],
    )
    lines += ["", "### Individual configurations", ""]
    options = settings_class.options()
    if options:
        lines += table(OPTION_HEADER, [option_row(declared) for declared in options])
    else:
        lines.append("None declared.")
    for title, rows in mode_tables(mode):
        lines += ["", f"### {title}", "", *table(SETTING_HEADER, rows)]
    return lines


def render(modes: Iterable[Mode[Any]]) -> str:
    """The Dev-portal settings of `modes` (the modes this connector ships), as Markdown."""
    lines = [
        "# Dev portal settings",
        "",
        "Create one Dev-portal connector per mode with these values;",
        "docs/dev-portal.md walks through the steps.",
    ]
    for mode in modes:
        lines += ["", *mode_section(mode)]
    return "\n".join(lines)
