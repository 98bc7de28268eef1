"""Command line: `python main.py <mode> [--health-check] [options]`, `python main.py describe`.

Exit codes (what the platform records for the run):
    0  success
    1  run failed: bad configuration, Container API error, handler failure (one line on stderr;
       an unexpected exception also prints its traceback above that line, secrets masked)
    2  usage error: unknown mode, a malformed argument
    130, 143  stopped by SIGINT (Ctrl-C) or SIGTERM (the platform stopping the container) before
       the run finished: one line on stderr; feedback already recorded is still written

Environment variables the runtime reads (never options of the connector): see
cde_runtime/environment.py (CONTAINER_API_URL, LOG_LEVEL, ...).

Command-line execution mode: options are `--NAME value` or `--NAME=value` with the exact
option name (no abbreviations); a value that starts with `-` needs the `=` form. An argument
the code does not declare is reported as a warning and ignored, as an environment variable the
code does not read would be: the portal may offer an option before the code knows it, and that
must not fail production runs.
"""

from __future__ import annotations

import argparse
import codecs
import io
import logging
import re
import signal
import sys
import threading
import traceback
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager, redirect_stderr
from pathlib import Path
from types import FrameType
from typing import Any

from pydantic import ValidationError

from cde_runtime import redaction, watch
from cde_runtime.container_api import ContainerApi, ContainerApiError, ContainerApiUnavailable
from cde_runtime.environment import RuntimeEnvironment, RuntimeEnvironmentError, load_environment
from cde_runtime.errors import RunFailed
from cde_runtime.logs import LOG_LEVELS, cut, flush_logs, forward_logs
from cde_runtime.mode import Mode
from cde_runtime.options import ConnectorSettings, Option

log = logging.getLogger(__name__)

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2


Modes = Mapping[str, Mode[Any]]


def main(modes: Modes, argv: Sequence[str] | None = None) -> int:
    """Run the command line for `modes` (name -> Mode) and return the exit code."""
    escape_what_the_streams_cannot_encode()
    arguments = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser(modes)
    # Nothing argparse prints may show a value: the secrets are not known yet (the settings
    # load later), so every argument that is not a mode or an option name is masked.
    usage = io.StringIO()
    try:
        with redirect_stderr(usage):
            parsed, unknown = parser.parse_known_args(arguments)
            # Only a mode that reads its options as arguments may meet one it does not know.
            if unknown and not (parsed.command in modes and takes_arguments(modes[parsed.command])):
                parser.error(f"unrecognized arguments: {', '.join(option_names(unknown))}")
    except SystemExit as stop:  # argparse's own exits: --help is 0, usage errors are 2
        sys.stderr.write(mask_arguments(usage.getvalue(), arguments, modes))
        return stop.code if isinstance(stop.code, int) else EXIT_USAGE
    sys.stderr.write(mask_arguments(usage.getvalue(), arguments, modes))
    if parsed.command == "describe":
        return describe(modes, parsed.write)
    mode = modes[parsed.command]
    if parsed.health_check:
        # The build runs this in a bare container (no Container API, no options): reaching
        # this line proves the image imports the code and ships the mode.
        print(f"ok: mode {mode.name} is available")
        return EXIT_OK
    return run(mode, arguments[1:], ignored=option_names(unknown))


def escape_what_the_streams_cannot_encode() -> None:
    """Write a character the console's encoding lacks as a backslash escape, never crash on it.

    Under a locale that is not UTF-8 (`LC_ALL=de_DE.ISO-8859-1`), `print()` of an option
    description holding `→` raised UnicodeEncodeError. stdout now does what Python's stderr
    already does: it keeps the locale's encoding, so every character the terminal can show is
    shown as is, and writes the others as `\\u2192`. The run's masked streams
    (cde_runtime/redaction.py) write through these, so run output behaves the same.
    `describe --write` is unaffected: the page is always written as UTF-8.
    """
    for stream in (sys.stdout, sys.stderr):
        if not isinstance(stream, io.TextIOWrapper) or stream.errors != "strict":
            continue
        if codecs.lookup(stream.encoding).name != "utf-8":  # UTF-8 encodes every character
            stream.reconfigure(errors="backslashreplace")


def takes_arguments(mode: Mode[Any]) -> bool:
    return bool(mode.settings.execution_mode == "command_line_arguments")


def option_names(unknown: Sequence[str]) -> list[str]:
    """The option names among arguments argparse did not know (values are never repeated).

    A `--...` argument right after an undeclared `--NAME` without `=` may be that option's
    value (a value starting with `-` should use `--NAME=value`, but may not): it is counted,
    never shown.
    """
    names: list[str] = []
    hidden = 0
    after_bare_name = False
    for item in unknown:
        if not item.startswith("--"):
            after_bare_name = False
            continue
        name, equals, _ = item.partition("=")
        if after_bare_name and not equals:
            hidden += 1
            after_bare_name = False
            continue
        names.append(name)
        after_bare_name = not equals
    if hidden:
        names.append(f"{hidden} more (not shown: {'it' if hidden == 1 else 'each'} may be a value)")
    return names


