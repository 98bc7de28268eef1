"""Local work with nothing installed but Python 3.11+: the first call sets everything up.

    python3 dev.py run MODE [ARGS]  # run a mode against the local Container API emulator
    python3 dev.py test [ARGS]      # run the tests in parallel (ARGS go to pytest; -n 0: serially)
    python3 dev.py lock [--upgrade] # re-lock after editing pyproject.toml; --upgrade refreshes pins
    python3 dev.py sync             # only prepare .venv (for an editor or `uv run`)
    python3 dev.py check-update     # after a template update: name every file left to resolve
    python3 dev.py tool NAME [ARGS] # run a program of .venv (the pre-commit hooks use it)

Every command first makes `.venv` match uv.lock (runtime and dev tools), then runs inside it;
when nothing changed that takes well under a second. The first time, `.venv` does not exist and
neither may pip: dev.py downloads the uv build for this machine that uv.lock pins (checking its
hash from the lock), and that uv creates `.venv` with everything in it, uv included. Standard
library only: this file runs before anything is installed. `check-update` needs no `.venv` at all.

uv gets the environment dev.py relies on: `UV_*` variables other than network, index, cache and
certificate settings are left out (a `UV_PROJECT_ENVIRONMENT` or `UV_NO_DEV` meant for another
project would otherwise break `.venv`), and uv reads the system's certificate store as well as its
own roots (`UV_SYSTEM_CERTS`), so a proxy whose CA is installed on the machine just works.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import itertools
import json
import os
import platform
import re
import signal
import subprocess
import sys
import tempfile
import urllib.request
import zipfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
SUFFIX = ".exe" if os.name == "nt" else ""
PYTHON = BIN / f"python{SUFFIX}"
UV = BIN / f"uv{SUFFIX}"
# uv.lock's runtime part for the image, with hashes (`dev.py lock` writes both).
EXPORT = [
    "export", "--frozen", "--no-dev", "--no-emit-project", "--no-emit-package", "cde-runtime",
    "--no-annotate", "--format", "requirements-txt", "--output-file", "requirements.txt",
]  # fmt: skip


# `dev.py test` runs the suite on every core, as CI does, unless its arguments pick the workers
# themselves (`-n 0` runs serially) or ask for something one process does (help, a debugger).
PARALLEL = ["-n", "auto"]
SERIAL_ARGUMENTS = re.compile(
    r"-n\d*|--numprocesses(=.*)?|-h|--help|--version|--pdb|--trace|--collect-only|--co"
    r"|-pno:xdist|-p=?no:xdist"
)
# The `UV_*` variables uv keeps from the caller's environment: how to reach and trust the
# package index, where to cache, how to show progress. Every other one (UV_PROJECT_ENVIRONMENT,
# UV_NO_DEV, UV_FROZEN, UV_NO_SYNC, UV_PYTHON, ...) changes what `uv sync` builds, and dev.py
# decides that itself.
UV_KEPT = re.compile(
    r"UV_(CACHE_DIR|NO_CACHE|(DEFAULT_|EXTRA_)?INDEX\w*|FIND_LINKS|HTTP_\w+|REQUEST_TIMEOUT"
    r"|CONCURRENT_\w+|NATIVE_TLS|INSECURE_HOST|OFFLINE|KEYRING_PROVIDER|CREDENTIALS_DIR"
    r"|LINK_MODE|NO_PROGRESS|PYTHON_DOWNLOADS|PYTHON_INSTALL_\w+)"
)


class SetupError(Exception):
    """A step of the setup failed; the message says what to do."""


# Python (urllib) reads the system's certificate store, and so does uv as dev.py starts it:
# only a proxy CA that is not installed on the machine needs SSL_CERT_FILE.
NETWORK_HINT = (
    "behind a proxy, set HTTPS_PROXY, and if it inspects TLS with a CA that is not in the"
    " system's certificate store (a certificate error above), also SSL_CERT_FILE=<its CA bundle>;"
    " then run the command again."
)
# Set by call() when Ctrl-C arrived while a program ran: a setup step then stops, with 130.
interrupted = False


def locked_uv_wheels() -> list[dict[str, Any]]:
    """The builds of the uv that uv.lock pins (its dev group), with their URLs and hashes."""
    import tomllib  # imported late: main() first tells Python 3.10 and older to upgrade

    try:
        with (ROOT / "uv.lock").open("rb") as lock:
            packages = tomllib.load(lock)["package"]
    except (OSError, tomllib.TOMLDecodeError, KeyError) as error:
        raise SetupError(
            f"uv.lock cannot be read ({error}): run `python3 dev.py check-update`, which says"
            " how to recover it."
        ) from error
    [uv] = [package for package in packages if package["name"] == "uv"]
    return list(uv["wheels"])


def platform_tag_matches(tag: str) -> bool:
    """Whether a wheel's platform tag (e.g. manylinux_2_17_x86_64) runs on this machine."""
    machine = platform.machine().lower()
    if sys.platform == "darwin":
        return tag.startswith("macosx_") and tag.endswith(f"_{machine}")
    if os.name == "nt":
        windows = {"amd64": "win_amd64", "arm64": "win_arm64", "x86": "win32"}
        return tag == windows.get(machine)
    libc = "manylinux_" if platform.libc_ver()[0] == "glibc" else "musllinux_"
    return tag.startswith(libc) and tag.endswith(f"_{machine}")


