"""Sampling profiles of a connector run and of the emulator serving it (py-spy, all threads).

py-spy samples every thread, which matters here: the connector reads ahead and writes in
background threads, so a main-thread-only profiler (pyinstrument's default) would mostly show the
main thread waiting on a queue. Idle (blocked) samples are left out, so the figures are CPU time.
pyinstrument is the fallback when py-spy is missing or not allowed to trace (ptrace).
"""

from __future__ import annotations

import re
import shutil
import signal
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

_LINE = re.compile(r"^(?P<stack>.*) (?P<count>\d+)$")
_FRAME = re.compile(r"^(?P<func>.*?) \((?P<file>[^:()]*)(?::\d+)?\)$")
# Leaf functions that block rather than compute. py-spy's idle detection misses some of them in
# containers; their samples are dropped so the percentages are shares of CPU work.
IDLE_LEAVES = frozenset(
    {
        "_PollLikeSelector.select",
        "Condition.wait",
        "Event.wait",
        "Queue.get",
        "Queue.put",
        "Thread.join",
        "Thread._wait_for_tstate_lock",
        "SocketIO.readinto",
        "socket.accept",
    }
)
# Leaf functions that are socket calls. Their samples are mostly waiting (for the peer, or for the
# GIL after the call released it: py-spy cannot tell), not CPU work: the processes' own rusage
# shows little system time. They are counted apart as "socket I/O and GIL waits".
IO_LEAVES = frozenset(
    {
        "SyncStream.read",
        "SyncStream.write",
        "_SocketWriter.write",
        "is_socket_readable",
    }
)


@dataclass
class Profile:
    """Aggregated collapsed stacks: CPU samples per function, self and inclusive."""

    samples: int = 0
    io: int = 0
    own: Counter[str] = field(default_factory=Counter)
    inclusive: Counter[str] = field(default_factory=Counter)

    @property
    def io_share(self) -> float:
        """Share (%) of non-idle samples spent in socket calls, left out of `top()`."""
        total = self.samples + self.io
        return 100.0 * self.io / total if total else 0.0

    def top(self, which: str, limit: int = 15) -> list[tuple[str, float]]:
        counts = self.own if which == "self" else self.inclusive
        total = self.samples or 1
        return [(name, 100.0 * count / total) for name, count in counts.most_common(limit)]


def short_frame(frame: str) -> str:
    """`func (path/to/pkg/module.py:12)` → `func (pkg/module.py)`: per function, not per line."""
    match = _FRAME.match(frame.strip())
    if not match:
        return frame.strip()
    parts = Path(match["file"]).parts
    where = "/".join(parts[-2:]) if len(parts) > 1 else match["file"]
    return f"{match['func']} ({where})"


def parse_collapsed(text: str) -> Profile:
    """Read py-spy's `--format raw` output (`frame;frame;... count` per line)."""
    profile = Profile()
    for line in text.splitlines():
        match = _LINE.match(line.strip())
        if not match:
            continue
        count = int(match["count"])
        frames = [short_frame(f) for f in match["stack"].split(";") if f]
        frames = [f for f in frames if not f.startswith(("process ", "thread "))]
        leaf = frames[-1].split(" (", 1)[0] if frames else ""
        if not frames or leaf in IDLE_LEAVES:
            continue
        if leaf in IO_LEAVES:
            profile.io += count
            continue
        profile.samples += count
        profile.own[frames[-1]] += count
        for name in set(frames):
            profile.inclusive[name] += count
    return profile


def py_spy() -> str | None:
    """The py-spy executable next to this interpreter, or on PATH."""
    local = Path(sys.executable).with_name("py-spy")
    return str(local) if local.is_file() else shutil.which("py-spy")


def py_spy_command(output: Path, rate: int = 250) -> list[str]:
    """Prefix that runs a command under py-spy and writes collapsed stacks to `output`."""
    exe = py_spy()
    if exe is None:
        raise FileNotFoundError("py-spy")
    return [exe, "record", "--format", "raw", "--rate", str(rate), "--nonblocking",
            "--output", str(output), "--"]  # fmt: skip


class Attached:
    """py-spy attached to a running process (the emulator) until `stop()`."""

    def __init__(self, pid: int, output: Path, rate: int = 250) -> None:
        exe = py_spy()
        if exe is None:
            raise FileNotFoundError("py-spy")
        self.output = output
        self._process = subprocess.Popen(
            [exe, "record", "--format", "raw", "--rate", str(rate), "--nonblocking",
             "--pid", str(pid), "--output", str(output)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip

    def stop(self) -> None:
        """Ctrl-C makes py-spy write its output and exit."""
        if self._process.poll() is None:
            self._process.send_signal(signal.SIGINT)
        try:
            self._process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
