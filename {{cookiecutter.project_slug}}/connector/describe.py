"""The Dev-portal settings of this connector, printed from the code's own declarations.

`python main.py describe` prints `render()`: for every mode the code ships, the values to enter
when the connector is created in the Dev portal. Everything comes from `connector/settings.py`
(the settings classes' options and the module constants), so what is printed is what runs.
docs/dev-portal.md holds the same tables; tests/test_describe.py fails when the two disagree.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from types import ModuleType

from connector import settings as settings_module
from connector.options import ConnectorSettings, Option

# (command name, settings class in connector/settings.py, Dev-portal connector type)
MODES = (
    ("data-source", "DataSourceSettings", "Data source"),
    ("data-service", "DataServiceSettings", "Data service"),
    ("export", "ExportSettings", "Export"),
    ("export-delta", "ExportDeltaSettings", "Export delta"),
)
EXECUTION_MODES = {
    "environment_variables": "Environment variables",
    "command_line_arguments": "Command line arguments",
}
COMMAND = "python"
HEALTH_CHECK = "--health-check"
VERSION_CONTROL = "this repository (Dockerfile at its root)"
# The sample handlers send every column; the channel keys products on `id` and needs a `title`.
CHANNEL_TEMPLATE_COLUMNS = ("id", "title")
OPTION_HEADER = ("Command option", "Field type", "Required", "Default", "Description", "Field config")
SETTING_HEADER = ("Setting", "Value")


def cell(value: object) -> str:
    """Text that stays inside one Markdown table cell: pipes escaped, line breaks as <br>."""
    text = str(value).replace("\r\n", "\n").replace("\r", "\n").strip()
    return text.replace("|", "\\|").replace("\n", "<br>")


def code(value: str) -> str:
    return f"`{value}`" if value else ""


def table(header: Sequence[str], rows: Iterable[Sequence[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(cell(value) for value in row) + " |" for row in rows]
    return lines


def option_row(declared: Option) -> tuple[str, ...]:
    return (
        code(declared.name),
        declared.field_type,
        "yes" if declared.required else "no",
        declared.default,
        declared.description,
        code(declared.field_config),
    )


def chosen_modes(module: ModuleType = settings_module) -> list[tuple[str, type[ConnectorSettings], str]]:
    """The modes whose settings class exists in connector/settings.py, in platform order."""
    found = []
    for command, class_name, connector_type in MODES:
        settings_class = getattr(module, class_name, None)
        if isinstance(settings_class, type) and issubclass(settings_class, ConnectorSettings):
            found.append((command, settings_class, connector_type))
    return found


def yes_no(flag: object) -> str:
    return "yes" if flag else "no"


def mode_section(
    command: str,
    settings_class: type[ConnectorSettings],
    connector_type: str,
    module: ModuleType = settings_module,
) -> list[str]:
    execution_mode = settings_class.execution_mode
    lines = [f"## Mode `{command}`", ""]
    lines += table(
        SETTING_HEADER,
        [
            ("Connector type", connector_type),
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
    if command == "data-service":
        lines += ["", "### Data service configuration", ""]
        lines += table(
            SETTING_HEADER,
            [
                ("Service type", str(getattr(module, "DATA_SERVICE_TYPE", ""))),
                ("Stage", str(getattr(module, "DATA_SERVICE_STAGE", ""))),
                ("Column prefix", code(str(getattr(module, "COLUMN_PREFIX", "")))),
                ("Max usage", str(getattr(module, "MAX_USAGE", ""))),
            ],
        )
    if command in ("export", "export-delta"):
        delta = command == "export-delta"
        delta_key = str(getattr(module, "DELTA_KEY", "")) if delta else ""
        columns = list(CHANNEL_TEMPLATE_COLUMNS)
        if delta_key and delta_key not in columns:
            columns.append(delta_key)
        rows = [
            ("Channel template columns", ", ".join(code(column) for column in columns)),
            ("Feedback file", "enabled" if getattr(module, "FEEDBACK_FILE", False) else "disabled"),
            ("Feedback rows for accepted products", yes_no(getattr(module, "FEEDBACK_SUCCESSES", False))),
            ("Delta channel", yes_no(delta)),
        ]
        if delta:
            rows.append(("Delta key", code(delta_key)))
        lines += ["", "### Export configuration", ""]
        lines += table(SETTING_HEADER, rows)
    return lines


def render(module: ModuleType = settings_module) -> str:
    """The Dev-portal settings of every mode this connector ships, as Markdown."""
    lines = [
        "# Dev portal settings",
        "",
        "One Dev-portal connector per mode; enter these values (docs/dev-portal.md walks through it).",
    ]
    for command, settings_class, connector_type in chosen_modes(module):
        lines += ["", *mode_section(command, settings_class, connector_type, module)]
    return "\n".join(lines)
