"""Specification of a run's edges: runtime variables, failures, logging level, masking, arguments.

The modes here are made up for the tests (in both execution modes), so the runtime is proven
whatever modes and options this connector declares.
"""

from __future__ import annotations

import base64
import json
import logging
import os
import signal
import sys
import time
from collections.abc import Callable
from typing import Any, ClassVar
from urllib.parse import quote

import pytest
from cde_runtime import ConnectorSettings, ContainerApi, ExecutionMode, Mode, cli, option, redaction
from cde_runtime.environment import RuntimeEnvironmentError, load_environment
from cde_runtime.testing import EmulatorFactory
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import SecretStr

from tests.runtime.test_redaction import SECRET_CHARS

SECRET = "canary-Pa55'w\"0rd%41"

log = logging.getLogger("tests.run")
Handler = Callable[[Any, ContainerApi], None]


class EnvOptions(ConnectorSettings):
    execution_mode: ClassVar[ExecutionMode] = "environment_variables"

    NAME: str = option("NAME", "input", required=True)
    TOKEN: SecretStr = option("TOKEN", "password")
    VERBOSE: bool = option("VERBOSE", "checkbox", default="1")


class CliOptions(EnvOptions):
    execution_mode: ClassVar[ExecutionMode] = "command_line_arguments"


