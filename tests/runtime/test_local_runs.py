"""Two local runs at once (`python3 dev.py run export` in two terminals) keep their files apart.

The second run used to empty `.emulator-out/<mode>/` under the first, whose summary then listed
the other run's files. Now the run holding the out folder keeps it: a second one stops at once
with one line naming the first, and touches nothing.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from cde_emulator import runner

from tests.runtime.conftest import PROJECT_ROOT

RUN = [sys.executable, "-m", "cde_emulator", "run"]


def start_hanging_run(out: Path) -> subprocess.Popen[str]:
    """`run data-source` whose first write never answers, returned once the connector runs.

    Its first log line (echoed by the emulator) comes before any write, so once it is seen the
    runner is waiting for the connector. It runs in its own process group, for a Ctrl-C.
    """
    first = subprocess.Popen(  # our interpreter on the example project
        [*RUN, "data-source", "--out", str(out), "--fault", "write:1+:timeout"],
        cwd=PROJECT_ROOT,
        env={**os.environ, "CONTAINER_API_READ_TIMEOUT": "600"},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    assert first.stderr is not None
    for line in first.stderr:  # ends if the run ends: then the assertion below fails
        if line.startswith("[container-api log]"):
            return first
    first.kill()
    raise AssertionError(f"the first run ended early: {first.communicate()}")


def test_a_second_run_into_the_same_folder_stops_and_leaves_the_first_runs_files(
    tmp_path: Path,
) -> None:
    out = tmp_path / "out"
    first = start_hanging_run(out)
    try:
        before = {path.name: path.stat().st_ino for path in out.iterdir()}
        assert "logs.jsonl" in before

        second = subprocess.run(
            [*RUN, "data-source", "--out", str(out)],
            cwd=PROJECT_ROOT,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )

        assert second.returncode == 1
        assert second.stdout == ""
        assert re.fullmatch(
            f"python -m cde_emulator run: {re.escape(str(out))} is in use by the local run of "
            rf"data-source in process {first.pid} \(started \d\d:\d\d:\d\d\): wait for that run "
            "to end, or give this one its own folder with --out DIR\n",
            second.stderr,
        ), second.stderr
        assert {path.name: path.stat().st_ino for path in out.iterdir()} == before
    finally:
        os.killpg(first.pid, signal.SIGINT)  # Ctrl-C: the connector stops, the runner sums up
        stdout, _ = first.communicate(timeout=120)
    assert first.returncode == 130
    assert f"  logs.jsonl     {out / 'logs.jsonl'}" in stdout.splitlines()

    third = subprocess.run(
        [*RUN, "data-source", "--out", str(out)],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert third.returncode == 0, third.stderr  # the first run's end freed the folder


def test_a_run_into_a_held_folder_raises_before_it_empties_it(tmp_path: Path) -> None:
    out = tmp_path / "out"
    with runner.claimed_out_dir(out, "export"):
        mine = out / "output.jsonl"
        mine.write_text('{"id": "1"}\n', encoding="utf-8")

        with pytest.raises(runner.OutFolderInUseError, match=f"in process {os.getpid()} "):
            runner.run("export", out_dir=out, env_file=PROJECT_ROOT / ".env.example")

        assert mine.read_text(encoding="utf-8") == '{"id": "1"}\n'


def test_a_killed_run_leaves_the_folder_free(tmp_path: Path) -> None:
    out = tmp_path / "out"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time; from pathlib import Path; from cde_emulator import runner\n"
            "with runner.claimed_out_dir(Path(sys.argv[1]), 'export'):\n"
            "    print('held', flush=True); time.sleep(600)",
            str(out),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout is not None
    assert holder.stdout.readline() == "held\n"
    with pytest.raises(runner.OutFolderInUseError):
        runner.run("export", out_dir=out)

    holder.kill()
    holder.wait(timeout=60)

    assert runner.run("export", out_dir=out, env_file=PROJECT_ROOT / ".env.example") == 0
    assert (out / "logs.jsonl").read_text(encoding="utf-8")
