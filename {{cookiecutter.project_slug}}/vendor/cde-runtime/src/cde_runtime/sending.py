"""Several channel requests in flight at once, with results handed back in input order.

A remote channel answers each request in tens to hundreds of milliseconds; sent one at a time,
an export spends nearly all its time waiting. `send_in_order` keeps up to `InFlightLimit.limit`
batches in flight on worker threads (the channel client is synchronous httpx, which is
thread-safe and pools connections) and keeps every guarantee of the sequential loop:

- Results come back in input order, once per batch, whatever order the channel answers in, so
  feedback rows are recorded exactly once per product and in a deterministic order. They are
  handed back to the caller's thread: recording needs no locks.
- Memory is bounded by the batches in flight (plus those finished but waiting for an earlier
  one), never by the input size: the next batch is read only when there is room for it.
- A whole-request failure stops new sends at once; the requests already in flight finish and
  their results are still handed back (they were delivered), then the failure that stopped the
  sends is raised. Inside a run the failure is also reported to cde_runtime.watch, so the main
  thread raises it within moments even while it waits for the next input batch.
- `InFlightLimit` is adaptive: the channel client calls `push_back()` when the channel answers
  429/503 and `relax()` after each success, so fewer requests are in flight while the channel
  pushes back (halved each time, down to one) and the window grows back by one per window of
  successes (additive increase, multiplicative decrease).

Ordering between requests is only what input order gives: two batches in flight at once may
reach the channel in either order. Callers that need a barrier (export-delta sends every upsert
before the first delete) call `send_in_order` once per phase: it returns only when every
request it started has finished.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Generator, Iterable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from typing import Any, TypeVar

from cde_runtime import watch

B = TypeVar("B")
R = TypeVar("R")


class InFlightLimit:
    """How many requests may be in flight now: `maximum` at most, fewer while pushed back."""

    def __init__(self, maximum: int) -> None:
        if maximum < 1:
            raise ValueError(f"at least one request must be allowed in flight, not {maximum}")
        self.maximum = maximum
        self._limit = maximum
        self._successes = 0
        self._lock = threading.Lock()

    @property
    def limit(self) -> int:
        return self._limit

    def push_back(self) -> None:
        """The channel asked us to slow down (429/503): halve the window, down to one."""
        with self._lock:
            self._limit = max(1, self._limit // 2)
            self._successes = 0

    def relax(self) -> None:
        """A request succeeded: after a whole window of successes, allow one more in flight."""
        with self._lock:
            if self._limit >= self.maximum:
                return
            self._successes += 1
            if self._successes >= self._limit:
                self._limit += 1
                self._successes = 0


def send_in_order(
    batches: Iterable[B], send: Callable[[B], R], limit: InFlightLimit
) -> Generator[R, None, None]:
    """`send(batch)` for every batch, up to `limit.limit` at once; yield the results in order.

    When a `send` raises, or reading the next batch does, no further batch is started; the
    results of the batches already in flight are still yielded, in order (their feedback is
    real), and then the first exception seen is raised.
    With `limit.maximum == 1` this is exactly the sequential loop, on one worker thread.
    """
    window: deque[Future[R]] = deque()  # in input order; the oldest is window[0]
    failure: BaseException | None = None
    executor = ThreadPoolExecutor(limit.maximum, thread_name_prefix="channel")
    source = iter(batches)
    try:
        while True:
            try:
                batch = next(source)
            except StopIteration:
                break
            except Exception as read_error:  # reading the input failed: what was sent counts
                failure = read_error
                break
            while len(window) >= limit.limit and failure is None:
                failure = yield from _settle(window)
            failure = failure or _first_failure(window)
            if failure is not None:
                break
            future = executor.submit(send, batch)
            future.add_done_callback(_report_failure)
            window.append(future)
            del batch  # the worker holds the only reference: freed once it is sent
        while window:
            error = yield from _settle(window)
            failure = failure or error
    finally:
        # Normally nothing is left here. When the caller stops early (an exception while it
        # records results), batches not yet started are dropped and those in flight finish.
        executor.shutdown(wait=True, cancel_futures=True)
    if failure is not None:
        raise failure


def _settle(window: deque[Future[R]]) -> Generator[R, None, BaseException | None]:
    """Wait until one more request has finished, then yield the finished results at the head.

    Returns the first failure seen among the finished requests, or None.
    """
    # Only the unfinished ones: a finished request behind an unfinished head must not make
    # this return at once, again and again (a busy loop) while the head is still in flight.
    pending = [future for future in window if not future.done()]
    while pending:
        done, _ = wait(pending, timeout=watch.POLL, return_when=FIRST_COMPLETED)
        if done:
            break
        watch.check()  # another part of the run failed (the feedback writer): stop waiting
    failure: BaseException | None = None
    while window and window[0].done():
        error = window[0].exception()
        if error is None:
            yield window.popleft().result()
        else:
            window.popleft()
            failure = failure or error
    return failure or _first_failure(window)


def _report_failure(future: Future[Any]) -> None:
    """A request failed: the run's main thread raises it wherever it waits (cde_runtime.watch),
    not only once it comes back to this window."""
    if not future.cancelled() and future.exception() is not None:
        watch.report(future.exception())  # type: ignore[arg-type]


def _first_failure(window: deque[Future[R]]) -> BaseException | None:
    """A request that failed while earlier ones are still in flight."""
    for future in window:
        if future.done() and future.exception() is not None:
            return future.exception()
    return None
