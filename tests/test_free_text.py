"""Free-text answers cannot break the files they are rendered into."""

from __future__ import annotations

import ast
import json
import re
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import Baker

# Template syntax too: both tools keep it literal (cookiecutter through hooks/literal_answers.py).
HOSTILE = (
    "Quote \" apostrophe ' backslash \\ \"\"\" triple ''' ünïcödé ✓ $(x) `y` | pipe\nsecond line"
    " {{ 7*7 }} {% if true %}x{% endif %} <b>html</b> & 🚀 𝄞"
)
HOSTILE_ANSWERS: dict[str, Any] = {
    "project_name": "Hostile Connector",
    "project_slug": "hostile-connector",
    "description": HOSTILE,
    "author_name": 'O\'Brien "The" \\ Dev ✓',
    "data_source_options": {
        "NAME": {"type": "input", "required": True, "default": HOSTILE, "description": HOSTILE},
        "SHOULD_FAIL": None,
        "FEED_URL": None,
        "SIZE": {
            "type": "select",
            "required": False,
            "default": 'it\'s "big"',
            "description": HOSTILE,
            "choices": ['it\'s "big"', "small | tiny", "ünï\\"],
        },
        "TAGS": {"type": "select_multiple", "choices": ["a", "b;c", "🚀"], "description": HOSTILE},
        "API-KEY": {"type": "password", "description": HOSTILE},
        "NOTES": {"type": "textarea", "default": HOSTILE},
    },
}
MODES = ("data_source", "data_service", "export", "export_delta")


def parse(path: Path) -> None:
    """Parse a file with the parser of its kind; raises when it is broken."""
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".py":
        ast.parse(text, filename=str(path))
    elif path.suffix == ".toml":
        tomllib.loads(text)
    elif path.suffix in (".yml", ".yaml"):
        yaml.safe_load(text)
    elif path.suffix == ".json":
        json.loads(text)
    elif path.suffix == ".jsonl":
        for line in text.splitlines():
            json.loads(line)
    elif path.suffix == ".md":
        check_markdown_tables(text)


def check_markdown_tables(text: str) -> None:
    """Every row of a table has as many cells as its header (a raw | or newline breaks that)."""
    rows: list[str] = []
    for line in [*text.splitlines(), ""]:
        if line.startswith("|"):
            rows.append(line)
            continue
        if rows:
            widths = {len(re.split(r"(?<!\\)\|", row)) for row in rows}
            assert len(widths) == 1, f"ragged table: {rows}"
            rows = []


@pytest.fixture(scope="module", params=["cookiecutter", "copier"])
def hostile_project(request: pytest.FixtureRequest, bake: Baker) -> Path:
    return bake(request.param, MODES, "command_line_arguments", **HOSTILE_ANSWERS)


def test_every_generated_file_still_parses(hostile_project: Path) -> None:
    files = [p for p in hostile_project.rglob("*") if p.is_file() and ".git" not in p.parts]
    assert files
    for path in files:
        parse(path)


def test_free_text_arrives_intact_in_python(hostile_project: Path) -> None:
    settings = (hostile_project / "connector" / "settings.py").read_text(encoding="utf-8")
    tree = ast.parse(settings)
    strings = {n.value for n in ast.walk(tree) if isinstance(n, ast.Constant)}
    assert HOSTILE in strings
    assert 'it\'s "big"' in strings


def test_free_text_arrives_intact_in_toml(hostile_project: Path) -> None:
    pyproject = tomllib.loads((hostile_project / "pyproject.toml").read_text(encoding="utf-8"))
    assert pyproject["project"]["description"] == HOSTILE
    assert pyproject["project"]["authors"][0]["name"] == HOSTILE_ANSWERS["author_name"]
