"""requirements.txt, what the image installs, is exactly uv.lock's runtime part with hashes;
dev.py bootstraps the uv that uv.lock pins.

Dependabot and `uv lock` update uv.lock only; this fails until requirements.txt is exported again.
"""

from __future__ import annotations

import io
import platform
import subprocess
import sys
import urllib.request
from pathlib import Path

import dev
import pytest

from tests.runtime.conftest import PROJECT_ROOT


def requirement_lines(text: str) -> list[str]:
    """The requirements and their hashes, without the header comments."""
    return [line for line in text.splitlines() if line.strip() and not line.startswith("#")]


def test_requirements_txt_is_the_export_of_uv_lock(tmp_path: Path) -> None:
    uv = Path(sys.executable).with_name(dev.UV.name)
    exported = tmp_path / "requirements.txt"
    output = dev.EXPORT.index("--output-file") + 1
    command = [str(uv), "--quiet", *dev.EXPORT[:output], str(exported), *dev.EXPORT[output + 1 :]]
    subprocess.run(command, cwd=PROJECT_ROOT, check=True, timeout=60)
    committed = (PROJECT_ROOT / "requirements.txt").read_text(encoding="utf-8")
    assert requirement_lines(committed) == requirement_lines(exported.read_text()), (
        "requirements.txt does not match uv.lock: run `python3 dev.py lock` and commit both."
    )


def test_the_image_gets_exact_pins_with_hashes_and_no_dev_tools() -> None:
    text = (PROJECT_ROOT / "requirements.txt").read_text(encoding="utf-8")
    entries = [entry.strip() for entry in text.replace("\\\n", " ").splitlines()]
    requirements = [entry for entry in entries if entry and not entry.startswith("#")]
    names = {entry.split("==")[0] for entry in requirements}
    assert {"httpx", "pydantic-settings", "tenacity"} <= names
    assert not names & {"pytest", "ruff", "mypy", "uv"}, "dev tools stay out of the image"
    for entry in requirements:
        assert "==" in entry.split()[0], f"not an exact pin: {entry}"
        assert " --hash=sha256:" in entry, f"no hash: {entry}"


@pytest.mark.parametrize(
    ("system", "machine", "libc", "build"),
    [
        ("linux", "x86_64", "glibc", "-manylinux_2_17_x86_64."),
        ("linux", "aarch64", "glibc", "-manylinux_2_17_aarch64."),
        ("linux", "x86_64", "", "-musllinux_1_1_x86_64."),
        ("darwin", "arm64", "", "-macosx_11_0_arm64."),
        ("darwin", "x86_64", "", "-macosx_10_12_x86_64."),
    ],
)
def test_dev_py_picks_the_locked_uv_build_of_the_machine(
    monkeypatch: pytest.MonkeyPatch, system: str, machine: str, libc: str, build: str
) -> None:
    monkeypatch.setattr(sys, "platform", system)
    monkeypatch.setattr(platform, "machine", lambda: machine)
    monkeypatch.setattr(platform, "libc_ver", lambda: (libc, ""))
    wheel = dev.locked_uv_wheel()
    assert build in wheel["url"]
    assert wheel["hash"].startswith("sha256:")


def test_dev_py_refuses_a_uv_download_that_does_not_match_the_lock(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(sys, "platform", "linux")
    monkeypatch.setattr(platform, "machine", lambda: "x86_64")
    monkeypatch.setattr(platform, "libc_ver", lambda: ("glibc", ""))
    monkeypatch.setattr(urllib.request, "urlopen", lambda *_a, **_k: io.BytesIO(b"tampered"))
    with pytest.raises(dev.SetupError, match=r"does not match uv\.lock's hash"):
        dev.download_uv(tmp_path)
    assert list(tmp_path.iterdir()) == []
