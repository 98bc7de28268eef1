"""The invariants the runtime enforces whatever the Container API answers (docs/runtime.md).

Proven on a scripted fake API (tests/runtime/fake_api.py, plain http.server, no emulator code)
and, for whole classes of answers, with Hypothesis over the reader itself.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from itertools import takewhile
from typing import Any

import pytest
from cde_runtime.container_api import (
    ContainerApi,
    ContainerApiError,
    IncompleteInput,
    InputNotProvided,
    StuckInput,
)
from cde_runtime.container_api.client import _CountedFetch, _ProgressCheck
from cde_runtime.container_api.streams import RowReader
from cde_runtime.invariants import UnencodableData
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.runtime.fake_api import FakeApi, rows_of
from tests.runtime.fake_peer import Answer


@pytest.fixture
def fake() -> Iterator[tuple[FakeApi, ContainerApi]]:
    api = FakeApi()
    with api.serve() as peer, ContainerApi(peer.url, max_attempts=1, backoff=0) as client:
        yield api, client


def products(count: int, start: int = 0) -> list[dict[str, Any]]:
    return [{"id": str(number), "title": f"p{number}"} for number in range(start, start + count)]


# -- no stream delivers more rows than it counted ---------------------------------------------


class Counted:
    def __init__(self, count: int) -> None:
        self._count = count

    def count(self, type: str) -> int:
        return self._count


@given(
    counted=st.integers(0, 40),
    batches=st.lists(st.integers(0, 15), max_size=12),
    endless=st.booleans(),
    read_ahead=st.booleans(),
)
@settings(max_examples=150, deadline=None)
def test_no_stream_hands_over_more_rows_than_counted_whatever_it_sends(
    counted: int, batches: list[int], endless: bool, read_ahead: bool
) -> None:
    # A stream of any batch sizes, ending or not (an endless one repeats its last batch size
    # with new rows: a drifting count, not only a stuck cursor).
    sizes = iter(batches)
    serial = iter(range(10**9))

    def fetch() -> list[dict[str, Any]]:
        size = next(sizes, batches[-1] if endless and batches and batches[-1] else 0)
        return [{"id": str(next(serial))} for _ in range(size)]

    reader = RowReader(_CountedFetch(Counted(counted), "input", fetch), read_ahead=read_ahead)  # type: ignore[arg-type]
    seen = 0
    try:
        for _row in reader:
            seen += 1
            assert seen <= counted  # checked as rows arrive, not at the end
        ended_cleanly = True
    except IncompleteInput:
        ended_cleanly = False
    assert seen <= counted
    # The stream ends at its first empty batch; an endless one has none.
    before_end = list(takewhile(lambda size: size > 0, batches))
    ends = len(before_end) < len(batches) or not endless or not batches
    sent = sum(before_end) if ends else math.inf
    # A clean end only when the stream sent exactly what was counted.
    assert ended_cleanly == (sent == counted)


def test_an_endless_stream_of_the_same_rows_stops_at_the_count_before_any_extra_row(
    fake: tuple[FakeApi, ContainerApi],
) -> None:
    api, client = fake
    api.counts["input"] = 3
    api.streams["input"] = lambda _n: products(3)  # the cursor never moves
    got: list[Any] = []
    with pytest.raises(IncompleteInput):
        got.extend(client.read("input"))  # extend keeps the rows handed over before the raise
    assert got == products(3)  # the first batch, and not one row more
    assert api.reads["input"] == 2


def test_a_stream_past_its_count_fails_before_its_extra_rows_are_handed_over(
    fake: tuple[FakeApi, ContainerApi],
) -> None:
    api, client = fake
    api.counts["input"] = 5
    api.streams["input"] = lambda n: products(3, start=3 * n)  # new rows forever
    got: list[Any] = []
    with pytest.raises(IncompleteInput, match="more rows than the platform counts: 6 so far, 5"):
        got.extend(client.read("input"))
    assert got == products(3, start=3)


def test_a_stuck_cursor_ends_the_run_even_without_a_count(
    fake: tuple[FakeApi, ContainerApi],
) -> None:
    api, client = fake
    api.streams["input"] = lambda _n: products(3)
    with pytest.raises(StuckInput, match="batch 2 with exactly the rows of batch 1"):
        list(client.read("input", check_count=False))
    assert api.reads["input"] == 2


@given(st.lists(st.integers(2, 6), min_size=1, max_size=6), st.integers(1, 5))
@settings(max_examples=60, deadline=None)
def test_any_batch_answered_twice_in_a_row_is_a_stuck_cursor(
    sizes: list[int], stuck_at: int
) -> None:
    answers = [products(size, 100 * index) for index, size in enumerate(sizes)]
    stuck = min(stuck_at, len(answers)) - 1
    script = [*answers[: stuck + 1], answers[stuck], *answers[stuck + 1 :], []]
    calls = iter(script)
    with pytest.raises(StuckInput):
        list(RowReader(_ProgressCheck("input", lambda: next(calls)), read_ahead=False))


def test_a_real_stream_with_repeated_single_rows_is_not_stuck(
    fake: tuple[FakeApi, ContainerApi],
) -> None:
    api, client = fake
    rows = [{"id": "1"}, {"id": "1"}, {"id": "2"}]
    api.counts["input"] = 3
    api.streams["input"] = lambda n: rows[n - 1 : n]  # batches of one row, two alike
    assert list(client.read("input", batch_size=1)) == rows


# -- "not provided" only for the platform's own answer ------------------------------------------


FOREIGN_404 = {
    "nginx page": Answer(
        404, b"<html><body><h1>404 Not Found</h1>nginx</body></html>", {"Content-Type": "text/html"}
    ),
    "router": Answer(
        404,
        b'{"message": "No route found for \\"GET /items/new/count\\""}',
        {"Content-Type": "application/json"},
    ),
    "empty body": Answer(404, b""),
    "plain text": Answer(404, b"Not Found"),
    "json without message": Answer(404, b'{"error": "not found"}'),
}


@pytest.mark.parametrize("answer", FOREIGN_404.values(), ids=FOREIGN_404.keys())
@pytest.mark.parametrize("call", ["count", "read"])
def test_a_404_that_is_not_the_platforms_own_fails_instead_of_meaning_no_stream(
    fake: tuple[FakeApi, ContainerApi], answer: Answer, call: str
) -> None:
    api, client = fake
    api.counts["new"] = 50
    api.streams["new"] = rows_of(products(50))
    api.overrides[("GET", "/items/new/count" if call == "count" else "/input/new/next_batch")] = (
        lambda _r: answer
    )
    attempt = (
        (lambda: client.count("new"))
        if call == "count"
        else (lambda: list(client.read("new", check_count=False)))
    )
    with pytest.raises(ContainerApiError) as raised:
        attempt()
    assert not isinstance(raised.value, InputNotProvided)
    assert raised.value.status == 404


def test_the_platforms_not_provided_answer_still_means_no_stream(
    fake: tuple[FakeApi, ContainerApi],
) -> None:
    _api, client = fake
    with pytest.raises(InputNotProvided):
        client.count("deleted")
    with pytest.raises(InputNotProvided):
        list(client.read("deleted"))


# -- rows JSON cannot carry, rows that are not objects ------------------------------------------


@pytest.mark.parametrize("row", [None, 3, "text", [1, 2], True])
def test_a_row_that_is_not_an_object_fails_naming_its_place(
    fake: tuple[FakeApi, ContainerApi], row: Any
) -> None:
    api, client = fake
    api.counts["input"] = 2
    api.streams["input"] = rows_of([{"id": "1"}, row])
    with pytest.raises(ContainerApiError, match=r"row 2 of the batch is .*, not an object"):
        list(client.read("input"))


@pytest.mark.parametrize(
    ("value", "why"),
    [
        (math.nan, "nan"),
        (math.inf, "inf"),
        (-math.inf, "-inf"),
        ("cut emoji \ud83d", "lone surrogate"),
        ({"nested": [1, math.nan]}, "nan"),
    ],
)
def test_a_value_json_cannot_carry_fails_the_write_naming_product_and_column(
    fake: tuple[FakeApi, ContainerApi], value: Any, why: str
) -> None:
    api, client = fake
    rows = [*products(3), {"id": "p-7", "title": value}]
    writer = client.writer("output", background=False)
    with pytest.raises(UnencodableData, match=r"product 'p-7', column 'title.*" + why):
        writer.write_many([*rows, *products(996, start=10)])  # a full batch goes out
    assert "output" not in api.written  # nothing half-written: the batch never left


def test_an_unencodable_column_name_is_named_too(fake: tuple[FakeApi, ContainerApi]) -> None:
    _api, client = fake
    with pytest.raises(UnencodableData, match=r"product '1', column .*its name holds a lone"):
        client.write([{"id": "1", "bad\udc80": "x"}])
