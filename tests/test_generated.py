"""A generated project passes its own gates the minute it is generated.

ruff and mypy run on every combination; the generated test suites, the heavy part,
run on a set of bakes that still gives every mode and both execution modes a full
run (the trees of both tools are byte-identical, tests/test_trees.py).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.bake import (
    EXECUTION_MODES,
    MODES,
    TEMPLATE,
    all_combinations,
    combo_id,
    own_runtime_first,
)
from tests.conftest import Baker

BIN = Path(sys.executable).parent
COMBINATIONS = [
    pytest.param(modes, execution_mode, id=combo_id(modes, execution_mode))
    for modes in all_combinations()
    for execution_mode in EXECUTION_MODES
]
# Options unlike the defaults: the example handlers and tests must adapt, not break.
CUSTOM_OPTIONS = {
    "data_source_options": {
        "NAME": None,
        "SHOULD_FAIL": None,
        "FEED_URL": None,
        "REGION": {"type": "select", "choices": ["eu", "us"], "default": "eu"},
        "TAGS": {"type": "select_multiple", "choices": ["a", "b"], "required": True},
    },
    "export_options": {"CHANNEL_URL": None, "API_KEY": {"type": "password"}},
}

# A shop data source and a marketplace export, options named as their APIs name them (issue 17):
# the example handlers must send to the declared URLs, and the suite pass offline.
THIRD_PARTY_OPTIONS = {
    "data_source_options": {
        "NAME": None,
        "SHOULD_FAIL": None,
        "FEED_URL": None,
        "SHOP_URL": {"type": "input", "required": True, "description": "Shop API base URL"},
        "SHOP_TOKEN": {"type": "password", "required": True, "description": "Shop API token"},
    },
    "export_options": {
        "CHANNEL_URL": None,
        "CHANNEL_TOKEN": None,
        "MARKETPLACE_URL": {"type": "input", "required": True},
        "CLIENT_ID": {"type": "input", "required": True},
        "CLIENT_SECRET": {"type": "password", "required": True},
        "SHOP_COLUMN": {"type": "stage_columns_dropdown", "required": True, "default": "sku"},
    },
}

RETYPED_OPTIONS = {
    "data_source_options": {
        "NAME": {"type": "checkbox"},
        "SHOULD_FAIL": {"type": "input", "required": True},
        "FEED_URL": {"type": "select_multiple", "choices": ["a", "b"], "required": True},
    },
    "export_options": {
        "CHANNEL_URL": {"type": "checkbox"},
        "CHANNEL_TOKEN": {"type": "input", "required": True},
    },
}


def readme_answers() -> dict[str, Any]:
    """The README's answers example, read from the README itself."""
    readme = (TEMPLATE / "README.md").read_text(encoding="utf-8")
    block = re.search(r"```yaml\n(# answers\.yml.*?)```", readme, flags=re.DOTALL)
    assert block, "README.md lost its answers.yml example"
    answers: dict[str, Any] = yaml.safe_load(block.group(1))
    return answers


FULL_RUNS = [
    pytest.param("cookiecutter", (mode,), "environment_variables", {}, id=f"{mode}-env")
    for mode in MODES
] + [
    pytest.param("copier", MODES, "environment_variables", {}, id="all-modes-env"),
    pytest.param("cookiecutter", MODES, "command_line_arguments", {}, id="all-modes-cli"),
    pytest.param(
        "cookiecutter",
        ("data_source", "export"),
        "command_line_arguments",
        CUSTOM_OPTIONS,
        id="custom-options-cli",
    ),
    # The default options' names declared with other types: the example code must not use them.
    pytest.param(
        "copier",
        ("data_source", "export"),
        "command_line_arguments",
        RETYPED_OPTIONS,
        id="retyped-default-options-cli",
    ),
    pytest.param(
        "copier",
        ("data_source", "export"),
        "environment_variables",
        THIRD_PARTY_OPTIONS,
        id="third-party-options",
    ),
    # Required options without defaults, default options removed: the README's own example.
    pytest.param("copier", (), "environment_variables", readme_answers(), id="readme-example"),
]


def run(command: list[str], cwd: Path, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "COV_"))}
    env["PYTHONDONTWRITEBYTECODE"] = "1"  # bakes are shared: tests/test_trees.py reads them
    env = own_runtime_first(cwd, env)
    return subprocess.run(
        command, cwd=cwd, capture_output=True, text=True, timeout=timeout, env=env, check=False
    )


@pytest.mark.parametrize(("modes", "execution_mode"), COMBINATIONS)
def test_generated_project_is_ruff_clean_and_formatted(
    bake: Baker, modes: tuple[str, ...], execution_mode: str
) -> None:
    project = bake("cookiecutter", modes, execution_mode)
    lint = run([str(BIN / "ruff"), "check", "--no-cache", "."], project)
    assert lint.returncode == 0, lint.stdout + lint.stderr
    formatted = run([str(BIN / "ruff"), "format", "--check", "--no-cache", "."], project)
    assert formatted.returncode == 0, formatted.stdout + formatted.stderr


