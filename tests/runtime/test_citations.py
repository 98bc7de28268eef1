"""Every reference in this repository points at something in this repository.

Code comments cite docs/container-api.md as "§3.5" (a section) or "unknown 7" (an item of its
list of unknowns), and mention docs by path; each must exist here, so a reader can follow it.
"""

from __future__ import annotations

import re
from pathlib import Path

from tests.runtime.conftest import PROJECT_ROOT

API_DOC = PROJECT_ROOT / "docs" / "container-api.md"
SKIPPED = {".git", ".venv", "venv", ".mypy_cache", ".ruff_cache", ".pytest_cache", ".emulator-out"}
SUFFIXES = {".py", ".md", ".json", ".toml", ".yaml", ".yml", ".txt", ".example", ""}
SECTION = re.compile(r"§\s?(\d+(?:\.\d+)?)")
UNKNOWN = re.compile(r"\bunknown (\d+)\b")
DOC_PATH = re.compile(r"\b(docs/[\w.-]+\.md)\b")


def project_files() -> list[Path]:
    return [
        path
        for path in sorted(PROJECT_ROOT.rglob("*"))
        if path.is_file()
        and path.suffix in SUFFIXES
        and not SKIPPED.intersection(path.relative_to(PROJECT_ROOT).parts)
    ]


def texts() -> dict[str, str]:
    found = {}
    for path in project_files():
        try:
            found[str(path.relative_to(PROJECT_ROOT))] = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue
    return found


def documented_sections() -> set[str]:
    """Section numbers of the headings `## 1. ...` and `### 3.5 ...`."""
    text = API_DOC.read_text(encoding="utf-8")
    return set(re.findall(r"^#{2,3} (\d+(?:\.\d+)?)\.? ", text, re.MULTILINE))


def documented_unknowns() -> set[str]:
    """Item numbers of the numbered list under `## 6. Unknowns`."""
    text = API_DOC.read_text(encoding="utf-8")
    section = text.split("## 6. Unknowns", 1)[1].split("\n## ", 1)[0]
    return set(re.findall(r"^(\d+)\. ", section, re.MULTILINE))


def test_the_api_doc_has_the_sections_and_unknowns_cited() -> None:
    sections, unknowns = documented_sections(), documented_unknowns()
    assert {"1", "2", "3.5", "6"} <= sections
    assert unknowns == {str(number) for number in range(1, len(unknowns) + 1)}

    for name, text in texts().items():
        for cited in SECTION.findall(text):
            assert cited in sections, f"{name} cites §{cited}, which docs/container-api.md lacks"
        for cited in UNKNOWN.findall(text):
            assert cited in unknowns, f"{name} cites unknown {cited}, not in docs/container-api.md"


def test_a_file_that_cites_sections_names_the_document_it_cites() -> None:
    # "§3.5" alone leaves a reader guessing which document is meant.
    for name, text in texts().items():
        if name != "docs/container-api.md" and (SECTION.search(text) or UNKNOWN.search(text)):
            assert "docs/container-api.md" in text, f"{name} cites § or unknowns without the doc"


def test_documents_named_in_the_code_exist() -> None:
    for name, text in texts().items():
        for path in DOC_PATH.findall(text):
            assert (PROJECT_ROOT / path).is_file(), f"{name} names {path}, which does not exist"


def test_nothing_cites_a_document_outside_this_repository() -> None:
    # The template's own notes on the API; spelled so that this file does not match itself.
    foreign = "contract".upper()
    # Code points at this repository's docs, not at sources a reader of it does not have.
    elsewhere = re.compile(r"quickstart|productsup(?:'s)? (?:python |php )?sample|\d{4} docs", re.I)
    for name, text in texts().items():
        assert foreign not in text, f"{name} cites {foreign}, which is not in this repository"
        if name.endswith(".py") and name != "tests/runtime/test_citations.py":
            found = elsewhere.search(text)
            assert found is None, (
                f"{name} cites {found and found.group(0)!r}: not in this repository"
            )