def locked_uv_wheel() -> dict[str, Any]:
    """The build of the locked uv that runs on this machine."""
    for wheel in locked_uv_wheels():
        tags = wheel["url"].rsplit("/", 1)[-1].removesuffix(".whl").split("-")[-1].split(".")
        if any(platform_tag_matches(tag) for tag in tags):
            return wheel
    raise SetupError(
        f"uv.lock has no uv build for {sys.platform} {platform.machine()}: install uv"
        " (https://docs.astral.sh/uv/), run `uv sync`, then the command again."
    )


def download_uv(folder: Path) -> Path:
    """The locked uv for this machine, from PyPI, hash-checked, unpacked into `folder`."""
    wheel = locked_uv_wheel()
    try:
        # The URL comes from uv.lock (PyPI over https), and the hash below checks what arrives.
        with urllib.request.urlopen(wheel["url"], timeout=120) as response:  # noqa: S310
            content = response.read()
    except OSError as error:
        raise SetupError(
            f"Could not download uv from PyPI ({error}): check the internet connection;"
            f" {NETWORK_HINT}"
        ) from error
    if "sha256:" + hashlib.sha256(content).hexdigest() != wheel["hash"]:
        raise SetupError(f"The download of {wheel['url']} does not match uv.lock's hash.")
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        [member] = [name for name in archive.namelist() if name.endswith(f"/scripts/uv{SUFFIX}")]
        binary = folder / f"uv{SUFFIX}"
        binary.write_bytes(archive.read(member))
    binary.chmod(0o755)
    return binary


def call(*command: str | Path) -> int:
    """Run a program of .venv (or Python itself) in the project folder; returns its exit code."""
    global interrupted
    # Fixed programs, arguments from this file or from the person typing them: no shell.
    arguments = [str(part) for part in command]
    with subprocess.Popen(arguments, cwd=ROOT, env=venv_env()) as process:  # noqa: S603
        try:
            return process.wait()
        except KeyboardInterrupt:
            interrupted = True
            # Ctrl-C reached the program too (one process group): let it finish its own way
            # (the emulator runner prints its summary) rather than kill it as subprocess.run
            # would after 0.25 s; a second Ctrl-C stops it at once.
            try:
                return process.wait()
            except KeyboardInterrupt:
                process.kill()
                raise


def stopped(code: int) -> bool:
    """Whether a program ended because Ctrl-C (SIGINT) reached it."""
    return interrupted or code in (-signal.SIGINT, 128 + signal.SIGINT)


def setup_call(*command: str | Path) -> int:
    """call() for a setup step: Ctrl-C stops dev.py too, whatever the step's exit code."""
    code = call(*command)
    if code != 0 and stopped(code):
        raise KeyboardInterrupt
    return code


