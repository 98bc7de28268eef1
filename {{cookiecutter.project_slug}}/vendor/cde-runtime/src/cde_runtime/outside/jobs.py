"""Asynchronous job APIs: submit work, poll until the job is done, collect its results.

Many bulk APIs answer a submission with `202 Accepted` and a job id, then report progress at a
status URL. `wait_for(check, deadline=...)` calls `check()` with a growing pause between calls
(from `first` seconds, doubling up to `longest`) until it returns something other than None,
and ends the run with one line once `deadline` seconds have passed::

    job = api.post_json("/bulk", {"items": batch})["job_id"]
    done = wait_for(lambda: finished(api.get_json(f"/bulk/{job}")), deadline=600, what="bulk job")
    results = api.get_json(f"/bulk/{job}/results")

where `finished(status)` returns the status once it says done (and raises on a failed job).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar, cast

import tenacity

from cde_runtime.errors import RunFailed

__all__ = ["JobTimedOut", "wait_for"]

T = TypeVar("T")


class JobTimedOut(RunFailed):
    """The job did not finish before its deadline."""


def wait_for(
    check: Callable[[], T | None],
    *,
    deadline: float,
    first: float = 0.5,
    longest: float = 30.0,
    what: str = "the job",
    sleep: Callable[[float], None] = time.sleep,
) -> T:
    """Call `check` until it returns a value (not None), pausing longer each time; that value.

    JobTimedOut (a RunFailed) once `deadline` seconds have passed since the first call.
    """
    retrying = tenacity.Retrying(
        retry=tenacity.retry_if_result(lambda result: result is None),
        wait=tenacity.wait_exponential(multiplier=first, min=first, max=longest),
        stop=tenacity.stop_after_delay(deadline),
        sleep=sleep,
        retry_error_callback=lambda state: _timed_out(what, deadline, state.attempt_number),
    )
    # Only a value that is not None ends the retrying (a timeout raises instead).
    return cast(T, retrying(check))


def _timed_out(what: str, deadline: float, checks: int) -> None:
    raise JobTimedOut(
        f"{what[:1].upper()}{what[1:]} did not finish within {deadline:g} s ({checks} checks); "
        "raise the deadline if the API is known to take longer."
    )
