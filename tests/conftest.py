"""Shared fixtures: bakes are cached per test session (and per xdist worker).

Cookiecutter bakes go through pytest-cookies (`cookies_session`: an isolated cookiecutter user
config, one output folder per bake), copier bakes through copier's own API (tests/bake.py).
"""

from __future__ import annotations

import json
import os
import shutil
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.bake import bake_copier, mode_answers, working_copy

Baker = Callable[..., Path]


@pytest.fixture(scope="session")
def template_copy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One git-less snapshot of the working tree: both tools render the same files."""
    return working_copy(tmp_path_factory.mktemp("template") / "template")


@pytest.fixture(scope="session")
def bake(
    tmp_path_factory: pytest.TempPathFactory, template_copy: Path, cookies_session: Any
) -> Iterator[Baker]:
    """bake(tool, modes, execution_mode, **answers) -> project folder, cached per session."""
    cache: dict[tuple[Any, ...], Path] = {}
    root = tmp_path_factory.mktemp("bakes")

    def _bake(
        tool: str,
        modes: tuple[str, ...] = ("data_source",),
        execution_mode: str = "environment_variables",
        **answers: Any,
    ) -> Path:
        key = (tool, modes, execution_mode, repr(sorted(answers.items())))
        if key not in cache:
            out = root / f"{len(cache):03d}-{tool}"
            merged = {**mode_answers(modes, execution_mode), **answers}
            if tool == "cookiecutter":
                result = cookies_session.bake(extra_context=merged, template=str(template_copy))
                if result.exception is not None:
                    raise result.exception
                cache[key] = result.project_path
            else:
                cache[key] = bake_copier(merged, out, template=template_copy)
        return cache[key]

    yield _bake
    shutil.rmtree(root, ignore_errors=True)


def answer_space_log() -> Path:
    """Where tests/test_answer_space.py records each example's outcome (one file per run)."""
    root = Path(os.environ.get("ANSWER_SPACE_LOG_DIR", "."))
    return root / "answer-space.jsonl"


def pytest_configure(config: pytest.Config) -> None:
    # The controller picks the file; xdist workers inherit the variable.
    if "ANSWER_SPACE_LOG_DIR" not in os.environ:
        from _pytest.tmpdir import TempPathFactory

        base = TempPathFactory.from_config(config, _ispytest=True).getbasetemp()
        os.environ["ANSWER_SPACE_LOG_DIR"] = str(base)
        answer_space_log().unlink(missing_ok=True)


def pytest_terminal_summary(terminalreporter: Any) -> None:
    log = answer_space_log()
    if os.environ.get("PYTEST_XDIST_WORKER") or not log.exists():
        return
    outcomes = Counter(json.loads(line)["outcome"] for line in log.read_text().splitlines())
    terminalreporter.write_line(
        f"answer space: {sum(outcomes.values())} generated answer sets tried, "
        f"{outcomes['refused']} refused by both tools, {outcomes['green']} green, "
        f"{outcomes['failed']} failed"
    )
