"""The runtime package's own tests, run once here (not in every generated repo).

They need a connector to run: one all-modes project baked from this template (copier, options
as environment variables), made when this folder is collected and put first on the import path,
with the runtime's project root pointed at it. The tests run the package from this template's
tree (`vendor/cde-runtime/src`, installed in the suite's venv), which every bake copies as is.
"""

from __future__ import annotations

import atexit
import shutil
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import cde_emulator.runner
import cde_runtime.redaction
import cde_runtime.testing.fixtures
import pytest
from cde_runtime import offline

from tests.bake import MODES, bake_copier, mode_answers, working_copy


def bake_example() -> Path:
    scratch = Path(tempfile.mkdtemp(prefix="runtime-tests-"))
    atexit.register(shutil.rmtree, scratch, ignore_errors=True)
    template = working_copy(scratch / "template")
    return bake_copier(mode_answers(MODES), scratch / "out", template=template)


PROJECT_ROOT = bake_example()
sys.path.insert(0, str(PROJECT_ROOT))
# dev.py's commands work on the project holding their copy: the bake's, as dev.py would import.
sys.path.insert(0, str(PROJECT_ROOT / "vendor" / "cde-runtime" / "src"))
cde_runtime.testing.fixtures.PROJECT_ROOT = PROJECT_ROOT
cde_emulator.runner.PROJECT_ROOT = PROJECT_ROOT


@pytest.fixture(autouse=True)
def own_secrets() -> Iterator[None]:
    """Each test starts with no registered secrets and leaves none behind: a client secret
    "secret" one test registers must not mask the word in the next test's output."""
    with cde_runtime.redaction.using():
        yield


@pytest.fixture(autouse=True)
def offline_like_a_connector_project(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """What the plugin does in a connector project: nothing beyond this machine, here and in
    the processes a test starts. Only these tests: the template's others need the network."""
    monkeypatch.setenv(offline.VARIABLE, "1")
    offline.guard()
    yield
    offline.unguard()