def setup_step(*command: str | Path) -> None:
    if setup_call(*command) != 0:
        raise SetupError(f"`{' '.join(str(part) for part in command)}` failed (see above).")


def venv_env() -> dict[str, str]:
    """The environment of an activated .venv, so tools started by the tests find its programs.

    uv's own variables are pinned to what dev.py relies on (see UV_KEPT), and uv trusts the
    system's certificate store as Python does.
    """
    env = {
        key: value
        for key, value in os.environ.items()
        if key != "PYTHONHOME" and (not key.startswith("UV_") or UV_KEPT.fullmatch(key))
    }
    env["VIRTUAL_ENV"] = str(VENV)
    env["PATH"] = os.pathsep.join([str(BIN), env.get("PATH", "")])
    env["UV_SYSTEM_CERTS"] = "1"
    return env


def cache_problem() -> str | None:
    """Why uv cannot write its cache, if it cannot: a failure to name instead of the network."""
    cache = os.environ.get("UV_CACHE_DIR") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache"), "uv"
    )
    existing = Path(cache)
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if os.access(existing, os.W_OK | os.X_OK):
        return None
    return (
        f"uv cannot write its cache folder {cache} (see uv's message above): make HOME writable,"
        " or set UV_CACHE_DIR to a folder you can write, then run the command again."
    )


def setup_failed(what: str) -> SetupError:
    """The error for a failed uv setup step: the cause dev.py can tell, else the network hints."""
    problem = cache_problem()
    if problem:
        return SetupError(f"{what}: {problem}")
    if conflicts():
        return SetupError(
            f"{what} (see above): a template update left conflicts; run"
            " `python3 dev.py check-update`, which names them and says how to resolve each."
        )
    return SetupError(f"{what} (see above); if uv's message is about the network: {NETWORK_HINT}")


def install_uv() -> None:
    """Create .venv from uv.lock with a uv fetched for the purpose; it holds uv from then on."""
    if UV.exists():
        return
    print(f"First run: creating {VENV.name} with the packages of uv.lock.", file=sys.stderr)
    wheel = locked_uv_wheel()  # before the temporary folder: a bad uv.lock is named as such
    del wheel
    try:
        temporary = tempfile.TemporaryDirectory(prefix="uv-")
    except OSError as error:
        raise SetupError(
            f"Could not make a temporary folder ({error}): set TMPDIR to a folder you can"
            " write, then run the command again."
        ) from error
    with temporary as folder:
        uv = download_uv(Path(folder))
        # --frozen: exactly what the lock says, even while pyproject.toml is being edited.
        command = (uv, "sync", "--frozen", "--quiet", "--python", sys.executable)
        if setup_call(*command) != 0:
            raise setup_failed(f"Could not create {VENV.name} from uv.lock")


def sync() -> None:
    install_uv()
    if setup_call(UV, "sync", "--locked", "--quiet") != 0:
        if cache_problem() or conflicts():
            raise setup_failed("Could not make .venv match uv.lock")
        raise SetupError(
            "Could not make .venv match uv.lock (see above);"
            " after editing pyproject.toml, run `python3 dev.py lock` first."
        )


def lock(upgrade: bool) -> None:
    """uv lock, then requirements.txt exported from it; refuses while pyproject.toml is broken."""
    import tomllib

    try:
        tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as error:
        raise SetupError(
            f"pyproject.toml cannot be read ({error}): fix it first (`python3 dev.py"
            " check-update` names what a template update left in it)."
        ) from error
    install_uv()
    if setup_call(UV, "lock", *(["--upgrade"] if upgrade else [])) != 0:
        broken = not parses_as_toml(ROOT / "uv.lock")
        raise SetupError(
            "`uv lock` failed (see above)"
            + (
                ": uv.lock itself does not parse; take your last committed one"
                " (`git checkout HEAD -- uv.lock`) and run `python3 dev.py lock` again."
                if broken
                else "."
            )
        )
    setup_step(UV, "--quiet", *EXPORT)


