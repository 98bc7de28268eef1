"""Everything the Dev portal is told about this connector, declared once.

Each mode reads its "individual configurations" into a typed settings class. The
option name is the key the portal passes at run time ({% if cookiecutter.execution_mode == "environment_variables" %}as an environment variable{% else %}as a `--NAME value` argument{% endif %}).
Each option is the attribute of the same name in capitals, `-` read as `_` (FEED_URL →
`settings.FEED_URL`): capitals cannot clash with Python, pydantic or the runtime, whose names
all contain lowercase letters, so any option name the portal accepts is safe here.
`python main.py describe` and docs/dev-portal.md are produced from these declarations.
To add an option: add a field here, then enter it in the portal (see docs/dev-portal.md).
"""
{#- A Python string literal holding any Unicode as typed, quoted the way ruff format quotes it. -#}
{%- macro py_string(value) -%}
{%- set text = (value | string).replace("\\", "\\\\").replace("\n", "\\n").replace("\r", "\\r").replace("\t", "\\t") -%}
{{ ("'" ~ text ~ "'") if ('"' in text and "'" not in text) else ('"' ~ text.replace('"', '\\"') ~ '"') }}
{%- endmacro %}
{%- set ns = namespace(any=false, literal=false, multi=false, secret=false) %}
{%- for mode in ["data_source", "data_service", "export", "export_delta"] if cookiecutter["mode_" ~ mode] %}
{%- for name, spec in cookiecutter[mode ~ "_options"].items() if spec is not none %}
{%- if spec.get("type") in ["select", "select_multiple"] %}{% set ns.literal = true %}{% endif %}
{%- if spec.get("type") == "select_multiple" %}{% set ns.multi = true %}{% endif %}
{%- set ns.any = true %}
{%- if spec.get("type") == "password" %}{% set ns.secret = true %}{% endif %}
{%- endfor %}
{%- endfor %}

from typing import {% if ns.multi %}Annotated, {% endif %}ClassVar{% if ns.literal %}, Literal{% endif %}

from cde_runtime.options import ConnectorSettings, ExecutionMode{% if ns.any %}, option{% endif %}{% if ns.multi %}, split_list{% endif %}
{%- if ns.multi %}
from pydantic import BeforeValidator{% if ns.secret %}, SecretStr{% endif %}
from pydantic_settings import NoDecode
{%- elif ns.secret %}
from pydantic import SecretStr
{%- endif %}

# How the portal passes options at run time; chosen when the connector is created.
EXECUTION_MODE: ExecutionMode = {{ cookiecutter.execution_mode | tojson }}
# Execution configuration: the Container API version constraint, e.g. "^1.2" ("" keeps the
# portal's default, the newest). The runtime reads the input type `input` and falls back to
# `full`, the only name older versions know.
CONTAINER_API_VERSION_CONSTRAINT = ""
# Authentication and secrets. Authentication registrations name platform providers whose fields
# reach the connector as PUP_AUTH_<FIELD> variables (--pup-auth-<field> arguments); secret
# registrations name vault paths (docs/dev-portal.md). The example handlers need neither.
AUTHENTICATIONS: tuple[str, ...] = ()
SECRETS: tuple[str, ...] = ()
{%- if cookiecutter.mode_data_source %}

# Data source configuration: the marketplace categories the data source is listed under (Most
# popular, Shopping platform, Shop systems, Cloud services, PIM / PMS, Tracking systems, Custom
# import, Orders, Miscellaneous).
CATEGORIES = ("Custom import",)
{%- endif %}
{%- if cookiecutter.mode_data_service %}

# Data service configuration in the Dev portal.
DATA_SERVICE_TYPE = {{ cookiecutter.data_service_type | tojson }}
DATA_SERVICE_STAGE = {{ cookiecutter.data_service_stage | tojson }}
# The platform prefixes the columns a data service adds; three underscores, then letters.
COLUMN_PREFIX = {{ cookiecutter.data_service_column_prefix | string | tojson }}
MAX_USAGE = {{ cookiecutter.data_service_max_usage | int }}
{%- endif %}
{%- if cookiecutter.mode_export or cookiecutter.mode_export_delta %}

# Export configuration in the Dev portal.
FEEDBACK_FILE = {{ "True" if cookiecutter.export_feedback_file in [true, "true", "yes", "y", "1"] else "False" }}
FEEDBACK_SUCCESSES = {{ "True" if cookiecutter.export_feedback_successes in [true, "true", "yes", "y", "1"] else "False" }}
# Feedback file connection columns: the site's column (source) and the feedback rows' column
# (target) that match a feedback row to its product.
FEEDBACK_SOURCE_COLUMN = "id"
FEEDBACK_TARGET_COLUMN = "id"
# Whether the channel uses category-specific attributes (input reads may then be filtered by
# classification id, docs/container-api.md §3.14).
CATEGORY_SPECIFIC_ATTRIBUTES = False
{%- endif %}
{%- if cookiecutter.mode_export_delta %}
DELTA_KEY = {{ py_string(cookiecutter.export_delta_key) }}
{%- endif %}
{%- for mode, title in [("data_source", "DataSource"), ("data_service", "DataService"), ("export", "Export"), ("export_delta", "ExportDelta")] if cookiecutter["mode_" ~ mode] %}


class {{ title }}Settings(ConnectorSettings):
    """Individual configurations of the {{ mode | replace("_", "-") }} mode."""

    execution_mode: ClassVar[ExecutionMode] = EXECUTION_MODE
{%- for name, spec in cookiecutter[mode ~ "_options"].items() if spec is not none %}
{%- set field_type = spec.get("type", "input") %}
{%- set required = spec.get("required", false) %}
{%- set default = spec.get("default", "") | string %}
{%- set choices = spec.get("choices") or [] %}
{%- set quoted = [] %}
{%- for choice in choices %}{% set _ = quoted.append(py_string(choice)) %}{% endfor %}
{%- set literal = "Literal[" ~ (quoted | join(", ")) ~ "]" %}
{%- if field_type == "checkbox" %}{% set python_type = "bool" %}
{%- elif field_type == "password" %}{% set python_type = "SecretStr" %}
{%- elif field_type == "select" %}{% set python_type = literal if (required or default) else literal ~ " | None" %}
{%- elif field_type == "select_multiple" %}{% set python_type = "Annotated[list[" ~ literal ~ "], NoDecode, BeforeValidator(split_list)]" %}
{%- else %}{% set python_type = "str" %}
{%- endif %}
    {{ name | upper | replace("-", "_") }}: {{ python_type }} = option(
        {{ name | tojson }},
        {{ field_type | tojson }},
{%- if required %}
        required=True,
{%- endif %}
{%- if default %}
        default={{ py_string(default) }},
{%- endif %}
{%- if spec.get("description", "") | string %}
        description={{ py_string(spec.get("description")) }},
{%- endif %}
{%- if choices %}
        choices=[{{ quoted | join(", ") }}],
{%- endif %}
    )
{%- else %}
    # No options declared: add fields with `option(...)` as the other modes do.
{%- endfor %}
{%- endfor %}
