"""Read the next item of a slow source while the caller is busy with the current one.

A product API that links each page to the next (`"next": url`) can only be read one page after
the other: the next URL arrives with the current page. What can overlap is the wait for page
k+1 and the work on page k (mapping, writing). `read_ahead` runs the source on one worker
thread, at most `ahead` items before the caller, so:

- items come back in the source's order, each once;
- memory is bounded: at most `ahead` items wait besides the one the caller holds;
- an exception raised by the source reaches the caller unchanged (same type, same message), in
  the place of the item it would have produced, after the items before it;
- when the caller stops early (break, an exception, `close()`), no further item is requested;
  the one being read is waited for, the worker thread ends and the source is closed (its
  `finally` blocks and `with` statements run, e.g. an HTTP client is closed): no thread is left
  behind.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Generator, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TypeVar, cast

T = TypeVar("T")

_END = object()


def read_ahead(items: Iterable[T], ahead: int = 1) -> Generator[T, None, None]:
    """The items of `items`, read on a worker thread up to `ahead` items before they are needed."""
    if ahead < 1:
        raise ValueError(f"read at least one item ahead, not {ahead}")
    source = iter(items)
    # One worker: the source is read strictly one item after the other, as a plain loop would.
    executor = ThreadPoolExecutor(1, thread_name_prefix="read-ahead")
    pending: deque[Future[object]] = deque(
        executor.submit(next, source, _END) for _ in range(ahead)
    )
    try:
        while True:
            item = pending.popleft().result()  # re-raises what the source raised
            if item is _END:
                return
            pending.append(executor.submit(next, source, _END))
            yield cast(T, item)
    finally:
        executor.shutdown(wait=True, cancel_futures=True)
        close = getattr(source, "close", None)
        if close is not None:
            close()
