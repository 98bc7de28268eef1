"""The Dev-portal settings of this connector, printed from the code's own declarations.

`python main.py describe` prints `render()`: for every mode the code ships, the values to enter
when the connector is created in the Dev portal. Everything comes from `connector/settings.py`
(the settings classes' options and the module constants), so what is printed is what runs.
docs/dev-portal.md holds the same tables; tests/test_describe.py fails when the two disagree.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from connector import settings
from connector.options import ConnectorSettings, Option

EXECUTION_MODES = {
    "environment_variables": "Environment variables",
    "command_line_arguments": "Command line arguments",
}
COMMAND = "python"
HEALTH_CHECK = "--health-check"
VERSION_CONTROL = "this repository (Dockerfile at its root)"
{%- if cookiecutter.mode_export or cookiecutter.mode_export_delta %}
# The sample handlers send every column; the channel keys products on `id` and needs a `title`.
CHANNEL_TEMPLATE_COLUMNS = ("id", "title")
{%- endif %}
OPTION_HEADER = (
    "Command option",
    "Field type",
    "Required",
    "Default",
    "Description",
    "Field config",
)
SETTING_HEADER = ("Setting", "Value")

ChosenMode = tuple[str, type[ConnectorSettings], str]
Rows = list[tuple[str, str]]


def cell(value: object) -> str:
    """Text that stays inside one Markdown table cell: pipes escaped, line breaks as <br>."""
    text = str(value).replace("\r\n", "\n").replace("\r", "\n").strip()
    return text.replace("|", "\\|").replace("\n", "<br>")


def code(value: str) -> str:
    return f"`{value}`" if value else ""


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


def command_name(settings_class: type[ConnectorSettings]) -> str:
    """`SomeModeSettings` runs as `python main.py some-mode`."""
    words = re.findall(r"[A-Z][a-z0-9]*", settings_class.__name__.removesuffix("Settings"))
    return "-".join(word.lower() for word in words)


def chosen_modes() -> list[ChosenMode]:
    """Every mode's settings class in connector/settings.py, in declaration order."""
    found: list[ChosenMode] = []
    for value in vars(settings).values():
        if (
            isinstance(value, type)
            and issubclass(value, ConnectorSettings)
            and value is not ConnectorSettings
        ):
            command = command_name(value)
            found.append((command, value, command.replace("-", " ").capitalize()))
    return found


def mode_tables(command: str) -> list[tuple[str, Rows]]:
    """The configuration a mode type has in the Dev portal besides its options."""
    tables: list[tuple[str, Rows]] = []
{%- if cookiecutter.mode_data_service %}
    if command == "data-service":
        rows = [
            ("Service type", settings.DATA_SERVICE_TYPE),
            ("Stage", settings.DATA_SERVICE_STAGE),
            ("Column prefix", code(settings.COLUMN_PREFIX)),
            ("Max usage", str(settings.MAX_USAGE)),
        ]
        tables.append(("Data service configuration", rows))
{%- endif %}
{%- if cookiecutter.mode_export or cookiecutter.mode_export_delta %}
    if command.startswith("export"):
        delta = command.endswith("-delta")
        columns = list(CHANNEL_TEMPLATE_COLUMNS)
{%- if cookiecutter.mode_export_delta %}
        if delta and settings.DELTA_KEY not in columns:
            columns.append(settings.DELTA_KEY)
{%- endif %}
        rows = [
            ("Channel template columns", ", ".join(code(column) for column in columns)),
            ("Feedback file", "enabled" if settings.FEEDBACK_FILE else "disabled"),
            ("Feedback rows for accepted products", yes_no(settings.FEEDBACK_SUCCESSES)),
            ("Delta channel", yes_no(delta)),
        ]
{%- if cookiecutter.mode_export_delta %}
        if delta:
            rows.append(("Delta key", code(settings.DELTA_KEY)))
{%- endif %}
        tables.append(("Export configuration", rows))
{%- endif %}
    return tables


def mode_section(command: str, settings_class: type[ConnectorSettings], kind: str) -> list[str]:
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
    for title, rows in mode_tables(command):
        lines += ["", f"### {title}", "", *table(SETTING_HEADER, rows)]
    return lines


def render() -> str:
    """The Dev-portal settings of every mode this connector ships, as Markdown."""
    lines = [
        "# Dev portal settings",
        "",
        "Create one Dev-portal connector per mode with these values;",
        "docs/dev-portal.md walks through the steps.",
    ]
    for command, settings_class, kind in chosen_modes():
        lines += ["", *mode_section(command, settings_class, kind)]
    return "\n".join(lines)
