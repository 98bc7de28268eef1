"""Child processes measured one by one: wall time, CPU time and peak RSS of exactly that process.

Peak RSS is the `ru_maxrss` that `os.wait4(pid)` returns for the one child it reaps, taken inside
`launch.py`, a small process that starts the command. That is exact per case, unlike
`getrusage(RUSAGE_CHILDREN)`, whose `ru_maxrss` is the maximum over *all* children waited for so
far (a 1M-row case would mask every later, smaller one). The launcher exists because on Linux a
child's `ru_maxrss` starts at the RSS of the process it was forked from; see launch.py.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

LAUNCHER = Path(__file__).resolve().with_name("launch.py")
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class Measured:
    """One finished child process."""

    returncode: int
    wall: float
    cpu: float  # user + system seconds of that process (all its threads)
    max_rss_kib: int
    stdout: str
    stderr: str


def run_measured(
    command: Sequence[str],
    *,
    cwd: Path,
    env: Mapping[str, str] | None = None,
    timeout: float = 3600.0,
) -> Measured:
    """Run `command` to completion through the launcher and measure it."""
    with (
        tempfile.TemporaryDirectory(prefix="measured-") as scratch,
        open(Path(scratch) / "stdout", "w+", encoding="utf-8") as out,
        open(Path(scratch) / "stderr", "w+", encoding="utf-8") as err,
    ):
        result_file = Path(scratch) / "rusage.json"
        process = subprocess.Popen(
            [sys.executable, "-I", "-S", str(LAUNCHER), str(result_file), "--", *command],
            cwd=cwd,
            env=dict(env) if env is not None else None,
            stdout=out,
            stderr=err,
            start_new_session=True,  # a timeout kills the launcher and the command together
        )
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read(), err.read()
        if not result_file.is_file():
            return Measured(process.returncode or -1, timeout, 0.0, 0, stdout, stderr)
        usage = json.loads(result_file.read_text(encoding="utf-8"))
        return Measured(
            returncode=int(usage["returncode"]),
            wall=float(usage["wall"]),
            cpu=float(usage["cpu"]),
            max_rss_kib=int(usage["max_rss_kib"]),
            stdout=stdout,
            stderr=stderr,
        )


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds a running process has used so far (from /proc/<pid>/stat)."""
    stat = Path(f"/proc/{pid}/stat").read_text(encoding="ascii")
    fields = stat[stat.rindex(")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


class EmulatorProcess:
    """`python -m emulator` of the baked project in its own process (its own GIL and core)."""

    def __init__(
        self,
        project: Path,
        data_dir: Path,
        out_dir: Path,
        *,
        channel_reject_rate: float = 0.0,
        channel_latency_ms: float = 0.0,
        feed: Path | None = None,
        feed_latency_ms: float = 0.0,
        feed_page_size: int = 100,
        log_file: Path | None = None,
    ) -> None:
        self.project = project
        self.data_dir = data_dir
        self.out_dir = out_dir
        self.channel_reject_rate = channel_reject_rate
        self.channel_latency_ms = channel_latency_ms
        self.feed = feed
        self.feed_latency_ms = feed_latency_ms
        self.feed_page_size = feed_page_size
        self.log_file = log_file
        self.url = ""
        self.startup = 0.0
        self.max_rss_kib = 0
        self._process: subprocess.Popen[str] | None = None

    @property
    def pid(self) -> int:
        if self._process is None:
            raise RuntimeError("emulator not started")
        return self._process.pid

    def start(self, timeout: float = 600.0) -> EmulatorProcess:
        """Start serving; returns once the inputs are loaded and the URL is printed."""
        command = [
            sys.executable, "-m", "cde_emulator", "--port", "0",
            "--data", str(self.data_dir), "--out", str(self.out_dir),
            "--channel-reject-rate", str(self.channel_reject_rate),
        ]  # fmt: skip
        if self.channel_latency_ms:  # only the remote-channel cases: older emulators lack it
            command += ["--channel-latency", str(self.channel_latency_ms)]
        if self.feed is not None:  # only the feed cases: older emulators lack the feed
            command += ["--feed", str(self.feed), "--feed-page-size", str(self.feed_page_size),
                        "--feed-latency", str(self.feed_latency_ms)]  # fmt: skip
        stderr = self.log_file.open("w", encoding="utf-8") if self.log_file else None
        started = time.perf_counter()
        self._process = subprocess.Popen(
            command,
            cwd=self.project,
            stdout=subprocess.PIPE,
            stderr=stderr if stderr is not None else subprocess.DEVNULL,
            text=True,
        )
        if stderr is not None:
            stderr.close()  # the child keeps its own descriptor
        assert self._process.stdout is not None
        deadline = started + timeout
        for line in self._process.stdout:
            if "listening on" in line:
                self.url = line.split("listening on", 1)[1].strip()
                break
            if time.perf_counter() > deadline:
                break
        if not self.url:
            self.stop()
            raise RuntimeError(f"the emulator did not start: {' '.join(command)}")
        self.startup = time.perf_counter() - started
        return self

    def status(self) -> dict[str, Any]:
        """The emulator's own summary (`GET /_emulator/status`): rows served, written, channel."""
        with urllib.request.urlopen(f"{self.url}/_emulator/status", timeout=60) as response:
            result: dict[str, Any] = json.loads(response.read())
        return result

    def cpu_seconds(self) -> float:
        return cpu_seconds(self.pid)

    def stop(self) -> None:
        """SIGTERM (the emulator flushes its files and exits); reap it, keeping its peak RSS."""
        process = self._process
        if process is None:
            return
        self._process = None
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
        try:
            _, _, usage = os.wait4(process.pid, 0)
            self.max_rss_kib = usage.ru_maxrss
            process.returncode = 0
        except ChildProcessError:  # already reaped by poll()
            pass
        if process.stdout is not None:
            process.stdout.close()

    def __enter__(self) -> EmulatorProcess:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
