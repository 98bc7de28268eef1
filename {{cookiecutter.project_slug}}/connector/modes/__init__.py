"""The modes this connector offers: `python main.py <name>` runs `run(settings, api)`.

Each handler lives in its own module and takes its settings class from `connector/settings.py`.
To add a mode, add a module with a `run` function and a line below.
"""

from __future__ import annotations

from typing import Any

from cde_runtime import Mode

from connector import settings
from connector.modes import {% for mode in ["data_service", "data_source", "export", "export_delta"] if cookiecutter["mode_" ~ mode] %}{{ mode }}{{ ", " if not loop.last else "" }}{% endfor %}

CHOSEN: list[Mode[Any]] = [
{%- if cookiecutter.mode_data_source %}
    Mode(
        "data-source",
        settings.DataSourceSettings,
        data_source.run,
        "Import products into the platform.",
    ),
{%- endif %}
{%- if cookiecutter.mode_data_service %}
    Mode(
        "data-service",
        settings.DataServiceSettings,
        data_service.run,
        "Rewrite the products already on the platform.",
    ),
{%- endif %}
{%- if cookiecutter.mode_export %}
    Mode(
        "export",
        settings.ExportSettings,
        export.run,
        "Send all products to the channel and write feedback.",
    ),
{%- endif %}
{%- if cookiecutter.mode_export_delta %}
    Mode(
        "export-delta",
        settings.ExportDeltaSettings,
        export_delta.run,
        "Send new, modified and deleted products to the channel.",
    ),
{%- endif %}
]
MODES = {mode.name: mode for mode in CHOSEN}
