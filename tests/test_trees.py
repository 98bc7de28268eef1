"""Both tools render the same project, and an unchosen mode leaves no trace."""

from __future__ import annotations

import re

import pytest

from tests.bake import EXECUTION_MODES, MODES, all_combinations, combo_id, read_tree
from tests.conftest import Baker

COMBINATIONS = [
    pytest.param(modes, execution_mode, id=combo_id(modes, execution_mode))
    for modes in all_combinations()
    for execution_mode in EXECUTION_MODES
]

# How each mode is spelled where it could leak into shared files.
TRACES = {
    "data_source": re.compile(r"data[-_ ]source|DataSource", re.IGNORECASE),
    "data_service": re.compile(r"data[-_ ]service|DataService", re.IGNORECASE),
    # "export" is an everyday word: look for the code's spellings of the mode only.
    "export": re.compile(
        r"ExportSettings|main\.py export(?!-)|modes\.export\b(?!_)|import export\b(?!_)"
        r"|(?<![\w-])export\.py|sample_data/export/|`export`"
    ),
    "export_delta": re.compile(r"export[-_ ]delta|ExportDelta", re.IGNORECASE),
}
# The Container API contract names every mode; it is the platform's text, not ours.
# References for the whole platform and the runtime (the same for every combination).
PLATFORM_REFERENCE = {"docs/container-api.md", "docs/runtime.md"}
# The template-owned runtime is one library for every combination (it knows the platform's four
# modes): tested below to be byte-identical everywhere, so updates never depend on the answers.
RUNTIME = "vendor/cde-runtime/"
LEFTOVER_TAG = re.compile(r"(?<!\$)\{\{|\{%")


@pytest.mark.parametrize(("modes", "execution_mode"), COMBINATIONS)
def test_cookiecutter_and_copier_render_identical_trees(
    bake: Baker, modes: tuple[str, ...], execution_mode: str
) -> None:
    by_cookiecutter = read_tree(bake("cookiecutter", modes, execution_mode))
    by_copier = read_tree(bake("copier", modes, execution_mode))

    assert sorted(by_cookiecutter) == sorted(by_copier)
    different = [path for path in by_cookiecutter if by_cookiecutter[path] != by_copier[path]]
    assert different == []


@pytest.mark.parametrize(("modes", "execution_mode"), COMBINATIONS)
def test_no_template_tag_survives_rendering(
    bake: Baker, modes: tuple[str, ...], execution_mode: str
) -> None:
    tree = read_tree(bake("cookiecutter", modes, execution_mode))
    leftovers = [
        path for path, content in tree.items() if LEFTOVER_TAG.search(content.decode("utf-8"))
    ]
    assert leftovers == []


@pytest.mark.parametrize(("modes", "execution_mode"), COMBINATIONS)
def test_an_unchosen_mode_leaves_no_trace(
    bake: Baker, modes: tuple[str, ...], execution_mode: str
) -> None:
    tree = read_tree(bake("cookiecutter", modes, execution_mode))
    for mode in MODES:
        if mode in modes:
            continue
        traces = {
            path: match.group(0)
            for path, content in tree.items()
            if path not in PLATFORM_REFERENCE
            and not path.startswith(RUNTIME)
            and (match := TRACES[mode].search(path + "\n" + content.decode("utf-8")))
        }
        assert traces == {}, f"{mode} is off but appears in {traces}"


def test_the_runtime_is_the_same_library_for_every_answer(bake: Baker) -> None:
    runtimes = {
        combo_id(modes, execution_mode): {
            path: content
            for path, content in read_tree(bake("cookiecutter", modes, execution_mode)).items()
            if path.startswith(RUNTIME)
        }
        for modes in all_combinations()
        for execution_mode in EXECUTION_MODES
    }
    first = next(iter(runtimes.values()))
    assert "vendor/cde-runtime/src/cde_runtime/__init__.py" in first
    different = [name for name, runtime in runtimes.items() if runtime != first]
    assert different == []


@pytest.mark.parametrize("modes", [("data_source",), ("export",), ("data_service", "export_delta")])
def test_each_chosen_mode_has_its_handler_and_tests(bake: Baker, modes: tuple[str, ...]) -> None:
    project = bake("cookiecutter", modes)
    for mode in modes:
        assert (project / "connector" / "modes" / f"{mode}.py").is_file()
        assert (project / "tests" / f"test_{mode}.py").is_file()
