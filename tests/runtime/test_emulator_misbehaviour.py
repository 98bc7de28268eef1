"""The emulator's faults that misbehave after the work was done (cde_emulator/faults.py).

The fault matrix runs every mode under them; these tests pin what each one does on the wire.
"""

from __future__ import annotations

import json

import httpx
import pytest
from cde_emulator import Fault
from cde_runtime.testing import EmulatorFactory
from cde_runtime.transport import DeadlineTransport

ROWS = [{"id": str(n), "price": "1.00"} for n in range(6)]


def next_batch(url: str, size: int = 2) -> httpx.Response:
    return httpx.get(f"{url}/input/input/next_batch", params={"size": size})


def test_stuck_answers_the_same_rows_again(emulator: EmulatorFactory) -> None:
    emu = emulator(input=ROWS, faults=[Fault.parse("read:1:stuck")])
    first, second, third = (next_batch(emu.url).json()["data"] for _ in range(3))
    assert first == second == ROWS[:2]
    assert third == ROWS[2:4]


def test_stuck_always_is_a_stream_that_never_ends(emulator: EmulatorFactory) -> None:
    emu = emulator(input=ROWS, faults=[Fault.parse("read:1+:stuck")])
    assert all(next_batch(emu.url).json()["data"] == ROWS[:2] for _ in range(10))


def test_drift_counts_one_row_short(emulator: EmulatorFactory) -> None:
    emu = emulator(input=ROWS, faults=[Fault.parse("count:1:drift")])
    assert httpx.get(f"{emu.url}/items/input/count").json()["data"]["count"] == len(ROWS) - 1


def test_503after_does_the_work_then_answers_as_a_proxy(emulator: EmulatorFactory) -> None:
    emu = emulator(input=[], faults=[Fault.parse("write:1:503after")])
    answer = httpx.post(f"{emu.url}/output/output", json={"data": [{"id": "1"}]})
    assert answer.status_code == 503
    assert answer.text.startswith("upstream connect error")
    assert emu.output_rows("output") == [{"id": "1"}]  # stored although the answer says 503


def test_404html_is_a_proxy_page_not_the_platforms_answer(emulator: EmulatorFactory) -> None:
    emu = emulator(input=ROWS, faults=[Fault.parse("count:1:404html")])
    answer = httpx.get(f"{emu.url}/items/input/count")
    assert answer.status_code == 404
    assert answer.text.startswith("<html>")


def test_poison_puts_nan_into_the_first_row(emulator: EmulatorFactory) -> None:
    emu = emulator(input=ROWS, faults=[Fault.parse("read:1:poison")])
    body = next_batch(emu.url).text
    assert '"price": NaN' in body
    rows = json.loads(body)["data"]
    assert rows[0]["price"] != rows[0]["price"]  # NaN
    assert rows[1] == ROWS[1]


def test_repeat_answers_the_products_of_the_page_before(emulator: EmulatorFactory) -> None:
    emu = emulator(feed=ROWS, feed_page_size=2, faults=[Fault.parse("feed:2:repeat")])
    page1 = httpx.get(f"{emu.url}/feed?page=1").json()
    page2 = httpx.get(f"{emu.url}/feed?page=2").json()
    assert page2["products"] == page1["products"] == ROWS[:2]


def test_trickle_sends_the_whole_answer_slowly(emulator: EmulatorFactory) -> None:
    emu = emulator(input=ROWS, faults=[Fault.parse("count:1+:trickle")])
    with (
        httpx.Client(transport=DeadlineTransport(0.1)) as http,
        pytest.raises(httpx.ReadTimeout, match="deadline"),
    ):
        http.get(f"{emu.url}/items/input/count")
    with httpx.Client(transport=DeadlineTransport(60), timeout=1) as http:
        # Each byte comes within the 1 s read timeout: only the deadline could end it early.
        assert http.get(f"{emu.url}/items/input/count").json()["data"]["count"] == len(ROWS)


@pytest.mark.parametrize("spec", ["read:1:stuckk", "read:1:drift,retry-after=1"])
def test_a_misspelt_fault_is_refused(spec: str) -> None:
    with pytest.raises(ValueError, match=r"fault action must be|only an HTTP status"):
        Fault.parse(spec)
