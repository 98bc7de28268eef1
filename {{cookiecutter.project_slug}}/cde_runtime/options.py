"""How Dev-portal "individual configurations" become typed settings.

The declarations themselves live in `connector/settings.py`; this module holds the
machinery they share, so that file stays a plain list of options.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Literal

from pydantic import Field, SecretStr
from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

ExecutionMode = Literal["environment_variables", "command_line_arguments"]
FieldType = Literal[
    "input",
    "textarea",
    "password",
    "checkbox",
    "select",
    "select_multiple",
    "stage_columns_dropdown",
]


@dataclass(frozen=True)
class Option:
    """One individual configuration, as it is entered in the Dev portal."""

    name: str
    field_type: FieldType
    required: bool
    default: str
    description: str
    choices: tuple[str, ...] = ()

    @property
    def field_config(self) -> str:
        """The JSON the portal wants in "Field config" for selects, else empty."""
        if not self.choices:
            return ""
        options = [{"label": c, "value": c} for c in self.choices]
        # Unicode as it is (docs/dev-portal.md writes the same JSON from the template).
        return json.dumps({"options": options}, ensure_ascii=False)


def option(
    name: str,
    field_type: FieldType,
    *,
    required: bool = False,
    default: str = "",
    description: str = "",
    choices: Sequence[str] = (),
) -> Any:
    """Declare a settings field read from the option `name` (env var or `--name`)."""
    declared = Option(name, field_type, required, default, description, tuple(choices))
    info: FieldInfo = Field(
        default=... if required else python_default(declared),
        alias=name,
        description=description,
    )
    # Kept on the field so `describe` and the docs come from this one declaration.
    info.metadata.append(declared)
    return info


def python_default(declared: Option) -> Any:
    """The value an optional option takes when the portal passes nothing."""
    if declared.field_type == "checkbox":
        return declared.default == "1"
    if declared.field_type == "password":
        return SecretStr(declared.default)
    if declared.field_type == "select_multiple":
        return split_list(declared.default)
    if declared.field_type == "select":
        return declared.default or None
    return declared.default


def split_list(value: Any) -> Any:
    """select_multiple values arrive as a JSON array or as comma-separated text."""
    if not isinstance(value, str):
        return value
    text = value.strip()
    if text.startswith("["):
        return json.loads(text)
    return [item.strip() for item in text.split(",") if item.strip()]


class ConnectorSettings(BaseSettings):
    """Base class of every mode's settings; reads options the way the portal passes them."""

    model_config = SettingsConfigDict(case_sensitive=True, extra="ignore", frozen=True)
    execution_mode: ClassVar[ExecutionMode] = "environment_variables"

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # Command-line connectors get their options as arguments only (see `load`);
        # reading stray environment variables too would hide a misconfigured portal.
        if cls.execution_mode == "command_line_arguments":
            return (init_settings,)
        return (init_settings, env_settings)

    @classmethod
    def options(cls) -> list[Option]:
        """The declared options, in declaration order."""
        return [
            meta
            for field in cls.model_fields.values()
            for meta in field.metadata
            if isinstance(meta, Option)
        ]

    @classmethod
    def load(cls, arguments: Sequence[str] = ()) -> ConnectorSettings:
        """Read the options from the environment, or from `--NAME value` arguments."""
        if cls.execution_mode == "environment_variables":
            return cls()
        parser = argparse.ArgumentParser(add_help=False, allow_abbrev=False, exit_on_error=False)
        for declared in cls.options():
            parser.add_argument(f"--{declared.name}", dest=declared.name, default=None)
        parsed, _unknown = parser.parse_known_args(list(arguments))
        given = {name: value for name, value in vars(parsed).items() if value is not None}
        return cls(**given)

    def secret_values(self) -> list[str]:
        """Values of password options, for redaction wherever text leaves the process."""
        values = []
        for name in type(self).model_fields:
            value = getattr(self, name)
            if isinstance(value, SecretStr) and value.get_secret_value():
                values.append(value.get_secret_value())
        return values
