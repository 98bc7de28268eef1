"""dev.py hands `run` and `test` arguments on untouched and says what to do when setup fails."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import urllib.request
from pathlib import Path

import dev
import pytest

PROJECT_ROOT = Path(dev.__file__).resolve().parent


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, ...]]:
    """The commands dev.py starts, recorded instead of run; .venv counts as ready."""
    recorded: list[tuple[str, ...]] = []

    def call(*command: str | Path) -> int:
        recorded.append(tuple(str(part) for part in command))
        return 0

    monkeypatch.setattr(dev, "call", call)
    monkeypatch.setattr(dev, "sync", lambda: None)
    return recorded


@pytest.mark.parametrize(
    ("argv", "passed_on"),
    [
        (["run", "export", "--fault", "write:1+:503"], ["export", "--fault", "write:1+:503"]),
        (["run", "--fault", "write:1+:503", "export"], ["--fault", "write:1+:503", "export"]),
        (["run", "--help"], ["--help"]),
    ],
)
def test_run_passes_every_argument_to_the_emulator_runner(
    calls: list[tuple[str, ...]], argv: list[str], passed_on: list[str]
) -> None:
    assert dev.main(argv) == 0
    assert calls == [(str(dev.PYTHON), "-m", "cde_emulator", "run", *passed_on)]


def test_test_passes_help_to_pytest(calls: list[tuple[str, ...]]) -> None:
    assert dev.main(["test", "--help"]) == 0
    assert calls == [(str(dev.PYTHON), "-m", "pytest", "--help")]


def test_other_commands_still_refuse_unknown_arguments(calls: list[tuple[str, ...]]) -> None:
    with pytest.raises(SystemExit) as stopped:
        dev.main(["sync", "--bogus"])
    assert stopped.value.code == 2
    assert calls == []


def test_a_failed_first_setup_names_the_proxy_and_certificate_settings(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(dev, "UV", tmp_path / "no-uv-yet")
    monkeypatch.setattr(dev, "download_uv", lambda folder: folder / "uv")
    monkeypatch.setattr(dev, "call", lambda *command: 2)  # uv could not fetch the packages

    assert dev.main(["sync"]) == 1

    message = capsys.readouterr().err.strip().splitlines()[-1]
    assert message.startswith("Could not create .venv from uv.lock (see above);")
    assert "HTTPS_PROXY" in message
    assert "SSL_CERT_FILE" in message


def test_a_failed_uv_download_names_the_certificate_setting(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    def refuse(*_args: object, **_kwargs: object) -> None:
        raise OSError("certificate verify failed: unable to get local issuer certificate")

    monkeypatch.setattr(urllib.request, "urlopen", refuse)
    with pytest.raises(dev.SetupError, match="SSL_CERT_FILE"):
        dev.download_uv(tmp_path)


# A program that takes its time to finish after Ctrl-C, as the emulator runner does while it
# prints its summary; it says so on stdout once done.
# The handler only notes the signal: printing from it could re-enter a print still under way.
SLOW_TO_STOP = """
import signal, sys, time
pressed = []
signal.signal(signal.SIGINT, lambda *_: pressed.append(True))
print("ready", flush=True)
deadline = time.monotonic() + 30
while not pressed and time.monotonic() < deadline:
    time.sleep(0.01)
time.sleep(0.5)
print("finished after Ctrl-C" if pressed else "no Ctrl-C arrived", flush=True)
sys.exit(130)
"""
# dev.py running that program, in a process group of its own so the test can press Ctrl-C.
DRIVER = """
import sys
import dev
sys.exit(dev.call(sys.executable, "-c", sys.argv[1]))
"""


@pytest.mark.skipif(os.name == "nt", reason="Ctrl-C is a POSIX process-group signal here")
def test_ctrl_c_lets_the_program_finish_its_own_way() -> None:
    driver = subprocess.Popen(
        [sys.executable, "-c", DRIVER, SLOW_TO_STOP],
        cwd=PROJECT_ROOT,
        stdout=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    assert driver.stdout is not None
    assert driver.stdout.readline() == "ready\n"
    os.killpg(driver.pid, signal.SIGINT)  # what Ctrl-C in the terminal does
    rest, _ = driver.communicate(timeout=30)
    assert rest == "finished after Ctrl-C\n"
    assert driver.returncode == 130
