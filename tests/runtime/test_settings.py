"""Specification of how Dev-portal options become settings, in both execution modes.

A generated repo uses one execution mode, but every repo tests both: the classes below set
`execution_mode` themselves, so the option machinery is proven whichever mode was chosen.
"""

from __future__ import annotations

from typing import Annotated, ClassVar, Literal

import pytest
from cde_runtime.cli import settings_error_message
from cde_runtime.options import ConnectorSettings, ExecutionMode, option, split_list
from connector.modes import MODES
from connector.settings import EXECUTION_MODE
from pydantic import BeforeValidator, SecretStr, ValidationError
from pydantic_settings import NoDecode


class EnvSettings(ConnectorSettings):
    execution_mode: ClassVar[ExecutionMode] = "environment_variables"

    name: str = option("NAME", "input", required=True)
    should_fail: bool = option("SHOULD_FAIL", "checkbox", default="0")
    token: SecretStr = option("API_TOKEN", "password")
    region: Literal["eu", "us"] = option("REGION", "select", default="eu", choices=["eu", "us"])
    markets: Annotated[list[Literal["de", "fr", "it"]], NoDecode, BeforeValidator(split_list)] = (
        option("MARKETS", "select_multiple", choices=["de", "fr", "it"])
    )


class CliSettings(EnvSettings):
    execution_mode: ClassVar[ExecutionMode] = "command_line_arguments"


BOTH = [EnvSettings, CliSettings]


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("NAME", "SHOULD_FAIL", "API_TOKEN", "REGION", "MARKETS"):
        monkeypatch.delenv(name, raising=False)


def load(
    settings: type[EnvSettings], monkeypatch: pytest.MonkeyPatch, **options: str
) -> EnvSettings:
    """Pass `options` the way the class's execution mode receives them."""
    if settings.execution_mode == "environment_variables":
        for name, value in options.items():
            monkeypatch.setenv(name, value)
        loaded = settings.load([])
    else:
        loaded = settings.load([f"--{name}={value}" for name, value in options.items()])
    assert isinstance(loaded, EnvSettings)
    return loaded


@pytest.mark.parametrize("settings", BOTH)
def test_options_are_read_in_the_classs_execution_mode(
    settings: type[EnvSettings], monkeypatch: pytest.MonkeyPatch
) -> None:
    loaded = load(settings, monkeypatch, NAME="Ada", REGION="us")
    assert (loaded.name, loaded.region) == ("Ada", "us")


def test_command_line_options_accept_a_separate_value() -> None:
    loaded = CliSettings.load(["--NAME", "Ada", "--REGION", "us"])
    assert isinstance(loaded, CliSettings)
    assert (loaded.name, loaded.region) == ("Ada", "us")


def test_command_line_mode_ignores_environment_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NAME", "from the shell")
    with pytest.raises(ValidationError):
        CliSettings.load([])


@pytest.mark.parametrize("settings", BOTH)
@pytest.mark.parametrize(("value", "expected"), [("1", True), ("0", False)])
def test_a_checkbox_arrives_as_1_or_0_and_becomes_a_bool(
    settings: type[EnvSettings], value: str, expected: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert load(settings, monkeypatch, NAME="x", SHOULD_FAIL=value).should_fail is expected


@pytest.mark.parametrize("settings", BOTH)
def test_an_unchecked_checkbox_takes_its_default(
    settings: type[EnvSettings], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert load(settings, monkeypatch, NAME="x").should_fail is False


@pytest.mark.parametrize("settings", BOTH)
@pytest.mark.parametrize("value", ['["de", "it"]', "de, it", "de,it"])
def test_select_multiple_accepts_a_json_array_or_a_comma_list(
    settings: type[EnvSettings], value: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert load(settings, monkeypatch, NAME="x", MARKETS=value).markets == ["de", "it"]


@pytest.mark.parametrize("settings", BOTH)
def test_a_password_is_a_secret_that_never_shows_in_repr(
    settings: type[EnvSettings], monkeypatch: pytest.MonkeyPatch
) -> None:
    loaded = load(settings, monkeypatch, NAME="x", API_TOKEN="tok-9f8e7d")
    assert loaded.token.get_secret_value() == "tok-9f8e7d"
    assert "tok-9f8e7d" not in repr(loaded)
    assert loaded.secret_values() == ["tok-9f8e7d"]


@pytest.mark.parametrize(
    ("settings", "where"),
    [(EnvSettings, "(environment variable NAME)"), (CliSettings, "(argument --NAME)")],
)
def test_a_missing_required_option_is_named_with_where_to_set_it(
    settings: type[EnvSettings], where: str
) -> None:
    with pytest.raises(ValidationError) as error:
        settings.load([])
    message = settings_error_message(error.value, settings)
    assert "\n" not in message
    assert "option NAME is required" in message
    assert message.endswith(f"set it under Individual configurations in the Dev portal {where}.")


@pytest.mark.parametrize("settings", BOTH)
def test_an_invalid_value_is_named_without_echoing_it(
    settings: type[EnvSettings], monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(ValidationError) as error:
        load(settings, monkeypatch, NAME="x", REGION="secret-looking-value")
    message = settings_error_message(error.value, settings)
    assert "option REGION is invalid" in message
    assert "secret-looking-value" not in message


def test_several_problems_still_make_one_line() -> None:
    with pytest.raises(ValidationError) as error:
        CliSettings.load(["--REGION=mars"])
    message = settings_error_message(error.value, CliSettings)
    assert "\n" not in message
    assert "NAME" in message
    assert "REGION" in message
    assert "(arguments --NAME, --REGION)" in message


@pytest.mark.parametrize("mode", list(MODES))
def test_every_mode_reads_options_in_the_execution_mode_chosen_for_this_connector(
    mode: str,
) -> None:
    assert MODES[mode].settings.execution_mode == EXECUTION_MODE


class HandWrittenSettings(ConnectorSettings):
    """Selects added by hand with plain annotations, as an author may write them."""

    execution_mode: ClassVar[ExecutionMode] = "environment_variables"

    region: str = option("REGION", "select", default="eu", choices=["eu", "us", "asia"])
    markets: list[str] = option("MARKETS", "select_multiple", choices=["de", "fr", "it"])


@pytest.mark.parametrize("value", ['["de", "it"]', "de, it", "de,it"])
def test_a_select_multiple_typed_list_of_str_splits_like_the_generated_fields(
    value: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MARKETS", value)
    loaded = HandWrittenSettings.load([])
    assert isinstance(loaded, HandWrittenSettings)
    assert loaded.markets == ["de", "it"]


@pytest.mark.parametrize(
    ("name", "value", "accepted"),
    [
        ("REGION", "mars", "'eu', 'us' or 'asia'"),
        ("MARKETS", "de,xx", "'de', 'fr' or 'it'"),
    ],
)
def test_hand_written_selects_keep_to_their_choices(
    name: str, value: str, accepted: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ValidationError) as error:
        HandWrittenSettings.load([])
    message = settings_error_message(error.value, HandWrittenSettings)
    assert f"option {name} is invalid (accepted values: {accepted})" in message
    assert value not in message


def test_a_broken_json_list_is_a_configuration_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MARKETS", '["de"')
    with pytest.raises(ValidationError) as error:
        HandWrittenSettings.load([])
    assert "option MARKETS is invalid" in settings_error_message(error.value, HandWrittenSettings)
