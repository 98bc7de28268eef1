"""Logging for a run: standard `logging` records, delivered to the Dev portal.

Use the standard library everywhere (`log = logging.getLogger(__name__)`); `forward_logs()`
sends every record to the Container API (`POST /logs/{level}`), where the Dev portal shows it
under Monitoring → Logs. Extra structured data goes in `extra={"context": {...}}`.

Platform facts this module is built around:
- stderr is shown raw in the Dev portal and counts as error level, so normal logs never go
  there; stderr is only the fallback when the Container API cannot take a log line.
- A run can move millions of rows: log progress every N rows or T seconds (`Progress`), never
  once per product, or logging becomes the slowest part of the run.
- Logging never holds up the run: records are queued and posted by one background thread,
  each under a short deadline (CONTAINER_API_LOG_TIMEOUT), in order; lines the API does not
  take go to stderr, in order too.
- Password options must never reach a log: `RedactSecrets` masks them (and URL credentials)
  in messages, arguments, context and tracebacks (see cde_runtime/redaction.py).
- A local run can log more (or less) with the LOG_LEVEL variable: debug, info, warning, error.
"""

from __future__ import annotations

import logging
import queue
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
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
    "flush_logs",
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

#: Characters of a log message sent to the portal; a longer one is cut with a marker.
MAX_MESSAGE = 8000
#: What a record whose message is empty or blank is sent as (the API refuses blank messages).
BLANK = "(blank log record)"
#: Records waiting for the delivery thread; when full, records go to stderr behind them.
QUEUE_SIZE = 10_000
#: Seconds one log line's request may take, by default (CONTAINER_API_LOG_TIMEOUT).
LOG_TIMEOUT = 5.0

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
    """Sends each record to the Container API; falls back to stderr, never raises, never blocks.

    With `background=True` (what `forward_logs` uses) records are queued (at most `queue_size`)
    and one thread delivers them in order, each call under the short `timeout` deadline, so a
    slow or hanging log endpoint never holds up the handler. A record goes to stderr only when
    the API call failed; the handler then sends the next `pause` seconds of records straight to
    stderr (a dead API costs one failed call, not one per line) and tries the API again after
    that. Should the queue fill up (an API that answers, but too slowly), every record from
    then on goes to stderr, behind those queued before it: no line is lost or reordered. A
    record with `extra={"on_stderr": True}` was already printed there and is not printed twice.
    Blank messages are sent as "(blank log record)"; messages longer than MAX_MESSAGE characters
    are cut, with a marker saying how much.
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
        background: bool = False,
        timeout: float = LOG_TIMEOUT,
        queue_size: int = QUEUE_SIZE,
    ) -> None:
        super().__init__()
        self.api = api
        self.fallback = fallback
        self.pause = self.PAUSE if pause is None else pause
        self.clock = clock
        self.timeout = timeout
        self.paused_until: float | None = None
        self._sending = threading.local()
        self._overflowed = False
        self._queue: queue.Queue[_Line | None] | None = None
        self._thread: threading.Thread | None = None
        if background:
            self._queue = queue.Queue(maxsize=queue_size)
            self._thread = threading.Thread(
                target=self._deliver_all, name="log-delivery", daemon=True
            )
            self._thread.start()

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
        line = _Line(
            record.levelno,
            record.levelname,
            cut(message, MAX_MESSAGE) if message.strip() else BLANK,
            _context(record),
            bool(getattr(record, "on_stderr", False)),
        )
        if self._queue is None:
            self._deliver(line)
            return
        if not self._overflowed:
            try:
                self._queue.put(line, timeout=self.timeout)
                return
            except queue.Full:
                # Too slow to keep up: stderr from here on, in order behind the queued lines.
                self._overflowed = True
        self._queue.put(line)  # the thread now empties the queue at the speed of stderr

    def flush(self) -> None:
        """Wait until every queued record has reached the API or stderr: at most about twice
        `timeout` (the record in flight, then the rest go to stderr if the API is that slow)."""
        pending = self._queue
        if pending is None:
            return
        if not self._drained(pending, self.timeout):
            self._overflowed = True  # too slow: stderr for the rest of the run, in order
            self._drained(pending, self.timeout + 1)

    @staticmethod
    def _drained(pending: queue.Queue[Any], seconds: float) -> bool:
        ends = time.monotonic() + seconds
        with pending.all_tasks_done:
            while pending.unfinished_tasks:
                left = ends - time.monotonic()
                if left <= 0:
                    return False
                pending.all_tasks_done.wait(left)
        return True

    def close(self) -> None:
        """Deliver what is queued (see `flush`) and stop the delivery thread."""
        if self._queue is not None and self._thread is not None and self._thread.is_alive():
            self.flush()
            self._queue.put(None)
            self._thread.join(self.timeout + 1)
        super().close()

    def _deliver_all(self) -> None:
        assert self._queue is not None
        while True:
            line = self._queue.get()
            try:
                if line is None:
                    return
                self._deliver(line)
            finally:
                self._queue.task_done()

    def _deliver(self, line: _Line) -> None:
        if not self._overflowed and not self.unreachable:
            self._sending.active = True
            try:
                self.api.log(
                    api_level(line.levelno), line.message, line.context, timeout=self.timeout
                )
                self.paused_until = None
                return
            except Exception:  # logging must never fail the run; stderr below
                self.paused_until = self.clock() + self.pause
            finally:
                self._sending.active = False
        if not line.on_stderr:
            self.to_stderr(line.levelname, line.message)

    def to_stderr(self, level: str, message: str) -> None:
        stream = self.fallback or sys.stderr
        try:
            stream.write(redact(f"{level}: {message}") + "\n")
            stream.flush()
        except Exception:  # noqa: S110 - a closed stderr leaves nowhere to report to
            pass


@dataclass(frozen=True, slots=True)
class _Line:
    """One record, formatted, as the delivery thread gets it."""

    levelno: int
    levelname: str
    message: str
    context: dict[str, Any] | None
    on_stderr: bool


def cut(text: str, limit: int) -> str:
    """`text`, or its first `limit` characters and a marker saying how many more there were."""
    if len(text) <= limit:
        return text
    return f"{text[:limit]} [... {len(text) - limit:,} more characters cut]"


def flush_logs() -> None:
    """Let every queued log record reach its sink (before a line printed straight to stderr,
    so the run's last line stays last)."""
    for handler in logging.getLogger().handlers:
        if isinstance(handler, ContainerApiHandler):
            handler.flush()


def _context(record: logging.LogRecord) -> dict[str, Any] | None:
    context = getattr(record, "context", None)
    if isinstance(context, Mapping) and context:
        return dict(context)
    return None


@contextmanager
def forward_logs(
    api: ContainerApi,
    secrets: Sequence[str] = (),
    *,
    level: int = logging.INFO,
    timeout: float = LOG_TIMEOUT,
) -> Iterator[ContainerApiHandler]:
    """Route all logging to the Container API for the duration of a run, with secrets masked.

    `secrets` are masked in addition to those registered with cde_runtime.redaction. Records
    are delivered by a background thread (the handler never waits on the API, see
    ContainerApiHandler); leaving the block delivers what is queued, within about `timeout`.
    """
    handler = ContainerApiHandler(api, background=True, timeout=timeout)
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
        handler.close()


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