@pytest.fixture(autouse=True)
def isolated(monkeypatch: pytest.MonkeyPatch) -> None:
    # Secrets registered by one test's run must not mask another test's output.
    monkeypatch.setattr(redaction, "_active", redaction.Redactor())
    for name in ("NAME", "TOKEN", "VERBOSE", "LOG_LEVEL", "CDE_LOCAL_RUN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("CONTAINER_API_MAX_ATTEMPTS", "1")


def run(
    handler: Handler,
    *arguments: str,
    settings: type[EnvOptions] = EnvOptions,
) -> int:
    mode = Mode("try", settings, handler, "A mode made up for the tests.")
    return cli.main({"try": mode}, ["try", *arguments])


@pytest.fixture
def api_url(emulator: EmulatorFactory, monkeypatch: pytest.MonkeyPatch) -> Any:
    emu = emulator(input=[])
    monkeypatch.setenv("CONTAINER_API_URL", emu.url)
    return emu


# -- failures ----------------------------------------------------------------------------------


def test_an_unexpected_exception_prints_its_masked_traceback_then_one_line(
    api_url: Any, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("NAME", "x")
    monkeypatch.setenv("TOKEN", SECRET)

    def buggy(settings: Any, api: ContainerApi) -> None:
        row: dict[str, str] = {"token": settings.TOKEN.get_secret_value()}
        raise KeyError(f"sku missing in {row!r}")

    assert run(buggy) == 1
    err = capsys.readouterr().err
    assert "Traceback (most recent call last)" in err
    assert 'in buggy\n    raise KeyError(f"sku missing in {row!r}")' in err
    assert err.splitlines()[-1].startswith("Run failed: unexpected KeyError: ")
    assert SECRET not in err
    assert repr(SECRET)[1:-1] not in err


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_stop_signal_ends_the_run_with_one_line_and_its_exit_code(
    stop: signal.Signals, api_url: Any, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    # The platform stops a container with SIGTERM: Python's default would end the process
    # without a word (and without writing the feedback recorded so far).
    monkeypatch.setenv("NAME", "x")
    before = signal.getsignal(stop)
    unwound: list[str] = []

    def stopped_midway(settings: Any, api: ContainerApi) -> None:
        try:
            os.kill(os.getpid(), stop)
            time.sleep(5)  # the signal interrupts this at once
        except Exception:  # a handler's catch-all must not swallow the stop
            unwound.append("swallowed")
        finally:
            unwound.append("finally")

    assert run(stopped_midway) == 128 + stop
    err = capsys.readouterr().err
    assert err.splitlines() == [f"Run failed: stopped by {stop.name} before the run finished"]
    assert unwound == ["finally"]
    assert signal.getsignal(stop) == before  # the run's handlers are gone with the run


def test_a_run_forgets_its_secrets_when_it_ends(
    api_url: Any, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # Runs in one process (the fault matrix runs hundreds) start with no secrets but their own.
    monkeypatch.setenv("NAME", "x")
    monkeypatch.setenv("TOKEN", SECRET)
    seen: list[tuple[str, ...]] = []
    assert run(lambda settings, api: seen.append(redaction.active().secrets)) == 0
    assert seen == [(SECRET,)]
    assert redaction.active().secrets == ()


def test_a_handlers_print_is_masked_on_stdout(
    api_url: Any, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("NAME", "x")
    monkeypatch.setenv("TOKEN", SECRET)

    def chatty(settings: Any, api: ContainerApi) -> None:
        print("token is", settings.TOKEN.get_secret_value())
        print("quoted", repr(settings.TOKEN.get_secret_value()))

    assert run(chatty) == 0
    out = capsys.readouterr().out
    assert out == "token is *****\nquoted '*****'\n"


@pytest.mark.parametrize(
    ("variable", "value", "accepted"),
    [
        ("CONTAINER_API_MAX_ATTEMPTS", "abc", "a whole number from 1 to 20"),
        ("CONTAINER_API_MAX_ATTEMPTS", "0", "a whole number from 1 to 20"),
        ("CONTAINER_API_READ_TIMEOUT", "-1", "a number of seconds greater than 0"),
        ("CONTAINER_API_BACKOFF", "-0.5", "a number of seconds from 0 to 60"),
        ("CONTAINER_API_BACKOFF", "soon", "a number of seconds from 0 to 60"),
        ("CONTAINER_API_URL", "cde-container-api:80", "an http:// or https:// URL"),
        ("CONTAINER_API_URL", "http://host:port", "an http:// or https:// URL"),
        ("CONTAINER_API_MAX_WRITE_BYTES", "10", "at least 1024"),
        ("LOG_LEVEL", "loud", "debug, info, warning or error"),
    ],
)
def test_a_bad_runtime_variable_fails_with_one_line_naming_it(
    variable: str,
    value: str,
    accepted: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv(variable, value)
    assert run(lambda settings, api: None) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1, err
    assert err.startswith(f"Runtime variable {variable}=")
    assert accepted in err


def test_each_bad_runtime_variable_gets_its_own_line() -> None:
    with pytest.raises(RuntimeEnvironmentError) as caught:
        load_environment({"CONTAINER_API_MAX_ATTEMPTS": "x", "LOG_LEVEL": "x"})
    lines = str(caught.value).splitlines()
    assert [line.split("=")[0] for line in lines] == [
        "Runtime variable CONTAINER_API_MAX_ATTEMPTS",
        "Runtime variable LOG_LEVEL",
    ]


def test_runtime_variables_mask_credentials_in_their_error_line() -> None:
    with pytest.raises(RuntimeEnvironmentError, match="invalid") as caught:
        load_environment({"CONTAINER_API_URL": "ftp://user:hunter22@host"})
    assert "hunter22" not in str(caught.value)


def test_empty_runtime_variables_take_their_defaults() -> None:
    environment = load_environment({"CONTAINER_API_MAX_ATTEMPTS": "", "LOG_LEVEL": " "})
    assert (environment.max_attempts, environment.log_level) == (5, "info")


def test_the_retry_backoff_reaches_the_container_api_client(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    seen: dict[str, Any] = {}
    real = ContainerApi

    def recording(*args: Any, **kwargs: Any) -> ContainerApi:
        seen.update(kwargs)
        return real(*args, **kwargs)

    monkeypatch.setattr(cli, "ContainerApi", recording)
    assert load_environment({}).backoff == 0.5
    cli.connect(load_environment({"CONTAINER_API_BACKOFF": "0"})).close()
    assert seen["backoff"] == 0


def test_an_unreachable_api_at_the_default_address_says_how_to_run_locally() -> None:
    hint = cli.local_hint(load_environment({}))
    assert "python3 dev.py run <mode>" in hint
    assert cli.local_hint(load_environment({"CONTAINER_API_URL": "http://127.0.0.1:9"})) == ""


def test_a_configuration_error_does_not_wait_for_log_retries(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    attempts: list[int] = []
    real = ContainerApi

    def recording(*args: Any, **kwargs: Any) -> ContainerApi:
        attempts.append(kwargs["max_attempts"])
        return real(*args, **kwargs)

    monkeypatch.setattr(cli, "ContainerApi", recording)
    monkeypatch.setenv("CONTAINER_API_MAX_ATTEMPTS", "5")
    monkeypatch.setenv("CONTAINER_API_URL", "http://127.0.0.1:9")
    assert run(lambda settings, api: None) == 1
    assert attempts == [1]  # one try to copy the line to the portal's log view, no retries
    assert capsys.readouterr().err.startswith("Configuration error: option NAME is required")


# -- options -----------------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["", "   ", "\r\n"])
def test_an_empty_required_option_is_reported_as_not_set(
    value: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("CONTAINER_API_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("NAME", value)
    assert run(lambda settings, api: None) == 1
    assert "option NAME is required but not set" in capsys.readouterr().err


@pytest.mark.parametrize("settings", [EnvOptions, CliOptions])
def test_a_password_with_control_characters_is_refused_without_showing_it(
    settings: type[EnvOptions], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("CONTAINER_API_URL", "http://127.0.0.1:9")
    bad = "abc\r\ndef-" + SECRET
    if settings is EnvOptions:
        monkeypatch.setenv("NAME", "x")
        monkeypatch.setenv("TOKEN", bad)
        code = run(lambda s, api: None)
    else:
        code = run(lambda s, api: None, "--NAME=x", f"--TOKEN={bad}", settings=CliOptions)
    assert code == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "option TOKEN is invalid" in err
    assert "control characters" in err
    assert "def-" not in err
    assert SECRET not in err


def test_log_level_debug_sends_debug_lines_to_the_portal(
    api_url: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NAME", "x")

    def talk(settings: Any, api: ContainerApi) -> None:
        log.debug("details for a local run")
        log.info("always")

    assert run(talk) == 0
    monkeypatch.setenv("LOG_LEVEL", "DEBUG")
    assert run(talk) == 0
    messages = [line["message"] for line in api_url.logs()]
    assert messages == ["always", "details for a local run", "always"]


# -- command-line execution mode -----------------------------------------------------------------


def test_a_value_starting_with_a_dash_is_passed_with_equals(api_url: Any) -> None:
    seen: list[Any] = []
    assert run(lambda s, api: seen.append(s), "--NAME=-x-", settings=CliOptions) == 0
    assert seen[0].NAME == "-x-"


def test_an_abbreviated_option_name_is_not_taken_for_the_option(
    api_url: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(lambda s, api: None, "--NAM=Ada", settings=CliOptions) == 1
    assert "option NAME is required but not set" in capsys.readouterr().err


def test_an_option_the_code_does_not_declare_is_ignored_with_a_warning(api_url: Any) -> None:
    seen: list[Any] = []
    code = run(
        lambda s, api: seen.append(s),
        "--NAME=Ada",
        "--NEW_PORTAL_OPTION",
        "its value",
        "--OTHER=1",
        settings=CliOptions,
    )
    assert code == 0
    assert seen[0].NAME == "Ada"
    warning = api_url.logs()[0]
    assert warning["level"] == "warning"
    assert "--NEW_PORTAL_OPTION, --OTHER" in warning["message"]
    assert "its value" not in warning["message"]


def test_in_environment_mode_an_unknown_argument_stays_a_usage_error(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert run(lambda s, api: None, "--NAME=Ada") == 2
    assert "unrecognized arguments" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("value", "checked"), [("1", True), (" 1\n", True), ("0", False), ("", False), ("yes", False)]
)
@pytest.mark.parametrize("settings", [EnvOptions, CliOptions])
def test_a_checkbox_is_checked_by_1_only(
    value: str, checked: bool, settings: type[EnvOptions], monkeypatch: pytest.MonkeyPatch
) -> None:
    if settings is EnvOptions:
        monkeypatch.setenv("NAME", "x")
        monkeypatch.setenv("VERBOSE", value)
        loaded = settings.load([])
    else:
        loaded = settings.load(["--NAME=x", f"--VERBOSE={value}"])
    assert isinstance(loaded, EnvOptions)
    assert loaded.VERBOSE is checked


def test_values_are_stripped_of_surrounding_whitespace(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NAME", "  Ada \r\n")
    monkeypatch.setenv("TOKEN", "\t" + SECRET + "\n")
    loaded = EnvOptions.load([])
    assert isinstance(loaded, EnvOptions)
    assert (loaded.NAME, loaded.TOKEN.get_secret_value()) == ("Ada", SECRET)


# -- redaction, end to end -----------------------------------------------------------------------

PASTED_SECRETS = (
    st.text(SECRET_CHARS, min_size=8, max_size=20)
    .map(str.strip)
    .filter(lambda s: len(s) >= 8)
    .flatmap(lambda s: st.sampled_from(["", "\r\n", "\n", " "]).map(lambda pad: (s, pad)))
)


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(secret_and_padding=PASTED_SECRETS)
def test_a_secret_never_leaves_a_run_in_any_output(
    secret_and_padding: tuple[str, str],
    api_url: Any,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    secret, padding = secret_and_padding
    monkeypatch.setattr(redaction, "_active", redaction.Redactor())
    monkeypatch.setenv("NAME", "x")
    monkeypatch.setenv("TOKEN", padding + secret + padding)  # pasted with a line break
    before = len(api_url.logs())

    def leaky(settings: Any, api: ContainerApi) -> None:
        token = settings.TOKEN.get_secret_value()
        print(f"stdout {token} {token!r}")
        print(f"stderr {json.dumps({'t': token})}", file=sys.stderr)
        log.warning("url https://api.example.com/p?q=%s", quote(token, safe=""))
        log.info("basic %s", base64.b64encode(f"user:{token}".encode()).decode())
        log.info("context", extra={"context": {"token": token, "nested": [repr(token)]}})
        raise RuntimeError(f"failed with {token!r}")

    assert run(leaky) == 1
    out, err = capsys.readouterr()
    posted = json.dumps(api_url.logs()[before:], ensure_ascii=False)
    for text in (out, err, posted):
        for form in (secret, repr(secret)[1:-1], quote(secret, safe=""), json.dumps(secret)[1:-1]):
            assert form not in text
    assert "Traceback" in err


def test_a_configuration_error_names_the_arguments_it_ignored(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CONTAINER_API_URL", "http://127.0.0.1:9")
    assert run(lambda s, api: None, "--NAM=Ada", settings=CliOptions) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert err.rstrip().endswith("Arguments not declared by this code were ignored: --NAM.")
