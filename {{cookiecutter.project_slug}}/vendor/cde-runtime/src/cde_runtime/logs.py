"""Logging for a run: standard `logging` records, delivered to the Dev portal.

Use the standard library everywhere (`log = logging.getLogger(__name__)`); `forward_logs()`
sends every record to the Container API (`POST /logs/{level}`), where the Dev portal shows it
under Monitoring → Logs. Extra structured data goes in `extra={"context": {...}}`.

Platform facts this module is built around:
- stderr is shown raw in the Dev portal and counts as error level, so normal logs never go
  there; stderr is only the fallback when the Container API cannot take a log line.
- A run can move millions of rows: log progress every N rows or T seconds (`Progress`), never
  once per product, or logging becomes the slowest part of the run.
- Password options must never reach a log: `RedactSecrets` masks them (and URL credentials)
  in messages, arguments, context and tracebacks (see cde_runtime/redaction.py).
- A local run can log more (or less) with the LOG_LEVEL variable: debug, info, warning, error.
"""

from __future__ import annotations

import logging
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any, TextIO

from cde_runtime.container_api import ContainerApi
from cde_runtime.redaction import MASK, Redactor, active, redact

__all__ = [
    "LOG_LEVELS",
    "MASK",
    "SUCCESS",
    "ContainerApiHandler",
    "Progress",
    "RedactSecrets",
    "Redactor",
    "api_level",
    "forward_logs",
]

#: Between INFO and WARNING: a step that went well (shown as "success" in the Dev portal).
SUCCESS = 25
logging.addLevelName(SUCCESS, "SUCCESS")

#: Levels a local run may choose with the LOG_LEVEL variable (production runs log at info).
LOG_LEVELS = {
    "debug": logging.DEBUG,
    "info": logging.INFO,
    "warning": logging.WARNING,
    "error": logging.ERROR,
}

# Records of these loggers describe the log delivery itself; forwarding them would loop.
_OWN_TRANSPORT = ("httpx", "httpcore")


def api_level(levelno: int) -> str:
    """The Container API level for a `logging` level (the API knows syslog names + success)."""
    if levelno >= logging.CRITICAL:
        return "critical"
    if levelno >= logging.ERROR:
        return "error"
    if levelno >= logging.WARNING:
        return "warning"
    if levelno == SUCCESS:
        return "success"
    if levelno >= logging.INFO:
        return "info"
    return "debug"


class RedactSecrets(logging.Filter):
    """Masks secrets in a record before handlers format it: message, args, context, traceback.

    Uses `redactor`, else the process's active one (cde_runtime.redaction) at the time of the
    record, so secrets registered after the filter was installed are masked too.
    """

    def __init__(self, redactor: Redactor | None = None) -> None:
        super().__init__()
        self.redactor = redactor

    def filter(self, record: logging.LogRecord) -> bool:
        redactor = self.redactor or active()
        message = record.getMessage()
        masked = redactor.text(message)
        if masked != message:
            record.msg, record.args = masked, None
        context = getattr(record, "context", None)
        if context is not None:
            record.context = redactor.value(context)
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redactor.text(record.exc_text)
        if record.stack_info:
            record.stack_info = redactor.text(record.stack_info)
        return True


class ContainerApiHandler(logging.Handler):
    """Sends each record to the Container API; falls back to stderr, and never raises.

    A record goes to stderr only when the API call failed after the client's own retries. The
    handler then sends the next `pause` seconds of records straight to stderr (a dead API costs
    one retry cycle, not one per line) and tries the API again after that, so a passing outage
    loses the portal's log view only for the lines written during it. A record with
    `extra={"on_stderr": True}` was already printed there and is not printed twice.
    """

    #: Seconds to send records to stderr only, after a failed delivery.
    PAUSE = 30.0

    def __init__(
        self,
        api: ContainerApi,
        fallback: TextIO | None = None,
        *,
        pause: float | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__()
        self.api = api
        self.fallback = fallback
        self.pause = self.PAUSE if pause is None else pause
        self.clock = clock
        self.paused_until: float | None = None
        self._sending = threading.local()

    @property
    def unreachable(self) -> bool:
        """Whether records currently go to stderr only (the last delivery failed)."""
        return self.paused_until is not None and self.clock() < self.paused_until

    def emit(self, record: logging.LogRecord) -> None:
        if record.name.startswith(_OWN_TRANSPORT) or getattr(self._sending, "active", False):
            return
        try:
            message = self.format(record)
        except Exception:  # a bad format string must not end the run
            message = str(record.msg)
        if not self.unreachable:
            self._sending.active = True
            try:
                self.api.log(api_level(record.levelno), message or "(empty)", _context(record))
                self.paused_until = None
                return
            except Exception:  # logging must never fail the run; stderr below
                self.paused_until = self.clock() + self.pause
            finally:
                self._sending.active = False
        if not getattr(record, "on_stderr", False):
            self.to_stderr(record.levelname, message)

    def to_stderr(self, level: str, message: str) -> None:
        stream = self.fallback or sys.stderr
        try:
            stream.write(redact(f"{level}: {message}") + "\n")
            stream.flush()
        except Exception:  # noqa: S110 - a closed stderr leaves nowhere to report to
            pass


def _context(record: logging.LogRecord) -> dict[str, Any] | None:
    context = getattr(record, "context", None)
    if isinstance(context, Mapping) and context:
        return dict(context)
    return None


@contextmanager
def forward_logs(
    api: ContainerApi, secrets: Sequence[str] = (), *, level: int = logging.INFO
) -> Iterator[ContainerApiHandler]:
    """Route all logging to the Container API for the duration of a run, with secrets masked.

    `secrets` are masked in addition to those registered with cde_runtime.redaction.
    """
    handler = ContainerApiHandler(api)
    handler.setFormatter(logging.Formatter("%(message)s"))
    handler.addFilter(RedactSecrets(active().with_secrets(secrets) if secrets else None))
    root = logging.getLogger()
    previous_level = root.level
    root.addHandler(handler)
    root.setLevel(level)
    for name in _OWN_TRANSPORT:
        logging.getLogger(name).setLevel(logging.WARNING)
    try:
        yield handler
    finally:
        root.removeHandler(handler)
        root.setLevel(previous_level)


class Progress:
    """Counts rows and logs progress every `every_rows` rows or `every_seconds` seconds.

    Call `add(n)` once per batch; `summary()` gives the closing numbers:
    "25 products in 0.3 s (83 products/s)".
    """

    def __init__(
        self,
        log: logging.Logger,
        noun: str = "products",
        *,
        every_rows: int = 50_000,
        every_seconds: float = 30.0,
    ) -> None:
        self.log = log
        self.noun = noun
        self.count = 0
        self.every_rows = every_rows
        self.every_seconds = every_seconds
        self.started = time.monotonic()
        self._next_rows = every_rows
        self._next_time = self.started + every_seconds

    def add(self, rows: int) -> None:
        self.count += rows
        now = time.monotonic()
        if self.count >= self._next_rows or now >= self._next_time:
            self.log.info("%s so far", self.summary(now))
            self._next_rows = self.count + self.every_rows
            self._next_time = now + self.every_seconds

    def summary(self, now: float | None = None) -> str:
        elapsed = (time.monotonic() if now is None else now) - self.started
        rate = self.count / elapsed if elapsed > 0 else 0.0
        return f"{self.count:,} {self.noun} in {elapsed:.1f} s ({rate:,.0f} {self.noun}/s)"