@pytest.mark.parametrize(("modes", "execution_mode"), COMBINATIONS)
def test_generated_project_is_mypy_strict_clean(
    bake: Baker,
    tmp_path_factory: pytest.TempPathFactory,
    modes: tuple[str, ...],
    execution_mode: str,
) -> None:
    project = bake("cookiecutter", modes, execution_mode)
    cache = tmp_path_factory.getbasetemp() / "mypy-cache"  # shared: the trees overlap
    typed = run([sys.executable, "-m", "mypy", "--cache-dir", str(cache)], project)
    assert typed.returncode == 0, typed.stdout + typed.stderr


@pytest.mark.slow
@pytest.mark.parametrize(("tool", "modes", "execution_mode", "answers"), FULL_RUNS)
def test_generated_test_suite_passes_with_nothing_skipped(
    bake: Baker,
    tmp_path: Path,
    tool: str,
    modes: tuple[str, ...],
    execution_mode: str,
    answers: dict[str, Any],
) -> None:
    # A copy: the suite leaves files behind (.hypothesis, caches) in a bake other tests share.
    project = tmp_path / "project"
    shutil.copytree(bake(tool, modes, execution_mode, **answers), project)
    if answers:  # a bake only this test makes: check its gates here too
        lint = run([str(BIN / "ruff"), "check", "--no-cache", "."], project)
        assert lint.returncode == 0, lint.stdout
        typed = run([sys.executable, "-m", "mypy", "--no-incremental"], project)
        assert typed.returncode == 0, typed.stdout
    suite = run([sys.executable, "-m", "pytest", "-q", "-rs", "-p", "no:cacheprovider"], project)
    assert suite.returncode == 0, suite.stdout[-5000:] + suite.stderr[-2000:]
    summary = suite.stdout.strip().splitlines()[-1]
    assert " passed" in summary
    # The only skips: a runtime check that cannot apply to the options declared, saying which
    # option to declare (an export without a URL option sends to the address in its handler).
    skips = [line for line in suite.stdout.splitlines() if line.startswith("SKIPPED")]
    assert len(skips) == (
        int(summary.split(" skipped")[0].split()[-1]) if "skipped" in summary else 0
    )
    for line in skips:
        assert "testing/checks.py" in line, line
        assert "declares no URL option (e.g. CHANNEL_URL)" in line, line
    declares_urls = all(
        any(
            name.upper().endswith("URL") and spec.get("type", "input") in ("input", "textarea")
            for name, spec in answers.get(f"{mode}_options", {"CHANNEL_URL": {}}).items()
            if spec is not None
        )
        for mode in ("export", "export_delta")
        if mode in modes
    )
    assert bool(skips) == (not declares_urls)  # skipped exactly when no URL option is declared


# Valid portal names that used to shadow the settings machinery (issue 9): each must now work.
MACHINERY_NAMES = [
    "OPTION", "STR", "BOOL", "LIST", "LOAD", "OPTIONS", "EXECUTION_MODE", "SECRET_VALUES",
    "SETTINGS_CUSTOMISE_SOURCES", "class", "model_config", "json", "Literal",
]  # fmt: skip
READ_BACK = """
import json, sys
from connector.settings import DataSourceSettings
settings = DataSourceSettings.load(sys.argv[1:])
print(json.dumps({n: getattr(settings, n.upper()) for n in json.loads(sys.stdin.read())}))
"""


@pytest.mark.parametrize("execution_mode", EXECUTION_MODES)
def test_option_names_that_look_like_machinery_are_read_as_declared(
    bake: Baker, execution_mode: str
) -> None:
    declared = {name: {"type": "input", "required": True} for name in MACHINERY_NAMES}
    answers = {"data_source_options": {"NAME": None, "SHOULD_FAIL": None, **declared}}
    project = bake("copier", ("data_source",), execution_mode, **answers)
    values = {name: f"value of {name}" for name in MACHINERY_NAMES}
    if execution_mode == "command_line_arguments":
        args, env = [f"--{name}={value}" for name, value in values.items()], dict(os.environ)
    else:
        args, env = [], {**os.environ, **values}
    read = subprocess.run(
        [sys.executable, "-c", READ_BACK, *args],
        input=json.dumps(MACHINERY_NAMES),
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert read.returncode == 0, read.stderr
    assert json.loads(read.stdout) == values
    health = run([sys.executable, "main.py", "data-source", "--health-check"], project)
    assert health.returncode == 0, health.stderr
    typed = run([sys.executable, "-m", "mypy", "--no-incremental"], project)
    assert typed.returncode == 0, typed.stdout