# -- check-update: what a template update left to resolve (standard library only) -------------

# Built without seven literal angle brackets in a row, so that this file never matches itself.
MARKER = re.compile("^(" + "<" * 7 + "|" + ">" * 7 + ")( |$)", re.MULTILINE)
SKIPPED_DIRS = frozenset({".git", ".venv", "venv", "__pycache__", ".emulator-out", "node_modules"})
# Where the template puts the files of a mode: a file or folder named `<mode>`, `<mode>.<ext>`
# or `test_<mode>.<ext>`; `channel` files belong to the two export modes together.
MODE_FOLDERS = ("connector", "tests", "sample_data", "emulator")
# The runtime's list of the platform's modes, read as text (its package may not be installed).
MODE_LISTS = ("cde_runtime/mode.py", "vendor/cde-runtime/src/cde_runtime/mode.py")
# The files uv reads: a conflict in them stops every command, and they are resolved in order.
LOCK_RECOVERY = (
    "take your last committed lock with `git checkout HEAD -- uv.lock`; once pyproject.toml"
    " holds both sides' requirements, `python3 dev.py lock` re-locks with them"
)
PYPROJECT_RECOVERY = (
    "keep both sides' lines (your dependencies and the template's), delete the markers, then run"
    " `python3 dev.py lock`"
)


def all_files() -> list[Path]:
    """Every file of the project, ignored ones included, outside environments and caches."""
    found: list[Path] = []
    for folder, dirs, names in os.walk(ROOT):
        dirs[:] = sorted(d for d in dirs if d not in SKIPPED_DIRS and not d.endswith("_cache"))
        found.extend(Path(folder) / name for name in sorted(names))
    return found


def project_files() -> list[Path]:
    """The files git tracks or would track (ignored files left out), else every file."""
    try:
        listing = subprocess.run(
            ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],  # noqa: S607
            cwd=ROOT,
            capture_output=True,
            check=False,
        )
    except OSError:  # no git
        return all_files()
    if listing.returncode != 0:  # not a repository yet
        return all_files()
    names = {name for name in listing.stdout.decode("utf-8", "surrogateescape").split("\0")}
    return [ROOT / name for name in sorted(names) if name and (ROOT / name).is_file()]


