"""Specification of run logging: delivery to the Container API, fallback, redaction, progress."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator

import pytest
from cde_runtime.container_api import ContainerApi, ContainerApiUnavailable
from cde_runtime.logs import (
    SUCCESS,
    ContainerApiHandler,
    Progress,
    Redactor,
    RedactSecrets,
    api_level,
    forward_logs,
)
from cde_runtime.testing import EmulatorFactory, closed_port_url

SECRET = "tok-5ecr3t-value"

log = logging.getLogger("tests.logs")


@pytest.fixture
def api(emulator: EmulatorFactory) -> Iterator[ContainerApi]:
    emu = emulator(input=[])
    with ContainerApi(emu.url, max_attempts=1) as client:
        yield client


@pytest.mark.parametrize(
    ("level", "expected"),
    [
        (logging.DEBUG, "debug"),
        (logging.INFO, "info"),
        (SUCCESS, "success"),
        (logging.WARNING, "warning"),
        (logging.ERROR, "error"),
        (logging.CRITICAL, "critical"),
    ],
)
def test_logging_levels_map_to_container_api_levels(level: int, expected: str) -> None:
    assert api_level(level) == expected


def test_records_reach_the_container_api_with_level_and_context(
    emulator: EmulatorFactory,
) -> None:
    emu = emulator(input=[])
    with ContainerApi(emu.url, max_attempts=1) as api, forward_logs(api):
        log.info("Sent %d products", 3, extra={"context": {"batch": 1}})
        log.log(SUCCESS, "Done")
        log.debug("not sent: below the run's level")
    assert emu.logs() == [
        {"level": "info", "message": "Sent 3 products", "context": {"batch": 1}},
        {"level": "success", "message": "Done", "context": {}},
    ]


def test_the_handler_is_removed_after_the_run(api: ContainerApi) -> None:
    with forward_logs(api) as handler:
        assert handler in logging.getLogger().handlers
    assert handler not in logging.getLogger().handlers


def test_an_unreachable_container_api_falls_back_to_stderr_without_raising() -> None:
    stderr = io.StringIO()
    with ContainerApi(closed_port_url(), max_attempts=1) as api:
        handler = ContainerApiHandler(api, fallback=stderr)
        handler.setFormatter(logging.Formatter("%(message)s"))
        record = log.makeRecord(log.name, logging.WARNING, __file__, 1, "disk %s", ("full",), None)
        handler.handle(record)
    assert stderr.getvalue() == "WARNING: disk full\n"
    assert handler.unreachable


class FlakyLogApi:
    """Stands in for ContainerApi.log: fails while `down`, records what it received."""

    def __init__(self) -> None:
        self.down = True
        self.calls = 0
        self.received: list[str] = []

    def log(self, level: str, message: str, context: object = None) -> None:
        self.calls += 1
        if self.down:
            raise ContainerApiUnavailable("no answer", method="POST", path="/logs/info")
        self.received.append(message)


def record(message: str) -> logging.LogRecord:
    return log.makeRecord(log.name, logging.INFO, __file__, 1, message, (), None)


def test_after_a_failed_delivery_records_go_straight_to_stderr_for_a_while() -> None:
    stderr, api, now = io.StringIO(), FlakyLogApi(), [0.0]
    handler = ContainerApiHandler(api, fallback=stderr, pause=30, clock=lambda: now[0])  # type: ignore[arg-type]
    handler.handle(record("first"))
    now[0] = 10.0
    handler.handle(record("second"))
    assert api.calls == 1  # one failed delivery (after its retries), not one per line
    assert stderr.getvalue() == "INFO: first\nINFO: second\n"


def test_log_delivery_recovers_after_the_pause() -> None:
    stderr, api, now = io.StringIO(), FlakyLogApi(), [0.0]
    handler = ContainerApiHandler(api, fallback=stderr, pause=30, clock=lambda: now[0])  # type: ignore[arg-type]
    handler.handle(record("during the outage"))
    api.down, now[0] = False, 31.0
    handler.handle(record("after the outage"))
    handler.handle(record("later still"))
    assert api.received == ["after the outage", "later still"]
    assert not handler.unreachable
    assert stderr.getvalue() == "INFO: during the outage\n"


def test_a_record_already_printed_on_stderr_is_not_printed_twice() -> None:
    stderr = io.StringIO()
    with ContainerApi(closed_port_url(), max_attempts=1) as api:
        handler = ContainerApiHandler(api, fallback=stderr)
        record = log.makeRecord(log.name, logging.ERROR, __file__, 1, "failed", (), None)
        record.on_stderr = True
        handler.handle(record)
    assert stderr.getvalue() == ""


def test_secrets_are_masked_in_message_arguments_context_and_traceback(
    emulator: EmulatorFactory,
) -> None:
    emu = emulator(input=[])
    with ContainerApi(emu.url, max_attempts=1) as api, forward_logs(api, [SECRET]):
        log.warning(f"token {SECRET} in the message", extra={"context": {"t": [SECRET]}})
        log.warning("token %s in the arguments", SECRET)
        try:
            raise ValueError(f"bad token {SECRET}")
        except ValueError:
            log.exception("failed")
    emu.summary()  # flushes the emulator's files
    logged = (emu.out_dir / "logs.jsonl").read_text()
    assert SECRET not in logged
    assert logged.count("*****") == 4


def test_redaction_masks_a_longer_secret_whole() -> None:
    redactor = Redactor(["abc", "abcdef"])
    assert redactor.text("key=abcdef") == "key=*****"


def test_the_redaction_filter_leaves_records_alone_without_secrets() -> None:
    record = log.makeRecord(log.name, logging.INFO, __file__, 1, "n=%d", (3,), None)
    assert RedactSecrets(Redactor([])).filter(record)
    assert (record.msg, record.args) == ("n=%d", (3,))


def test_progress_logs_every_n_rows_not_every_batch(caplog: pytest.LogCaptureFixture) -> None:
    progress = Progress(log, "rows", every_rows=1000, every_seconds=3600)
    with caplog.at_level(logging.INFO, logger=log.name):
        for _ in range(25):
            progress.add(100)
    assert len(caplog.records) == 2
    assert caplog.records[0].getMessage().startswith("1,000 rows in ")


def test_progress_summary_gives_count_time_and_rate() -> None:
    progress = Progress(log, "products")
    progress.add(25)
    assert progress.summary(now=progress.started + 2).startswith(
        "25 products in 2.0 s (12 products/s)"
    )
