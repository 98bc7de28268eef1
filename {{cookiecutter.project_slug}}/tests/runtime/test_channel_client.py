"""The export report: feedback counts and the failure policy every export mode applies."""

from __future__ import annotations

import pytest

from cde_runtime import ContainerApi, RunFailed
from cde_runtime.channel_client import MAX_REJECTED_SHARE, ChannelError, ExportReport, Result


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
