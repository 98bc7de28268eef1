"""Command line: `python main.py <mode> [--health-check] [options]` and `python main.py describe`.

Exit codes (what the platform records for the run):
    0  success
    1  run failed: bad configuration, Container API error, handler failure (one line on stderr)
    2  usage error: unknown mode, unknown argument

Environment variables the runtime reads (never options of the connector):
    CONTAINER_API_URL           where the Container API listens (default http://cde-container-api)
    CONTAINER_API_MAX_ATTEMPTS  tries per Container API call before giving up (default 5)
    CONTAINER_API_READ_TIMEOUT  seconds to wait for a Container API answer (default 3600)
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import traceback
from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import ValidationError

from cde_runtime.container_api import ContainerApi, ContainerApiError
from cde_runtime.errors import RunFailed
from cde_runtime.logs import Redactor, forward_logs
from cde_runtime.mode import Mode
from cde_runtime.options import ConnectorSettings, Option

log = logging.getLogger(__name__)

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2


Modes = Mapping[str, Mode[Any]]


def main(modes: Modes, argv: Sequence[str] | None = None) -> int:
    """Run the command line for `modes` (name -> Mode) and return the exit code."""
    arguments = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser(modes)
    try:
        parsed = parser.parse_args(arguments)
    except SystemExit as stop:  # argparse's own exits: --help is 0, usage errors are 2
        return stop.code if isinstance(stop.code, int) else EXIT_USAGE
    if parsed.command == "describe":
        from cde_runtime.describe import render

        print(render(modes.values()))
        return EXIT_OK
    mode = modes[parsed.command]
    if parsed.health_check:
        # The build runs this in a bare container (no Container API, no options): reaching
        # this line proves the image imports the code and ships the mode.
        print(f"ok: mode {mode.name} is available")
        return EXIT_OK
    return run(mode, arguments[1:])


def build_parser(modes: Modes) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="main.py",
        description="Productsup CDE connector.",
        epilog="Exit codes: 0 success, 1 run failed, 2 usage error.",
    )
    commands = parser.add_subparsers(dest="command", required=True, title="modes")
    for mode in modes.values():
        sub = commands.add_parser(mode.name, help=mode.summary, description=mode.summary)
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
    commands.add_parser("describe", help="print the Dev-portal setup of this connector")
    return parser


def run(mode: Mode[Any], arguments: Sequence[str]) -> int:
    """Load the settings, connect, run the handler and turn the outcome into an exit code."""
    try:
        settings = mode.settings.load(arguments)
    except ValidationError as error:
        return fail_before_run(settings_error_message(error, mode.settings))
    redactor = Redactor(settings.secret_values())
    with connect() as api, forward_logs(api, redactor.secrets):
        try:
            mode.run(settings, api)
        except RunFailed as error:
            return fail(str(error), redactor)
        except ContainerApiError as error:
            return fail(str(error), redactor)
        except Exception as error:  # the last line of defence: one readable line, exit 1
            log.debug("Traceback of the failure:\n%s", traceback.format_exc())
            return fail(f"unexpected {type(error).__name__}: {error}", redactor)
    return EXIT_OK


def connect() -> ContainerApi:
    """The Container API client, tuned by the CONTAINER_API_* variables (tests keep them small)."""
    return ContainerApi(
        max_attempts=int(os.environ.get("CONTAINER_API_MAX_ATTEMPTS") or 5),
        read_timeout=float(os.environ.get("CONTAINER_API_READ_TIMEOUT") or 3600),
    )


def fail(message: str, redactor: Redactor) -> int:
    """End the run as failed: one line on stderr (what the portal shows) and an error log."""
    line = redactor.text(" ".join(f"Run failed: {message}".split()))
    print(line, file=sys.stderr, flush=True)
    log.error(line, extra={"on_stderr": True})
    return EXIT_FAILED


def fail_before_run(message: str) -> int:
    """Like `fail`, for a run that cannot start: its settings are unusable."""
    print(message, file=sys.stderr, flush=True)
    with connect() as api, forward_logs(api):
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
