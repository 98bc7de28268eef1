"""docs/dev-portal.md and `python main.py describe` must tell the Dev portal the same thing.

Both are parsed into tables per mode and compared, so a changed option in connector/settings.py
that is not carried into the docs (or the other way round) fails here.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

from cde_runtime.describe import OPTION_HEADER, cell
from cde_runtime.describe import render as render_modes
from connector.modes import MODES

PROJECT_ROOT = Path(__file__).resolve().parents[2]
DOCS = PROJECT_ROOT / "docs" / "dev-portal.md"
MODE_HEADING = re.compile(r"^## Mode `([a-z-]+)`$")

Row = tuple[str, ...]


def split_row(line: str) -> Row:
    """The cells of a Markdown table row; `\\|` is a pipe inside a cell."""
    cells = re.split(r"(?<!\\)\|", line.strip())[1:-1]
    return tuple(value.strip() for value in cells)


def tables_by_mode(markdown: str) -> dict[str, list[Row]]:
    """Every table row (separators left out) under each `## Mode `<mode>`` heading."""
    sections: dict[str, list[Row]] = {}
    current: list[Row] | None = None
    for line in markdown.splitlines():
        heading = MODE_HEADING.match(line)
        if heading:
            current = sections.setdefault(heading.group(1), [])
        elif line.startswith("## "):
            current = None
        elif current is not None and line.startswith("|") and not line.startswith("|---"):
            current.append(split_row(line))
    return sections


def options_by_mode(markdown: str) -> dict[str, dict[str, Row]]:
    """The individual-configuration rows of each mode, by command option."""
    options: dict[str, dict[str, Row]] = {}
    for mode, rows in tables_by_mode(markdown).items():
        width = len(OPTION_HEADER)
        options[mode] = {row[0]: row for row in rows if len(row) == width and row != OPTION_HEADER}
    return options


def field_config(value: str) -> object:
    """A field-config cell as data: the JSON between the backticks, or None when empty."""
    text = value.strip("`").replace("\\|", "|")
    return json.loads(text) if text else None


def render() -> str:
    return render_modes(MODES.values())


def test_docs_document_exactly_the_modes_the_code_ships() -> None:
    shipped = list(MODES)

    assert list(tables_by_mode(DOCS.read_text(encoding="utf-8"))) == shipped
    assert list(tables_by_mode(render())) == shipped


def test_docs_hold_every_row_describe_prints() -> None:
    documented = tables_by_mode(DOCS.read_text(encoding="utf-8"))

    for mode, rows in tables_by_mode(render()).items():
        missing = [row for row in rows if row not in documented[mode]]
        assert not missing, f"docs/dev-portal.md lacks, under mode {mode}: {missing}"


def test_documented_options_are_the_declared_options() -> None:
    documented = options_by_mode(DOCS.read_text(encoding="utf-8"))
    declared = options_by_mode(render())

    for mode, options in declared.items():
        assert list(documented[mode]) == list(options), f"options of mode {mode} differ"
        for name, row in options.items():
            doc_row = documented[mode][name]
            assert doc_row[:-1] == row[:-1], f"{mode} option {name}"
            assert field_config(doc_row[-1]) == field_config(row[-1]), f"{mode} option {name}"


def test_describe_command_prints_the_same_settings() -> None:
    result = subprocess.run(
        [sys.executable, "main.py", "describe"],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        check=False,
        timeout=30,
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == render().strip()


def test_a_cell_keeps_pipes_and_line_breaks_inside_the_table() -> None:
    assert cell("a|b\r\nc\nd") == "a\\|b<br>c<br>d"
    assert split_row("| " + cell("x|y") + " | z |") == ("x\\|y", "z")
