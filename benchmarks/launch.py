"""Run one command and report its own rusage: `python launch.py RESULT.json -- command ...`.

Why a launcher: on Linux a child's `ru_maxrss` starts at the RSS of the process it was forked
from (exec keeps the old address space's high-water mark), so a command started straight from
the benchmark process (100+ MiB after baking with cookiecutter and copier) would report at
least that much. Started from this small process instead, the baseline is ~10 MiB, below any
Python program's own peak. The launcher's own `wait4` returns the rusage of that one child.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time


def main() -> int:
    if len(sys.argv) < 4 or sys.argv[2] != "--":
        print(__doc__, file=sys.stderr)
        return 2
    result_file, command = sys.argv[1], sys.argv[3:]
    started = time.perf_counter()
    child = subprocess.Popen(command)
    _, status, usage = os.wait4(child.pid, 0)
    wall = time.perf_counter() - started
    child.returncode = os.waitstatus_to_exitcode(status)
    with open(result_file, "w", encoding="utf-8") as handle:
        json.dump(
            {
                "returncode": child.returncode,
                "wall": wall,
                "cpu": usage.ru_utime + usage.ru_stime,
                "max_rss_kib": usage.ru_maxrss,
            },
            handle,
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
