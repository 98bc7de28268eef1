"""The emulator's latency options, which model a remote feed or channel in local runs."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest
from cde_emulator import Emulator
from cde_emulator.__main__ import _serve_parser


def test_latency_options_take_milliseconds() -> None:
    args = _serve_parser().parse_args(["--channel-latency", "50", "--read-latency", "2.5"])
    assert (args.channel_latency, args.read_latency) == (0.05, 0.0025)


@pytest.mark.parametrize("value", ["-1", "fast", "60001"])
def test_a_bad_latency_is_refused_with_the_allowed_range(
    value: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit):
        _serve_parser().parse_args(["--read-latency", value])
    assert "must be milliseconds from 0 to 60000" in capsys.readouterr().err


def test_read_latency_delays_input_reads_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    waits: list[float] = []
    monkeypatch.setattr(time, "sleep", waits.append)  # record, do not wait
    (tmp_path / "input.jsonl").write_text('{"id": "1"}\n', encoding="utf-8")
    with Emulator(tmp_path, read_latency=0.25) as emu, httpx.Client(base_url=emu.url) as http:
        http.get("/ping")
        assert waits == []
        assert http.get("/input/input/next_batch").status_code == 200
    assert waits == [0.25]
