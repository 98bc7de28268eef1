"""How Dev-portal "individual configurations" become typed settings.

The declarations themselves live in `connector/settings.py`; this module holds the
machinery they share, so that file stays a plain list of options.
"""

from __future__ import annotations

import argparse
import json
import os
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Literal, get_args

from pydantic import Field, SecretStr, ValidationInfo, field_validator
from pydantic.fields import FieldInfo
from pydantic_core import PydanticCustomError
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
    if field_type not in get_args(FieldType):
        known = ", ".join(get_args(FieldType))
        raise TypeError(
            f"option {name}: {field_type!r} is not a Dev-portal field type; use one of {known}"
        )
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


def clean_options(declared: Sequence[Option], raw: Mapping[str, str | None]) -> dict[str, Any]:
    """The values the portal passed, as the settings take them.

    - Surrounding whitespace is dropped (values pasted into the portal often carry a line break).
    - An empty value is no value: a required option left empty is reported as not set, an
      optional one takes its default.
    - A checkbox is checked when its value is `1` and unchecked otherwise (the portal sends
      `1`/`0`; an empty value is unchecked too), so a checkbox never fails a run.
    Options the settings do not declare are left out: the portal may know an option before the
    code does.
    """
    values: dict[str, Any] = {}
    for option in declared:
        value = raw.get(option.name)
        if value is None:
            continue
        value = value.strip()
        if option.field_type == "checkbox":
            values[option.name] = value == "1"
        elif value:
            values[option.name] = value
    return values


def has_control_characters(value: str) -> bool:
    return any(unicodedata.category(char) == "Cc" for char in value)


class _Options(PydanticBaseSettingsSource):
    """Settings source: the declared options from a mapping (the environment), cleaned."""

    def __init__(self, settings_cls: type[BaseSettings], raw: Mapping[str, str]) -> None:
        super().__init__(settings_cls)
        self.raw = raw

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False  # unused: __call__ reads all options at once

    def __call__(self) -> dict[str, Any]:
        declared = [m for f in self.settings_cls.model_fields.values() for m in f.metadata]
        return clean_options([m for m in declared if isinstance(m, Option)], self.raw)


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
        return (init_settings, _Options(settings_cls, os.environ))

    @classmethod
    def _declared(cls, info: ValidationInfo) -> Option | None:
        field = cls.model_fields.get(info.field_name or "")
        declared = [m for m in field.metadata if isinstance(m, Option)] if field else []
        return declared[0] if declared else None

    @field_validator("*", mode="before")
    @classmethod
    def _refuse_control_characters(cls, value: Any, info: ValidationInfo) -> Any:
        """A password still holding a line break or tab after trimming cannot be meant."""
        declared = cls._declared(info)
        is_password = declared is not None and declared.field_type == "password"
        if is_password and isinstance(value, str) and has_control_characters(value):
            # The message names no value: this is a secret.
            raise ValueError(
                "it holds control characters (a line break or tab pasted with it?); "
                "enter the value again without them"
            )
        return value

    @field_validator("*", mode="before")
    @classmethod
    def _keep_selects_to_their_choices(cls, value: Any, info: ValidationInfo) -> Any:
        """Selects read the same whatever their annotation says.

        The generated fields are `Literal[...]` and, for select_multiple, a list that splits
        comma-separated text; a field added by hand as plain `str` or `list[str]` gets the
        same splitting and the same check against its choices here.
        """
        declared = cls._declared(info)
        if declared is None or declared.field_type not in ("select", "select_multiple"):
            return value
        if declared.field_type == "select_multiple":
            value = split_list(value)
        chosen = value if isinstance(value, list) else [value]
        if declared.choices and any(
            isinstance(item, str) and item not in declared.choices for item in chosen
        ):
            *others, last = [repr(choice) for choice in declared.choices]
            expected = f"{', '.join(others)} or {last}" if others else last
            # The same error as a Literal field's, so the message names the accepted values.
            raise PydanticCustomError(
                "literal_error", "Input should be {expected}", {"expected": expected}
            )
        return value

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        """Refuse a password option whose value would not be a SecretStr: only those are masked."""
        super().__pydantic_init_subclass__(**kwargs)
        for field_name, field in cls.model_fields.items():
            passwords = [
                d for d in field.metadata if isinstance(d, Option) and d.field_type == "password"
            ]
            if passwords and SecretStr not in (field.annotation, *get_args(field.annotation)):
                raise TypeError(
                    f"option {passwords[0].name} is a password: annotate {cls.__name__}."
                    f"{field_name} as SecretStr, so its value is masked in every output"
                )

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
        """Read the options from the environment, or from `--NAME value` arguments.

        Arguments must name an option exactly (no abbreviations); `--NAME=-value` passes a
        value that starts with `-`. Unknown arguments are left for the caller to report.
        """
        if cls.execution_mode == "environment_variables":
            return cls()
        parser = argparse.ArgumentParser(add_help=False, allow_abbrev=False, exit_on_error=False)
        for declared in cls.options():
            parser.add_argument(f"--{declared.name}", dest=declared.name, default=None)
        parsed, _unknown = parser.parse_known_args(list(arguments))
        return cls(**clean_options(cls.options(), vars(parsed)))

    def secret_values(self) -> list[str]:
        """Values of password options, for redaction wherever text leaves the process."""
        values = []
        for name in type(self).model_fields:
            value = getattr(self, name)
            if isinstance(value, SecretStr) and value.get_secret_value():
                values.append(value.get_secret_value())
        return values
