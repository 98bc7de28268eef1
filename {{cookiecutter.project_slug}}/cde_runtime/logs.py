"""Logging for a run: standard `logging` records, delivered to the Dev portal.

Use the standard library everywhere (`log = logging.getLogger(__name__)`); `forward_logs()`
sends every record to the Container API (`POST /logs/{level}`), where the Dev portal shows it
under Monitoring → Logs. Extra structured data goes in `extra={"context": {...}}`.

Platform facts this module is built around:
- stderr is shown raw in the Dev portal and counts as error level, so normal logs never go
  there; stderr is only the fallback when the Container API cannot take a log line.
- A run can move millions of rows: log progress every N rows or T seconds (`Progress`), never
  once per product, or logging becomes the slowest part of the run.
- Password options must never reach a log: `Redactor` masks their values in messages,
  arguments, context and tracebacks.
"""

from __future__ import annotations

import logging
import sys
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any, TextIO

from cde_runtime.container_api import ContainerApi, ContainerApiUnavailable

#: Between INFO and WARNING: a step that went well (shown as "success" in the Dev portal).
SUCCESS = 25
logging.addLevelName(SUCCESS, "SUCCESS")

MASK = "*****"

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


class Redactor:
    """Replaces secret values (password options) with a mask in any text or JSON-like value."""

    def __init__(self, secrets: Sequence[str] = ()) -> None:
        # Longest first, so a secret that contains another is masked whole.
        self.secrets = sorted({s for s in secrets if s}, key=len, reverse=True)

    def text(self, value: str) -> str:
        for secret in self.secrets:
            value = value.replace(secret, MASK)
        return value

    def value(self, value: Any) -> Any:
        if not self.secrets:
            return value
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, Mapping):
            return {self.text(str(k)): self.value(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [self.value(item) for item in value]
        return value


class RedactSecrets(logging.Filter):
    """Masks secrets in a record before handlers format it: message, args, context, traceback."""

    def __init__(self, redactor: Redactor) -> None:
        super().__init__()
        self.redactor = redactor

    def filter(self, record: logging.LogRecord) -> bool:
        if not self.redactor.secrets:
            return True
        record.msg = self.redactor.text(record.getMessage())
        record.args = None
        context = getattr(record, "context", None)
        if context is not None:
            record.context = self.redactor.value(context)
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.redactor.text(record.exc_text)
        if record.stack_info:
            record.stack_info = self.redactor.text(record.stack_info)
        return True


class ContainerApiHandler(logging.Handler):
    """Sends each record to the Container API; falls back to stderr, and never raises.

    After the API turned out unreachable (connection failed after retries) every later record
    goes straight to stderr, so a dead API costs one retry cycle, not one per log line. A record
    with `extra={"on_stderr": True}` was already printed there and is not printed twice.
    """

    def __init__(self, api: ContainerApi, fallback: TextIO | None = None) -> None:
        super().__init__()
        self.api = api
        self.fallback = fallback
        self.unreachable = False
        self._sending = threading.local()

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
                return
            except ContainerApiUnavailable:
                self.unreachable = True
            except Exception:  # noqa: S110 - logging must never fail the run; stderr below
                pass
            finally:
                self._sending.active = False
        if not getattr(record, "on_stderr", False):
            self.to_stderr(record.levelname, message)

    def to_stderr(self, level: str, message: str) -> None:
        stream = self.fallback or sys.stderr
        try:
            stream.write(f"{level}: {message}\n")
            stream.flush()
        except Exception:  # noqa: S110 - a closed stderr leaves nowhere to report to
            pass


def _context(record: logging.LogRecord) -> dict[str, Any] | None:
    context = getattr(record, "context", None)
    if isinstance(context, Mapping) and context:
        return dict(context)
    return None


@contextmanager
def forward_logs(api: ContainerApi, secrets: Sequence[str] = ()) -> Iterator[ContainerApiHandler]:
    """Route all logging to the Container API for the duration of a run, with secrets masked."""
    handler = ContainerApiHandler(api)
    handler.setFormatter(logging.Formatter("%(message)s"))
    handler.addFilter(RedactSecrets(Redactor(secrets)))
    root = logging.getLogger()
    previous_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
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
