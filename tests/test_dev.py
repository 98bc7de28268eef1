"""dev.py on real machines' quirks: uv's own variables set, Ctrl-C during setup, an unwritable
cache, and the parallel test run. Each runs the generated dev.py for real (uv from PyPI, its
packages through a download cache kept between test runs)."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.test_first_run import in_mount_namespace_command

pytestmark = pytest.mark.slow

UV_CACHE = Path.home() / ".cache" / "connector-template-tests" / "uv"
# What a shell set up for another uv project may hold: each breaks `.venv` if uv obeys it.
FOREIGN_UV = {
    "UV_PROJECT_ENVIRONMENT": "elsewhere",
    "UV_NO_DEV": "1",
    "UV_FROZEN": "1",
    "UV_NO_SYNC": "1",
    "UV_PYTHON": "/nonexistent/python",
    "UV_NO_INSTALL_PROJECT": "1",
    "UV_ONLY_GROUP": "dev",
}


def dev(project: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "dev.py", *args],
        cwd=project,
        env={**os.environ, "UV_CACHE_DIR": str(UV_CACHE), **env},
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )


@pytest.fixture(scope="module")
def project(bake: Any, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return Path(
        shutil.copytree(bake("copier", ("data_source",)), tmp_path_factory.mktemp("dev") / "p")
    )


def test_uv_variables_meant_for_other_projects_do_not_break_setup(project: Path) -> None:
    tested = dev(
        project, "test", "-q", "-p", "no:cacheprovider", "-k", "health_check", **FOREIGN_UV
    )
    assert tested.returncode == 0, tested.stdout[-3000:] + tested.stderr[-3000:]
    assert "Traceback" not in tested.stderr
    assert " passed" in tested.stdout
    assert not (project / "elsewhere").exists(), "uv obeyed UV_PROJECT_ENVIRONMENT"
    assert (project / ".venv" / "bin" / "pytest").is_file(), "uv obeyed UV_NO_DEV"


def test_dev_py_test_runs_on_every_core_unless_told_otherwise(project: Path) -> None:
    parallel = dev(project, "test", "-p", "no:cacheprovider", "-k", "health_check")
    assert parallel.returncode == 0, parallel.stdout[-3000:]
    assert "bringing up nodes" in parallel.stdout or "workers" in parallel.stdout
    serial = dev(project, "test", "-n", "0", "-p", "no:cacheprovider", "-k", "health_check")
    assert serial.returncode == 0, serial.stdout[-3000:]
    assert "bringing up nodes" not in serial.stdout
    assert "workers" not in serial.stdout
    assert " passed" in serial.stdout


def test_ctrl_c_during_the_first_setup_exits_130_without_a_traceback(
    bake: Any, tmp_path: Path
) -> None:
    fresh = shutil.copytree(bake("copier", ("data_source",)), tmp_path / "fresh")
    setup = subprocess.Popen(
        [sys.executable, "dev.py", "sync"],
        cwd=fresh,
        env={**os.environ, "UV_CACHE_DIR": str(tmp_path / "empty-cache")},
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    assert setup.stderr is not None
    assert setup.stderr.readline().startswith("First run: creating .venv")
    os.killpg(setup.pid, signal.SIGINT)  # what Ctrl-C in the terminal does
    _, rest = setup.communicate(timeout=120)
    assert setup.returncode == 130, rest
    assert "Traceback" not in rest
    assert "HTTPS_PROXY" not in rest, "Ctrl-C is not a network problem"
    assert rest.strip().splitlines()[-1] == "Stopped (Ctrl-C)."


def test_an_unwritable_cache_is_named_instead_of_the_network(bake: Any, tmp_path: Path) -> None:
    fresh = shutil.copytree(bake("copier", ("data_source",)), tmp_path / "fresh")
    home = tmp_path / "home"
    home.mkdir()
    env = {**os.environ, "HOME": str(home)}
    env.pop("UV_CACHE_DIR", None)
    env.pop("XDG_CACHE_HOME", None)
    # A read-only HOME (root ignores file modes; a read-only mount binds even root).
    command = in_mount_namespace_command(
        f'{{mount}} --bind "{home}" "{home}" && {{mount}} -o remount,ro,bind "{home}"',
        f"{sys.executable} dev.py sync",
    )
    setup = subprocess.run(
        command, cwd=fresh, env=env, capture_output=True, text=True, check=False, timeout=300
    )
    assert setup.returncode == 1, setup.stderr
    assert "Traceback" not in setup.stderr
    last = setup.stderr.strip().splitlines()[-1]
    assert f"uv cannot write its cache folder {home}/.cache/uv" in last, setup.stderr
    assert "HTTPS_PROXY" not in last
    assert "Read-only file system" in setup.stderr, "uv's own message is shown"
