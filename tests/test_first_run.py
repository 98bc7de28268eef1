"""The READMEs' commands work as the first thing typed on a machine with only Python 3 and git.

Also on such a machine behind a TLS-inspecting proxy whose CA is only in the system's
certificate store, and the pre-commit hooks work there without .venv activated.

"Bare" here: PATH holds only `python3` (the interpreter this suite's venv was made from, outside
any venv), `git` and `bash`; no `python`, `pip`, `uv` or `copier` command, no active venv, a
fresh HOME, and each generated command runs in its own fresh copy of the project, without
`.venv`. Packages
come from PyPI as they would for a new user (copier through pip; the connector's uv build, then
everything else through it); only pip's and uv's download caches are kept between runs, for
speed. One test, since it installs for real.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.bake import TEMPLATE
from tests.tls_proxy import InspectingProxy, system_store_with

CACHE = Path.home() / ".cache" / "connector-template-tests"
# Network and certificate settings of this machine stay: they are how it reaches PyPI at all.
KEEP = re.compile(
    r"PROXY|CERT|CA_BUNDLE|SSL|^PIP_(INDEX|EXTRA_INDEX|FIND_LINKS|TRUSTED)|^UV_(DEFAULT_)?INDEX"
    r"|^LANG$|^CI$"
)


def bare_machine(home: Path) -> dict[str, str]:
    """An environment with only python3 and git on PATH, nothing installed, a new HOME."""
    bin_dir = home / "bin"
    bin_dir.mkdir(parents=True)
    base_python = Path(getattr(sys, "_base_executable", sys.executable)).resolve()
    (bin_dir / "python3").symlink_to(base_python)
    git = shutil.which("git")
    assert git, "git is needed to generate a connector"
    (bin_dir / "git").symlink_to(git)
    # and bash, which git hooks start with (pre-commit's: `#!/usr/bin/env bash`)
    bash = shutil.which("bash")
    assert bash, "bash is needed to run git hooks"
    (bin_dir / "bash").symlink_to(bash)
    env = {key: value for key, value in os.environ.items() if KEEP.search(key)}
    env |= {
        "HOME": str(home),
        "PATH": str(bin_dir),
        "PIP_CACHE_DIR": str(CACHE / "pip"),
        "UV_CACHE_DIR": str(CACHE / "uv"),
        "PIP_DISABLE_PIP_VERSION_CHECK": "1",
    }
    for command in ("python", "pip", "pip3", "uv", "copier", "pytest"):
        assert shutil.which(command, path=env["PATH"]) is None, command
    return env


def commands_in(readme: Path, heading: str, block: int = 0) -> list[str]:
    """The commands of a code block under `heading` (the first by default), comments left out."""
    section = readme.read_text(encoding="utf-8").split(f"\n## {heading}\n", 1)[1]
    section = section.split("\n## ", 1)[0]
    blocks = re.findall(r"```(?:sh|bash)\n(.*?)```", section, re.DOTALL)
    assert len(blocks) > block, f"no code block {block} under {heading}"
    return [line for line in blocks[block].splitlines() if line and not line.startswith("#")]


def test_ci_runs_the_template_readme_test_command() -> None:
    [test_command] = commands_in(TEMPLATE / "README.md", "Two commands", block=1)
    assert test_command == "python3 run-tests.py"
    script = (TEMPLATE / ".ci/run").read_text(encoding="utf-8").splitlines()
    steps = [line for line in script if line.strip() and not line.lstrip().startswith("#")]
    assert steps[-1].split(" --")[0] == test_command, "CI must run the README's test command"
    [generate] = commands_in(TEMPLATE / "README.md", "Two commands")
    copier_pin = re.search(r"copier==[\w.]+", generate)
    assert copier_pin, generate
    assert copier_pin.group(0) in (TEMPLATE / "requirements-test.txt").read_text().splitlines()


def sh(command: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        ["/bin/sh", "-c", command],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    assert result.returncode == 0, f"{command}\n{result.stdout}\n{result.stderr}"
    return result


@pytest.mark.slow
def test_the_readme_commands_work_on_a_bare_machine(template_copy: Path, tmp_path: Path) -> None:
    env = bare_machine(tmp_path / "home")
    work = tmp_path / "work"
    work.mkdir()

    # Template README: generate a connector (copier prompts need a terminal: take the defaults).
    [generate] = commands_in(template_copy / "README.md", "Two commands")
    assert '"$TEMPLATE" my-connector' in generate
    sh(f"{generate} --defaults", work, env | {"TEMPLATE": str(template_copy)})
    project = work / "my-connector"
    assert (project / ".copier-answers.yml").is_file()

    # Generated README: each command as the very first one, in a fresh copy without .venv.
    run_mode, run_tests = commands_in(project / "README.md", "The two commands")
    assert run_mode == "python3 dev.py run data-source"
    assert run_tests == "python3 dev.py test"

    first = shutil.copytree(project, tmp_path / "first")
    ran = sh(run_mode, first, env)
    assert "Connector exit code: 0" in ran.stdout, ran.stdout
    assert (first / ".emulator-out/data-source/output.jsonl").stat().st_size > 0

    # The README's pre-commit setup, .venv not activated (PATH has no ruff, mypy, ...): the
    # hooks run on every commit and by hand, as from an editor's commit button.
    committer = {
        "GIT_AUTHOR_NAME": "Test", "GIT_AUTHOR_EMAIL": "test@example.com",
        "GIT_COMMITTER_NAME": "Test", "GIT_COMMITTER_EMAIL": "test@example.com",
    }  # fmt: skip
    sh("git init -q && .venv/bin/pre-commit install", first, env)
    committed = sh("git add . && git commit -qm Generated", first, env | committer)
    said = committed.stdout + committed.stderr  # git shows the hook's output on stderr
    for hook in ("ruff check", "ruff format", "mypy (strict)", "hadolint", "actionlint"):
        assert re.search(rf"^{re.escape(hook)}\.+Passed$", said, re.M), said
    sh(".venv/bin/pre-commit run --all-files", first, env)
    (first / "connector" / "bad.py").write_text("print(undefined)\n", encoding="utf-8")  # F821
    refused = subprocess.run(
        ["/bin/sh", "-c", "git add . && git commit -qm bad"],
        cwd=first, env=env | committer, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert refused.returncode != 0
    assert "F821" in refused.stdout + refused.stderr, refused.stdout + refused.stderr
    assert "Executable `" not in refused.stdout + refused.stderr  # pre-commit: tool not found

    # The generated suites run in full in test_generated.py: here a slice keeps it quick.
    second = shutil.copytree(project, tmp_path / "second")
    tested = sh(
        run_tests, second, env | {"PYTEST_ADDOPTS": "-q -p no:cacheprovider -k health_check"}
    )
    assert re.search(r"\b[1-9]\d* passed\b", tested.stdout), tested.stdout
    assert "failed" not in tested.stdout


def in_mount_namespace_command(mounts: str, command: str) -> list[str]:
    """`command` run after `mounts` (shell commands; `{mount}` is the mount program), in a
    mount namespace of its own (unshare -rm), PATH unchanged."""
    unshare, mount = shutil.which("unshare"), shutil.which("mount")
    if not (unshare and mount) or subprocess.run([unshare, "-rm", "true"]).returncode:
        message = "this test needs unprivileged mount namespaces (unshare -rm)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    script = mounts.format(mount=mount) + ' && exec /bin/sh -c "$0"'
    return [unshare, "-rm", "/bin/sh", "-c", script, command]


def in_mount_namespace(store: Path, command: str) -> list[str]:
    """`command` run with `store` mounted over /etc/ssl/certs for it alone."""
    return in_mount_namespace_command(f'{{mount}} --bind "{store}" /etc/ssl/certs', command)


@pytest.mark.slow
def test_the_first_run_works_behind_a_tls_inspecting_proxy(bake: Any, tmp_path: Path) -> None:
    """Nothing exported but HTTPS_PROXY; the proxy's CA only in the system store.

    What is simulated: the machine's store is /etc/ssl/certs (the bundle file, the loose
    certificates and their hash links, which Python's ssl and uv's system-certificate loader
    read), with the proxy's CA added the way update-ca-certificates adds it, seen by this one
    process tree through a private mount. SSL_CERT_FILE, SSL_CERT_DIR and the like are unset,
    and uv's cache is empty, so every download goes through the proxy.
    """
    project = shutil.copytree(bake("copier", ("data_source",)), tmp_path / "project")
    env = {
        key: value
        for key, value in bare_machine(tmp_path / "home").items()
        if not re.search(r"CERT|CA_BUNDLE|SSL", key)
    }
    env |= {"UV_CACHE_DIR": str(tmp_path / "uv-cache"), "NO_PROXY": "127.0.0.1,localhost"}
    with InspectingProxy(tmp_path / "proxy") as proxy:
        env["HTTPS_PROXY"] = proxy.url
        store = system_store_with(proxy.ca, tmp_path / "certs")
        ran = subprocess.run(
            in_mount_namespace(store, "python3 dev.py run data-source"),
            cwd=project, env=env, capture_output=True, text=True, check=False, timeout=900,
        )  # fmt: skip
        assert ran.returncode == 0, ran.stdout + ran.stderr
        assert "Connector exit code: 0" in ran.stdout
        # Both the uv download (Python) and uv's own downloads went through the proxy.
        assert proxy.connects.count("files.pythonhosted.org") > 1, proxy.connects
        assert proxy.refused == []
        # The honest part: uv's bundled roots alone refuse the proxy; dev.py's setting is what
        # makes uv read the system store.
        # A package .venv does not have, so uv has to ask the index (through the proxy).
        probe = ".venv/bin/uv pip install --no-cache --dry-run --python .venv/bin/python six"
        bundled = subprocess.run(
            in_mount_namespace(store, probe),
            cwd=project, env=env, capture_output=True, text=True, check=False, timeout=300,
        )  # fmt: skip
        assert bundled.returncode != 0
        assert "certificate" in bundled.stderr.lower(), bundled.stderr
        system = subprocess.run(
            in_mount_namespace(store, probe),
            cwd=project, env=env | {"UV_SYSTEM_CERTS": "1"},
            capture_output=True, text=True, check=False, timeout=300,
        )  # fmt: skip
        assert system.returncode == 0, system.stderr