def mask_arguments(text: str, arguments: Sequence[str], modes: Modes) -> str:
    """`text` with every argument that may be a value masked: everything but mode names and
    `--names` (the part after `=` included). For what argparse prints before the run starts."""
    keep = {*modes, "describe"}
    values = set()
    for item in arguments:
        if item.startswith("-"):
            value = item.partition("=")[2]
            if value:
                values.add(value)
        elif item not in keep:
            values.add(item)
    for value in sorted(values, key=len, reverse=True):
        # Whole tokens only: a value `1` must not mask every digit of the usage text.
        text = re.sub(rf"(?<![\w-]){re.escape(value)}(?![\w-])", redaction.MASK, text)
    return redaction.redact(text)


def build_parser(modes: Modes) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="main.py",
        description="Productsup CDE connector.",
        epilog="Exit codes: 0 success, 1 run failed, 2 usage error.",
        allow_abbrev=False,
    )
    commands = parser.add_subparsers(dest="command", required=True, title="modes")
    for mode in modes.values():
        sub = commands.add_parser(
            mode.name, help=mode.summary, description=mode.summary, allow_abbrev=False
        )
        sub.add_argument(
            "--health-check",
            action="store_true",
            help="exit 0 at once if the code loads (the Dev portal's build check)",
        )
        if mode.settings.execution_mode == "command_line_arguments":
            for declared in mode.settings.options():
                sub.add_argument(
                    f"--{declared.name}",
                    dest=f"option_{declared.name}",
                    metavar="VALUE",
                    help=declared.description,
                )
    describe_parser = commands.add_parser(
        "describe", help="print the Dev-portal setup of this connector"
    )
    describe_parser.add_argument(
        "--write",
        type=Path,
        metavar="PAGE",
        help="put it into PAGE between its generated-part markers (docs/dev-portal.md)",
    )
    return parser


def describe(modes: Modes, page: Path | None) -> int:
    """Print the Dev-portal setup, or regenerate its part of `page`."""
    from cde_runtime.describe import StalePageError, render, write

    if page is None:
        print(render(modes.values()), end="")
        return EXIT_OK
    try:
        write(page, modes.values())
    except (StalePageError, OSError) as error:
        print(f"Cannot update {page}: {error}", file=sys.stderr)
        return EXIT_FAILED
    print(f"Updated {page} from connector/settings.py")
    return EXIT_OK


def run(mode: Mode[Any], arguments: Sequence[str], ignored: Sequence[str] = ()) -> int:
    """Load the settings, connect, run the handler and turn the outcome into an exit code.

    Everything the run prints goes through the redaction of cde_runtime.redaction, from the
    moment the secrets are known; they are forgotten once the run's output is flushed, so runs
    in one process (tests) do not mask each other's values.
    """
    with redaction.using(), redaction.redacted_std_streams():
        try:
            environment = load_environment()
        except RuntimeEnvironmentError as error:
            print(str(error), file=sys.stderr, flush=True)
            return EXIT_FAILED
        try:
            settings = mode.settings.load(arguments)
        except ValidationError as error:
            message = settings_error_message(error, mode.settings)
            if ignored:  # a misspelt name is the likely cause of a missing option
                message += (
                    f" Arguments not declared by this code were ignored: {', '.join(ignored)}."
                )
            return fail_before_run(message, environment)
        redaction.register(settings.secret_values())
        level = LOG_LEVELS[environment.log_level]
        with (
            connect(environment) as api,
            forward_logs(api, level=level, timeout=environment.log_timeout),
        ):
            if ignored:
                log.warning(
                    "Ignoring %s not declared by this code: %s. Update the code, or remove "
                    "them from the Individual configurations in the Dev portal.",
                    "an option" if len(ignored) == 1 else "options",
                    ", ".join(ignored),
                )
            try:
                with stops_as_interrupts(), watch.watching():
                    mode.run(settings, api)
            except Stopped as stop:
                fail(f"stopped by {stop.signal_name} before the run finished")
                return 128 + stop.signal_number
            except RunFailed as error:
                return fail(str(error))
            except ContainerApiUnavailable as error:
                return fail(str(error) + local_hint(environment))
            except ContainerApiError as error:
                return fail(str(error))
            except Exception as error:  # the last line of defence: traceback, then one line
                # The portal shows stderr: the traceback is what makes a bug in the handler
                # debuggable there. It passes the same redaction as every other line.
                flush_logs()
                print(traceback.format_exc().rstrip(), file=sys.stderr, flush=True)
                return fail(f"unexpected {type(error).__name__}: {error}")
    return EXIT_OK


