"""Output under a locale that is not UTF-8: `describe` and a run print, never crash.

`LC_ALL=de_DE.ISO-8859-1` makes Python's stdout latin-1, and `print()` of a character latin-1
lacks (`→` in an option description) raised UnicodeEncodeError. The machines here may not have
that locale installed, so the tests ask for the same stream Python would open there: `LC_ALL=C`
(without UTF-8 mode) and `PYTHONIOENCODING=latin-1`.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.runtime.conftest import PROJECT_ROOT

#: What Python opens under LC_ALL=de_DE.ISO-8859-1: a latin-1 stdout, strict.
LATIN_1 = {"LC_ALL": "C", "PYTHONIOENCODING": "latin-1", "PYTHONUTF8": "0"}
DESCRIPTION = "Who the run greets in its first log line."
FOREIGN = "Grüße → Café ✓"  # ü and é are latin-1, → and ✓ are not
ESCAPED = "Grüße \\u2192 Café \\u2713"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A copy of the example connector whose NAME description and data-source run print FOREIGN."""
    copy = tmp_path / "project"
    shutil.copytree(PROJECT_ROOT, copy, ignore=shutil.ignore_patterns(".emulator-out"))
    settings = copy / "connector" / "settings.py"
    text = settings.read_text(encoding="utf-8")
    assert DESCRIPTION in text
    settings.write_text(text.replace(DESCRIPTION, FOREIGN), encoding="utf-8")
    handler = copy / "connector" / "modes" / "data_source.py"
    text = handler.read_text(encoding="utf-8")
    signature = "def run(settings: DataSourceSettings, api: ContainerApi) -> None:\n"
    assert signature in text
    handler.write_text(text.replace(signature, f"{signature}    print({FOREIGN!r})\n"), "utf-8")
    return copy


def latin_1_run(project: Path, *arguments: str) -> subprocess.CompletedProcess[bytes]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("LC_", "LANG"))}
    return subprocess.run(
        [sys.executable, *arguments],
        cwd=project,
        env={**environment, **LATIN_1},
        capture_output=True,
        check=False,
        timeout=120,
    )


def test_the_streams_are_what_a_latin_1_locale_gives(project: Path) -> None:
    # Without this the other tests would prove nothing: the stream really is strict latin-1.
    probe = "import sys; print(sys.stdout.encoding, sys.stdout.errors, sys.flags.utf8_mode)"
    result = latin_1_run(project, "-c", probe)
    assert result.stdout.split() == [b"iso8859-1", b"strict", b"0"]


def test_describe_escapes_what_latin_1_cannot_encode(project: Path) -> None:
    result = latin_1_run(project, "main.py", "describe")

    assert result.returncode == 0, result.stderr.decode("latin-1")
    assert result.stderr == b""
    assert f"| {ESCAPED} |".encode("latin-1") in result.stdout


def test_describe_write_still_writes_utf_8(project: Path) -> None:
    page = project / "docs" / "dev-portal.md"

    result = latin_1_run(project, "main.py", "describe", "--write", str(page))

    assert result.returncode == 0, result.stderr.decode("latin-1")
    assert f"| {FOREIGN} |" in page.read_text(encoding="utf-8")


def test_a_local_run_prints_through_the_masked_stdout_without_crashing(project: Path) -> None:
    out = project / "out"

    result = latin_1_run(project, "-m", "cde_emulator", "run", "data-source", "--out", str(out))

    assert result.returncode == 0, result.stderr.decode("latin-1")
    assert "Traceback" not in result.stderr.decode("latin-1")
    assert ESCAPED.encode("latin-1") in result.stdout.splitlines()
    assert b"Connector exit code: 0" in result.stdout
