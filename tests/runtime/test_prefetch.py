"""read_ahead: the next item is read on a worker thread while the caller works on this one.

Worker threads wait on events the test sets; the timeouts only turn a deadlock into a failure.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import closing

import pytest
from cde_runtime import RunFailed, read_ahead

WAIT = 10.0  # seconds before a stuck test fails instead of hanging


def read_ahead_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("read-ahead")]


@pytest.mark.parametrize("ahead", [1, 3])
def test_every_item_comes_back_once_in_order(ahead: int) -> None:
    assert list(read_ahead(iter(range(50)), ahead)) == list(range(50))
    assert list(read_ahead([], ahead)) == []
    assert read_ahead_threads() == []


def test_the_next_item_is_read_on_a_worker_while_the_caller_holds_this_one() -> None:
    started = [threading.Event() for _ in range(4)]
    readers: list[str] = []

    def pages() -> Iterator[int]:
        for n in range(4):
            started[n].set()
            readers.append(threading.current_thread().name)
            yield n

    items = read_ahead(pages())
    assert next(items) == 0
    assert started[1].wait(WAIT)  # read while the caller has not asked for it yet
    # One item ahead at most: the third is not read until the caller takes the second.
    assert not started[2].wait(0.1)
    assert list(items) == [1, 2, 3]
    assert all(name.startswith("read-ahead") for name in readers)
    assert threading.current_thread().name not in readers


def test_an_error_of_the_source_reaches_the_caller_after_the_items_before_it() -> None:
    def pages() -> Iterator[int]:
        yield 1
        yield 2
        raise RunFailed("The product feed answered 500 for http://feed.example/products.")

    items = read_ahead(pages())
    assert [next(items), next(items)] == [1, 2]
    with pytest.raises(RunFailed, match=r"^The product feed answered 500 for http://feed"):
        next(items)
    assert read_ahead_threads() == []


def map_each(items: Iterator[int]) -> None:
    """A caller whose work on an item fails: the loop ends by an exception."""
    for _ in items:
        raise ValueError("mapping failed")


@pytest.mark.parametrize("stop", ["close", "break", "raise"])
def test_a_caller_that_stops_early_leaves_no_thread_and_closes_the_source(stop: str) -> None:
    read: list[int] = []
    closed = threading.Event()

    def pages() -> Iterator[int]:
        try:
            for n in range(100):
                read.append(n)
                yield n
        finally:
            closed.set()  # e.g. the HTTP client of the feed is closed here

    items = read_ahead(pages())
    if stop == "close":
        assert next(items) == 0
        items.close()
    elif stop == "break":
        for _ in items:
            break
        del items
    else:  # a caller that must stop the source at once uses closing(), as the handlers do
        with closing(items), pytest.raises(ValueError, match="mapping failed"):
            map_each(items)
    assert closed.is_set()
    # Nothing past the item read ahead (which is skipped if it had not started yet).
    assert read in ([0], [0, 1])
    assert read_ahead_threads() == []


def test_at_least_one_item_ahead() -> None:
    with pytest.raises(ValueError, match="at least one item ahead, not 0"):
        next(read_ahead([1], 0))
