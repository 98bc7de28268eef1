"""Run time of a data service whose Container API log endpoint never answers (issue 16).

    python benchmarks/hanging_logs.py [--rows 20000] [--project PATH]

A scripted Container API (tests/runtime/fake_api.py, plain http.server) serves --rows input
rows and takes writes at once, but holds every `POST /logs/...` open until the run is over.
Before log delivery moved off the handler's thread, the run stalled at its first log line for
the log call's read timeout (an hour in production). Prints the wall time of the whole run,
its exit code, and where the log lines went. --project is an all-modes generated project
(default: one baked into a temporary folder).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "{{cookiecutter.project_slug}}" / "vendor" / "cde-runtime" / "src"))

from tests.bake import MODES, bake_copier, mode_answers, working_copy  # noqa: E402
from tests.runtime.fake_api import FakeApi, rows_of  # noqa: E402
from tests.runtime.fake_peer import Answer, Request  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--project", type=Path, default=None)
    args = parser.parse_args()
    project = args.project
    if project is None:
        scratch = Path(tempfile.mkdtemp(prefix="hanging-logs-"))
        project = bake_copier(
            mode_answers(MODES), scratch / "out", template=working_copy(scratch / "template")
        )
    sys.path.insert(0, str(project))
    os.chdir(project)
    # Imported once the project is on the path.
    from cde_runtime import cli
    from connector.modes import MODES as CONNECTOR_MODES

    over = threading.Event()
    api = FakeApi(counts={"input": args.rows})
    api.streams["input"] = rows_of([{"id": str(n), "title": f"p{n}"} for n in range(args.rows)])

    def hang(_request: Request) -> Answer:
        over.wait(3600)
        return Answer(201, b"{}")

    api.overrides[("POST", "/logs/.*")] = hang
    with api.serve() as peer:
        os.environ.update({"CONTAINER_API_URL": peer.url, "CDE_LOCAL_RUN": "1"})
        # The example data service's options (those of the default answers).
        os.environ.update({"SOURCE_COLUMN": "title", "NEW_COLUMN_NAME": "copy"})
        stderr = io.StringIO()
        started = time.monotonic()
        with contextlib.redirect_stderr(stderr):
            code = cli.main(CONNECTOR_MODES, ["data-service"])
        elapsed = time.monotonic() - started
        over.set()
    lines = stderr.getvalue().splitlines()
    print(
        f"data service, {args.rows:,} rows, log endpoint hanging: exit {code} in {elapsed:.1f} s; "
        f"{len(api.written.get('output', [])):,} rows written; {len(lines)} log lines on stderr"
    )


if __name__ == "__main__":
    main()