def relative(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


def marker_lines(path: Path) -> list[int]:
    content = path.read_bytes()
    if b"\0" in content:  # binary
        return []
    text = content.decode("utf-8", "replace")
    return [number for number, line in enumerate(text.splitlines(), 1) if MARKER.match(line)]


def parses_as_toml(path: Path) -> bool:
    import tomllib

    try:
        tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return False
    return True


def runtime_modes(name: str) -> tuple[str, ...]:
    """A tuple of mode names the runtime declares (PLATFORM_MODES, CHANNEL_MODES)."""
    for candidate in MODE_LISTS:
        path = ROOT / candidate
        if path.is_file():
            found = re.search(rf"^{name} = \(([^)]*)\)", path.read_text("utf-8"), re.MULTILINE)
            if found:
                return tuple(re.findall(r"[\"']([a-z-]+)[\"']", found.group(1)))
    return ()


def offered_modes() -> set[str] | None:
    """The modes connector/modes/__init__.py registers, read as text (None: it cannot be read)."""
    registry = ROOT / "connector" / "modes" / "__init__.py"
    try:
        text = registry.read_text(encoding="utf-8")
    except OSError:
        return None
    if MARKER.search(text):
        return None
    return set(re.findall(r"\bMode\(\s*[\"']([a-z-]+)[\"']", text))


def conflicts() -> list[tuple[str, str]]:
    """(file, what to do) for everything a template update or a merge left unresolved."""
    found: list[tuple[str, str]] = []
    files = project_files()
    for path in files:
        name = relative(path)
        lines = marker_lines(path)
        if name == "uv.lock" and (lines or not parses_as_toml(path)):
            what = f"conflict markers (line {lines[0]} ...)" if lines else "does not parse"
            found.append((name, f"{what}: {LOCK_RECOVERY}."))
        elif name == "pyproject.toml" and lines:
            shown = ", ".join(map(str, lines))
            found.append((name, f"conflict markers (lines {shown}): {PYPROJECT_RECOVERY}."))
        elif name == "pyproject.toml" and not parses_as_toml(path):
            found.append((name, "does not parse as TOML: fix it, then run `python3 dev.py lock`."))
        elif name == "requirements.txt" and lines:
            found.append((name, "conflict markers: `python3 dev.py lock` writes it anew."))
        elif lines:
            shown = ", ".join(map(str, lines))
            what = f"conflict markers (lines {shown}): keep the right lines, delete the markers."
            found.append((name, what))
    # .gitignore hides them from git, so look at every file.
    for path in all_files():
        if path.name.endswith(".rej"):
            target = relative(path).removesuffix(".rej")
            found.append(
                (relative(path), f"a change the update could not apply: carry it into {target}"
                 " by hand, then delete the .rej file.")
            )  # fmt: skip
    modes = offered_modes()
    if modes is not None:
        platform_modes = runtime_modes("PLATFORM_MODES")
        owners = [mode.replace("-", "_") for mode in platform_modes if mode not in modes]
        if platform_modes and not modes & set(runtime_modes("CHANNEL_MODES")):
            owners.append("channel")
        for path in files:
            parts = path.relative_to(ROOT).parts
            if parts[0] in MODE_FOLDERS and any(
                part.split(".", 1)[0] in (owner, f"test_{owner}")
                for owner in owners
                for part in parts[1:]
            ):
                found.append(
                    (relative(path), "belongs to a mode this connector no longer offers: delete"
                     " it with `git rm`, or switch the mode back on.")
                )  # fmt: skip
    return found


def template_url(source: str) -> tuple[str, bool]:
    """(what `git clone` takes, whether it is remote) for a source copier or cookiecutter took.

    The forms: `gh:`, `gl:` (both tools) and `bb:` (cookiecutter) shortcuts, with or without
    `.git` and a leading `/`; `git+` before any URL; https, http, ssh, git and file URLs;
    `user@host:path`; and paths (local: only this machine can read them).
    """
    source = source.strip()
    if source.startswith("hg+"):
        raise ValueError(f"{source} is a Mercurial repository: the weekly check reads git only")
    source = source.removeprefix("git+")
    hosts = {"gh": "github.com", "gl": "gitlab.com", "bb": "bitbucket.org"}
    shortcut, colon, rest = source.partition(":")
    if colon and shortcut in hosts:
        path = rest.lstrip("/").removesuffix(".git")
        return f"https://{hosts[shortcut]}/{path}.git", True
    if re.match(r"(https?|ssh|git)://", source):
        return source, True
    if re.match(r"[\w.-]+@[\w.-]+:", source):  # user@host:path, scp-like
        return source, True
    if source.startswith("file://"):
        return source, False
    return os.path.expanduser(source), False


def template_source() -> int:
    """For CI's weekly check, one a line: answers file, git URL, recorded version, update command,
    `remote` or `local`. Without an answers file, or for a source git cannot read: an ::error::
    line and 1."""
    copier, cruft = ROOT / ".copier-answers.yml", ROOT / ".cruft.json"
    if copier.is_file():
        answers = {}
        for line in copier.read_text(encoding="utf-8").splitlines():
            key, colon, value = line.partition(":")
            if colon and key in ("_src_path", "_commit"):
                answers[key] = value.strip().strip("'\"")
        file, source, ref = copier.name, answers.get("_src_path", ""), answers.get("_commit", "")
        update = "copier update --vcs-ref"
    elif cruft.is_file():
        recorded = json.loads(cruft.read_text(encoding="utf-8"))
        file, source, ref = cruft.name, recorded.get("template", ""), recorded.get("commit", "")
        update = "cruft update --checkout"
    else:
        print(
            "::error::No .copier-answers.yml or .cruft.json: this repository is not linked to its"
            " template. Link it once as README.md, Template updates, describes."
        )
        return 1
    try:
        url, remote = template_url(source)
    except ValueError as error:
        print(f"::error::The template source recorded in {file}, {error}.")
        return 1
    # A local path is printed too (it works on the machine that has it); CI says what to fix.
    print(file, url, ref, update, "remote" if remote else "local", sep="\n")
    return 0


def check_update() -> int:
    """Print every file left to resolve after a template update; 1 when there is any."""
    found = conflicts()
    if not found:
        print("Nothing left to resolve: no conflict markers, .rej files or files of dropped modes.")
        return 0
    print(f"{len(found)} file{'s' if len(found) > 1 else ''} left to resolve after the update:")
    for name, what in found:
        print(f"  {name}: {what}")
    print(
        "Resolve them (pyproject.toml and uv.lock first), run `python3 dev.py check-update` until"
        " it finds nothing, then `python3 dev.py test`."
    )
    return 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    commands = parser.add_subparsers(dest="command", required=True)
    # No help of their own: `run --help` and `test --help` show the emulator runner's and pytest's.
    commands.add_parser(
        "run",
        add_help=False,
        help="run a mode against the local Container API emulator (`run --help`: its options)",
    )
    commands.add_parser(
        "test",
        add_help=False,
        help="run the tests on every core (arguments go to pytest; `-n 0` runs them serially)",
    )
    locking = commands.add_parser("lock", help="update uv.lock and requirements.txt")
    locking.add_argument("--upgrade", action="store_true", help="move every pin to its newest")
    commands.add_parser("sync", help="only make .venv match uv.lock")
    commands.add_parser(
        "check-update",
        help="name every file a template update left to resolve, and how (needs no .venv)",
    )
    commands.add_parser(
        "template-source",
        help="print the answers file, the template's git URL, version and update command (CI)",
    )
    commands.add_parser(
        "tool", add_help=False, help="run a program of .venv, e.g. `tool ruff check` (hooks)"
    )
    argv = sys.argv[1:] if argv is None else list(argv)
    # Everything after `run`, `test` or `tool` (--help included) goes unchanged to the emulator
    # runner, pytest or the program, in any order: `run --fault write:1:503 export` works as well
    # as `run export ...`.
    passing = argv[:1] in (["run"], ["test"], ["tool"])
    args, passed_on = parser.parse_known_args(argv[:1] if passing else argv)
    passed_on = argv[1:] if passing else passed_on
    if passed_on and args.command not in ("run", "test", "tool"):
        parser.error(f"unrecognized arguments: {' '.join(passed_on)}")
    if args.command == "tool" and not passed_on:
        parser.error("tool needs the name of a program of .venv, e.g. `tool ruff check .`")
    if sys.version_info < (3, 11):  # noqa: UP036 - dev.py is what runs before any check can
        parser.exit(1, "This project needs Python 3.11 or newer: run dev.py with it.\n")
    try:
        if args.command == "check-update":
            return check_update()
        if args.command == "tool":
            # A hook runs on every commit: .venv is made if missing, not synced each time.
            install_uv()
            program = BIN / f"{passed_on[0]}{SUFFIX}"
            if not program.is_file():
                raise SetupError(f"{program} does not exist: run `python3 dev.py sync` first.")
            return call(program, *passed_on[1:])
        if args.command == "template-source":
            return template_source()
        if args.command in ("run", "test") and conflicts():
            # A conflicted conftest.py or pyproject.toml would stop them with a SyntaxError or a
            # TOML error: name what the update left instead.
            return check_update()
        if args.command == "lock":
            lock(args.upgrade)
        sync()
        if args.command == "run":
            return call(PYTHON, "-m", "cde_emulator", "run", *passed_on)
        if args.command == "test":
            joined = [*passed_on, *(a + b for a, b in itertools.pairwise(passed_on))]
            serial = any(SERIAL_ARGUMENTS.fullmatch(argument) for argument in joined)
            return call(PYTHON, "-m", "pytest", *([] if serial else PARALLEL), *passed_on)
    except SetupError as error:
        print(error, file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("Stopped (Ctrl-C).", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