class Stopped(BaseException):
    """The process was asked to stop (SIGINT, SIGTERM) while the handler ran.

    A BaseException, as KeyboardInterrupt is, so a handler's `except Exception` does not swallow
    it; context managers still unwind, so feedback already recorded is written.
    """

    def __init__(self, signal_number: int) -> None:
        super().__init__(signal_number)
        self.signal_number = signal_number
        self.signal_name = signal.Signals(signal_number).name


@contextmanager
def stops_as_interrupts() -> Iterator[None]:
    """Turn SIGINT and SIGTERM into `Stopped` while the handler runs, then restore the handlers.

    Without this, SIGTERM (how a container is stopped) ends Python at once, and SIGINT ends it
    with a KeyboardInterrupt traceback instead of the run's one line.
    """
    if threading.current_thread() is not threading.main_thread():
        yield  # only the main thread may set signal handlers (a run inside a test's thread)
        return

    def stop(number: int, _frame: FrameType | None) -> None:
        raise Stopped(number)

    previous = {number: signal.signal(number, stop) for number in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)


def connect(environment: RuntimeEnvironment, max_attempts: int | None = None) -> ContainerApi:
    """The Container API client, tuned by the CONTAINER_API_* variables (tests keep them small)."""
    return ContainerApi(
        environment.api_url,
        max_attempts=max_attempts or environment.max_attempts,
        read_timeout=environment.read_timeout,
        backoff=environment.backoff,
        max_write_bytes=environment.max_write_bytes,
        write_retry=environment.write_retry,
    )


def local_hint(environment: RuntimeEnvironment) -> str:
    """Where to find a Container API when there is none at the platform's address."""
    if not environment.is_default_url:
        return ""
    return (
        f". There is no Container API at {environment.api_url} outside the platform: to run "
        "locally, use `python3 dev.py run <mode>` (or set CONTAINER_API_URL)"
    )


#: Characters of the one-line summary of a failed run; a longer one (a server's 4 MB error
#: page quoted in an error) is cut, with a marker saying how many characters were left out.
MAX_SUMMARY = 2000


def fail(message: str) -> int:
    """End the run as failed: one line on stderr (what the portal shows) and an error log."""
    line = cut(redaction.redact(" ".join(f"Run failed: {message}".split())), MAX_SUMMARY)
    flush_logs()  # earlier log lines that fell back to stderr come before this one
    print(line, file=sys.stderr, flush=True)
    log.error(line, extra={"on_stderr": True})
    return EXIT_FAILED


def fail_before_run(message: str, environment: RuntimeEnvironment) -> int:
    """Like `fail`, for a run that cannot start: its settings are unusable.

    The line is on stderr at once; the copy for the portal's log view gets a single attempt, so
    a missing Container API (a local run without the emulator) costs no retry delay.
    """
    print(message, file=sys.stderr, flush=True)
    with connect(environment, max_attempts=1) as api, forward_logs(api) as handler:
        handler.fallback = io.StringIO()  # already on stderr: a failed delivery prints nothing
        log.error(message, extra={"on_stderr": True})
    return EXIT_FAILED


def settings_error_message(error: ValidationError, settings: type[ConnectorSettings]) -> str:
    """One line naming each bad option and where it is set; never the value (it may be secret)."""
    declared = {option.name for option in settings.options()}
    # pydantic may name a field instead of its alias: map field names back to option names.
    by_field = {
        field: meta.name
        for field, info in settings.model_fields.items()
        for meta in info.metadata
        if isinstance(meta, Option)
    }
    problems = []
    names = []
    for item in error.errors():
        name = str(item["loc"][0]) if item["loc"] else "?"
        if name not in declared:
            name = by_field.get(name, name)
        names.append(name)
        if item["type"] == "missing":
            problems.append(f"option {name} is required but not set")
        elif item["type"] == "literal_error":
            accepted = item.get("ctx", {}).get("expected", "")
            problems.append(f"option {name} is invalid (accepted values: {accepted})")
        else:
            problems.append(f"option {name} is invalid ({item['msg']})")
    if settings.execution_mode == "command_line_arguments":
        where = ", ".join(f"--{name}" for name in dict.fromkeys(names))
        kind = "argument" if len(names) == 1 else "arguments"
    else:
        where = ", ".join(dict.fromkeys(names))
        kind = "environment variable" if len(names) == 1 else "environment variables"
    it = "it" if len(names) == 1 else "them"
    return (
        f"Configuration error: {'; '.join(problems)}: set {it} under Individual configurations "
        f"in the Dev portal ({kind} {where})."
    )
