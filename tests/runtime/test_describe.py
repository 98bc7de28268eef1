"""docs/dev-portal.md and `python main.py describe` must tell the Dev portal the same thing.

The page's generated part must be exactly what `describe --write` would write; the tables are
also compared one by one, so a failure names the option or setting that differs.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

from cde_runtime.describe import BEGIN, END, OPTION_HEADER, WRITE_COMMAND, cell, updated_page
from cde_runtime.describe import render as render_modes
from connector.modes import MODES

from tests.runtime.conftest import PROJECT_ROOT

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
        where = f"docs/dev-portal.md lacks, under mode {mode}"
        assert not missing, f"{where}: {missing}; run {WRITE_COMMAND}"


def test_documented_options_are_the_declared_options() -> None:
    documented = options_by_mode(DOCS.read_text(encoding="utf-8"))
    declared = options_by_mode(render())

    for mode, options in declared.items():
        differ = f"the options of mode {mode} differ: run {WRITE_COMMAND}"
        assert list(documented[mode]) == list(options), differ
        for name, row in options.items():
            doc_row = documented[mode][name]
            assert doc_row[:-1] == row[:-1], f"{mode} option {name}"
            assert field_config(doc_row[-1]) == field_config(row[-1]), f"{mode} option {name}"


def test_the_page_is_what_describe_write_makes_of_it() -> None:
    page = DOCS.read_text(encoding="utf-8")

    assert updated_page(page, render()) == page, f"docs/dev-portal.md is stale: run {WRITE_COMMAND}"


def describe(*arguments: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "main.py", "describe", *arguments],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        check=False,
        timeout=30,
    )


def test_describe_command_prints_the_same_settings() -> None:
    result = describe()

    assert result.returncode == 0, result.stderr
    assert result.stdout == render()


def test_describe_write_regenerates_only_the_marked_part(tmp_path: Path) -> None:
    page = tmp_path / "dev-portal.md"
    page.write_text(f"# Mine\n\nmy notes\n{BEGIN}\n| stale | row |\n{END}\n\nmore notes\n")

    result = describe("--write", str(page))

    assert result.returncode == 0, result.stderr
    expected = f"# Mine\n\nmy notes\n{BEGIN}\n{render()}{END}\n\nmore notes\n"
    assert page.read_text(encoding="utf-8") == expected


def test_describe_write_refuses_a_page_without_markers_in_one_line(tmp_path: Path) -> None:
    page = tmp_path / "dev-portal.md"
    page.write_text("# Mine\n", encoding="utf-8")

    result = describe("--write", str(page))

    assert result.returncode == 1
    assert result.stderr.startswith(f"Cannot update {page}: the page has no generated part")
    assert page.read_text(encoding="utf-8") == "# Mine\n"


def test_a_cell_keeps_pipes_and_line_breaks_inside_the_table() -> None:
    assert cell("a|b\r\nc\nd") == "a\\|b<br>c<br>d"
    assert split_row("| " + cell("x|y") + " | z |") == ("x\\|y", "z")
