"""The export report: feedback, its masking, and the failure policy every export mode applies."""

from __future__ import annotations

import pytest
from cde_runtime import ContainerApi, ContainerApiError, RunFailed, redaction
from cde_runtime.channel_client import (
    MAX_REJECTED_SHARE,
    ChannelClient,
    ChannelError,
    ExportReport,
    Result,
)
from cde_runtime.testing import EmulatorFactory
from cde_runtime.tls import tls_context


def report_of(accepted: int, rejected: int) -> ExportReport:
    """An ExportReport without a feedback file (so it never calls the Container API)."""
    report = ExportReport(ContainerApi("http://unused.test"), feedback_file=False, successes=False)
    report.record([Result(str(n), ok=True) for n in range(accepted)])
    report.record([Result(f"r{n}", ok=False, message="bad") for n in range(rejected)])
    return report


def test_export_policy_passes_when_nothing_is_rejected() -> None:
    report_of(100, 0).check()


def test_export_policy_passes_at_exactly_the_allowed_share() -> None:
    rejected = round(1000 * MAX_REJECTED_SHARE)
    report_of(1000 - rejected, rejected).check()


def test_export_policy_fails_above_the_allowed_share_quoting_examples() -> None:
    rejected = round(1000 * MAX_REJECTED_SHARE) + 1
    with pytest.raises(
        RunFailed, match=rf"rejected {rejected} of 1000 products.*e\.g\. r0 \(bad\)"
    ):
        report_of(1000 - rejected, rejected).check()


def test_export_report_summarises_the_counts() -> None:
    report = report_of(7, 2)
    report.skip(5)
    assert report.summary() == "7 accepted, 2 rejected, 5 skipped as unchanged"


def test_channel_error_fails_the_run() -> None:
    assert issubclass(ChannelError, RunFailed)


@pytest.mark.parametrize(
    "ending",
    [
        ContainerApiError("answered 500", status=500, method="GET", path="/input/input/next"),
        KeyError("sku"),
        ChannelError("Channel POST /products answered 500"),
    ],
    ids=["container-api-error", "bug-in-the-mapping", "channel-error"],
)
def test_feedback_of_delivered_products_is_written_whatever_ends_the_run(
    ending: Exception, emulator: EmulatorFactory
) -> None:
    emu = emulator(input=[])

    def deliver_then_fail(api: ContainerApi) -> None:
        with ExportReport(api, feedback_file=True, successes=True) as report:
            report.record([Result("1", ok=True), Result("2", ok=False, message="no title")])
            raise ending

    with ContainerApi(emu.url, max_attempts=1) as api, pytest.raises(type(ending)):
        deliver_then_fail(api)
    assert [row["id"] for row in emu.output_rows("feedback")] == ["1", "2"]


def test_a_token_the_channel_echoes_is_masked_in_the_feedback_file(
    emulator: EmulatorFactory,
) -> None:
    token = "tok-echo-5ecret"
    emu = emulator(input=[])
    with (
        redaction.using([token]),
        ContainerApi(emu.url, max_attempts=1) as api,
        ExportReport(api, feedback_file=True, successes=False) as report,
    ):
        report.record([Result("1", ok=False, message=f"invalid token {token!r} for 1")])
    assert emu.output_rows("feedback") == [
        {"id": "1", "status": "error", "message": "invalid token '*****' for 1"}
    ]


def test_channel_clients_share_one_tls_context() -> None:
    # Building one loads the CA bundle (~35 ms of CPU): once per process, not once per client.
    contexts = []
    for _ in range(2):
        with ChannelClient("https://channel.test") as channel:
            contexts.append(channel._http._transport._pool._ssl_context)  # type: ignore[attr-defined]
    assert contexts[0] is contexts[1] is tls_context()
