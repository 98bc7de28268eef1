"""Property tests over the space of answers, not a table: Hypothesis generates answer sets (names,
option declarations, Unicode text, every field type, numbers, booleans in several spellings) and
each set is baked with both tools. Every set must be refused by both with nothing written, or
generate byte-identical trees that parse; a sample also passes ruff, mypy and the generated
describe-vs-docs test, and one set runs the whole generated suite.

The validators (copier.yml, evaluated by hooks/rules.py) are the oracle for "refused": both tools
must refuse such a set with the sentence they give, and a set they accept must generate a
working project.

Each example's outcome is appended to `answer-space.jsonl` in pytest's temporary root; the
terminal summary (tests/conftest.py) prints how many sets were tried, refused, green and failed.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from hooks.rules import Rules, truthy
from tests.bake import ANSWERS_FILES, TEMPLATE, bake_cookiecutter, defaults, read_tree
from tests.test_free_text import parse
from tests.test_validation import for_cookiecutter

BIN = Path(sys.executable).parent
PYTEST = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"]
RULES = Rules(TEMPLATE)
MODES = RULES.modes
FIELD_TYPES = list(RULES.validators.FIELD_TYPES)
DEFAULT_OPTIONS = {mode: defaults()[f"{mode}_options"] for mode in MODES}

# Text people type, and text that attacks templates, Markdown, TOML, YAML and Python quoting.
SPECIAL = [
    "'", '"', "\\", "`", "|", "<b>", "&", "{{ 7*7 }}", "{% if 1 %}x{% endif %}", "{#", "${{ x }}",
    "\n", "\t", "#", "$(x)", ":", "- ", "🚀", "𝄞", "ü", "ß", "İ", "日本", "\u2028", " ", ",",
]  # fmt: skip
text = st.lists(st.one_of(st.sampled_from(SPECIAL), st.text(max_size=6)), max_size=5).map("".join)
line = text.map(lambda value: value.replace("\n", " ").replace("\r", " "))
# Printable text only: what an accepted answer set holds (control characters are refused).
printable = st.characters(exclude_categories=("Cc", "Cs", "Cn"))
safe_text = st.lists(
    st.one_of(st.sampled_from(SPECIAL), st.text(printable, max_size=6)), max_size=5
).map("".join)
safe_line = safe_text.map(lambda value: " ".join(value.split()))
number = st.one_of(st.integers(-5, 99), st.sampled_from([1.5, 0.0, 2.0]))
option_name = st.one_of(
    st.sampled_from(
        [
            "OPTION",
            "STR",
            "BOOL",
            "LIST",
            "LOAD",
            "OPTIONS",
            "EXECUTION_MODE",
            "SECRET_VALUES",
            "SETTINGS_CUSTOMISE_SOURCES",
            "class",
            "model_config",
            "Name",
            "NAME",
            "json",
            "CHANNEL_URL",
            "PATH",
            "a-b",
            "A_B",
            "x1",
            "SOURCE_COLUMN",
            "FEED_URL",
            "1ABC",
            "A B",
        ]
    ),
    st.from_regex(r"[A-Za-z][A-Za-z0-9_-]{0,12}", fullmatch=True),
)
choice = st.one_of(line, number, st.sampled_from(["a", "b", "a,b", " a", "eu", "us", True]))


def attribute_name(option: str) -> str:
    """The settings attribute an option becomes (new-column -> NEW_COLUMN)."""
    return option.upper().replace("-", "_")


@st.composite
def option_spec(draw: st.DrawFn) -> Any:
    field_type = draw(st.sampled_from([*FIELD_TYPES, "dropdown"]))
    spec: dict[str, Any] = {"type": field_type}
    if draw(st.booleans()):
        spec["required"] = draw(st.one_of(st.booleans(), st.just("yes")))
    if field_type in ("select", "select_multiple") or draw(st.integers(0, 9)) == 0:
        spec["choices"] = draw(st.lists(choice, min_size=0, max_size=4))
    if draw(st.booleans()):
        choices = spec.get("choices") or []
        candidates = [st.sampled_from(choices)] if choices else []
        spec["default"] = draw(
            st.one_of(*candidates, line, number, st.sampled_from(["0", "1", "", True]))
        )
    if draw(st.booleans()):
        spec["description"] = draw(st.one_of(text, number))
    return draw(st.one_of(st.just(spec), st.just(None))) if draw(st.integers(0, 9)) == 0 else spec


@st.composite
def valid_option_spec(draw: st.DrawFn) -> dict[str, Any]:
    """A declaration the rules accept, of any field type."""
    field_type = draw(st.sampled_from(FIELD_TYPES))
    spec: dict[str, Any] = {"type": field_type, "required": draw(st.booleans())}
    if draw(st.booleans()):
        spec["description"] = draw(st.one_of(safe_text, number))
    if field_type in ("select", "select_multiple"):
        item = safe_line.filter(lambda c: c and (field_type == "select" or "," not in c))
        choices = draw(st.lists(st.one_of(item, number.map(str)), min_size=1, max_size=4))
        choices = list(dict.fromkeys(str(c) for c in choices))
        spec["choices"] = choices
        picked = draw(st.lists(st.sampled_from(choices), max_size=2, unique=True))
        spec["default"] = (
            ", ".join(picked) if field_type == "select_multiple" else (picked[0] if picked else "")
        )
    elif field_type == "checkbox":
        spec["default"] = draw(st.sampled_from(["", "0", "1"]))
    elif field_type != "password":
        spec["default"] = draw(st.one_of(safe_line, number))
    return spec


@st.composite
def valid_answer_sets(draw: st.DrawFn) -> dict[str, Any]:
    """Answer sets built to be accepted: every field type, hostile text, collision-prone names."""
    answers: dict[str, Any] = {
        "project_name": draw(safe_line.filter(str.strip)),
        "description": draw(safe_text),
        "author_name": draw(safe_line),
        "execution_mode": draw(
            st.sampled_from(["environment_variables", "command_line_arguments"])
        ),
    }
    chosen = draw(st.lists(st.sampled_from(MODES), min_size=1, max_size=4, unique=True))
    used: set[str] = set()
    for mode in MODES:
        answers[f"mode_{mode}"] = mode in chosen
        if mode not in chosen:
            continue
        dropped = draw(st.booleans())  # only custom options: the example code must adapt
        declared: dict[str, Any] = {name: None for name in DEFAULT_OPTIONS[mode]} if dropped else {}
        # With the defaults dropped, a default's name may come back with another type.
        own_defaults = [st.sampled_from(list(DEFAULT_OPTIONS[mode]))] if dropped else []
        names = draw(st.lists(st.one_of(option_name, *own_defaults), max_size=3))
        taken = used | {
            attribute_name(d)
            for other in MODES
            for d in DEFAULT_OPTIONS[other]
            if not (dropped and other == mode)
        }
        for name in names:
            key = attribute_name(name)
            if RULES.validators.options_error("q", {name: {}}) or key in taken:
                continue
            taken.add(key)
            used.add(key)
            declared[name] = draw(valid_option_spec())
        answers[f"{mode}_options"] = declared
        if not dropped:
            used.update(attribute_name(n) for n in DEFAULT_OPTIONS[mode])
    return answers


@st.composite
def answer_sets(draw: st.DrawFn) -> dict[str, Any]:
    answers: dict[str, Any] = {
        "project_name": draw(st.one_of(line.filter(str.strip), st.sampled_from(["Acme's Feed"]))),
        "description": draw(text),
        "author_name": draw(line),
        "execution_mode": draw(
            st.sampled_from(["environment_variables", "command_line_arguments"])
        ),
    }
    if draw(st.integers(0, 4)) == 0:
        answers["project_slug"] = draw(st.from_regex(r"[a-z0-9_-]{1,12}", fullmatch=True))
    chosen = draw(st.lists(st.sampled_from(MODES), max_size=3, unique=True))
    for mode in MODES:
        on = mode in chosen
        spelling = draw(st.sampled_from([on, ("yes" if on else "no"), ("true" if on else "off")]))
        answers[f"mode_{mode}"] = spelling
        if on and draw(st.booleans()):
            declared = draw(st.dictionaries(option_name, option_spec(), max_size=3))
            # Explicit nulls drop the defaults in both tools (cookiecutter merges dicts).
            kept = {name: None for name in DEFAULT_OPTIONS[mode] if draw(st.booleans())}
            answers[f"{mode}_options"] = {**kept, **declared}
    if "data_service" in chosen and draw(st.booleans()):
        answers["data_service_max_usage"] = draw(st.sampled_from(["1", "7", "0", "x"]))
    if "export_delta" in chosen and draw(st.booleans()):
        answers["export_delta_key"] = draw(line)
    return answers


def effective(answers: dict[str, Any]) -> dict[str, Any]:
    """The answers the templates see: an options answer replaces the defaults (copier's way;
    cookiecutter is given explicit nulls for the same effect, see `for_cookiecutter`)."""
    merged = {**defaults(), **answers}
    for key, value in list(merged.items()):
        if key.startswith("mode_") and isinstance(value, str):
            merged[key] = truthy(value)
    if "project_slug" not in answers:
        merged["project_slug"] = "derived"
    return merged


def whole_specs(answers: dict[str, Any]) -> dict[str, Any]:
    """Cookiecutter (--no-input) merges a redeclared default option key by key into the default
    declaration: spell out every key so it means what copier reads."""
    given = dict(answers)
    for mode in MODES:
        declared = given.get(f"{mode}_options")
        if not isinstance(declared, dict):
            continue
        given[f"{mode}_options"] = {
            name: (
                {"type": "input", "required": False, "default": "", "description": "", **spec}
                if name in DEFAULT_OPTIONS[mode] and isinstance(spec, dict)
                else spec
            )
            for name, spec in declared.items()
        }
    return given


def bake_copier_into(answers: dict[str, Any], dest: Path, template: Path) -> None:
    from copier import run_copy

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        run_copy(str(template), dest, data=answers, defaults=True, unsafe=False, quiet=True)


def bake_both(answers: dict[str, Any], root: Path, template: Path) -> tuple[Any, Any]:
    """(cookiecutter project or exception, copier project or exception)."""
    from cookiecutter.exceptions import FailedHookException

    results: list[Any] = []
    try:
        given = whole_specs(for_cookiecutter(answers))
        results.append(bake_cookiecutter(given, root / "cookiecutter", template=template))
    except FailedHookException as refused:
        results.append(refused)
    try:
        bake_copier_into(answers, root / "copier" / "project", template)
        results.append(root / "copier" / "project")
    except ValueError as refused:
        results.append(refused)
    return results[0], results[1]


def record(outcome: str, answers: dict[str, Any]) -> None:
    """Append one example's outcome for the terminal summary (shared by xdist workers)."""
    from tests.conftest import answer_space_log

    with answer_space_log().open("a", encoding="utf-8") as log:
        log.write(json.dumps({"outcome": outcome, "answers": repr(answers)[:300]}) + "\n")


def run(command: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "COV_"))}
    return subprocess.run(
        command, cwd=cwd, capture_output=True, text=True, timeout=600, env=env, check=False
    )


def check_set(
    answers: dict[str, Any],
    root: Path,
    template: Path,
    gates: Callable[[Path], None] | None = None,
) -> None:
    errors = RULES.errors(effective(answers))
    by_cookiecutter, by_copier = bake_both(answers, root, template)
    try:
        if errors:
            assert isinstance(by_cookiecutter, Exception), f"cookiecutter accepted: {errors}"
            assert isinstance(by_copier, Exception), f"copier accepted: {errors}"
            # copier stops at the first question its validators refuse: the same sentence the
            # hook gives for it.
            sentence = str(by_copier).split("': ", 1)[-1]
            assert "Validation error" in str(by_copier), by_copier
            assert sentence in errors, (sentence, errors)
            written = [p for p in root.rglob("*") if p.is_file()]
            assert written == [], written
            record("refused", answers)
            return
        assert isinstance(by_cookiecutter, Path), by_cookiecutter
        assert isinstance(by_copier, Path), by_copier
        tree = read_tree(by_cookiecutter)
        assert tree == read_tree(by_copier)
        for name in tree:
            parse(by_cookiecutter / name)
        for name in ANSWERS_FILES:
            for found in (by_cookiecutter / name, by_copier / name):
                if found.exists():
                    parse(found)
        if gates is not None:
            gates(by_cookiecutter)
    except BaseException:
        record("failed", answers)
        raise
    record("green", answers)


@pytest.fixture(scope="module")
def fresh_root(tmp_path_factory: pytest.TempPathFactory) -> Callable[[], Path]:
    counter = iter(range(10**6))
    base = tmp_path_factory.mktemp("answer-space")
    return lambda: base / f"{next(counter):04d}"


COMMON = settings(
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)


@settings(COMMON, max_examples=20)
@given(answers=st.one_of(answer_sets(), valid_answer_sets()))
def test_every_answer_set_is_refused_by_both_or_renders_identical_parsable_trees(
    answers: dict[str, Any], fresh_root: Callable[[], Path], template_copy: Path
) -> None:
    check_set(answers, fresh_root(), template_copy)


MYPY_CACHE: list[Path] = []  # set by the `mypy_cache` fixture


@pytest.fixture(scope="module")
def mypy_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # Shared with tests/test_generated.py: most generated modules are the same in every bake.
    cache = tmp_path_factory.getbasetemp() / "mypy-cache"
    MYPY_CACHE[:] = [cache]
    return cache


def lint_type_and_describe(project: Path) -> None:
    lint = run([str(BIN / "ruff"), "check", "--no-cache", "."], project)
    assert lint.returncode == 0, lint.stdout
    typed = run([sys.executable, "-m", "mypy", "--cache-dir", str(MYPY_CACHE[0])], project)
    assert typed.returncode == 0, typed.stdout
    describe = run(
        [*PYTEST, "tests", "-k", "dev_portal_page or missing_required_option or health_check"],
        project,
    )
    assert describe.returncode == 0, describe.stdout[-4000:]


# Each example runs mypy: a few, and no shrinking (a failure reports the example as drawn).
@settings(COMMON, max_examples=3, phases=[Phase.generate])
@given(answers=valid_answer_sets().filter(lambda a: not RULES.errors(effective(a))))
def test_accepted_answer_sets_are_ruff_and_mypy_clean_and_describe_matches_the_docs(
    answers: dict[str, Any],
    fresh_root: Callable[[], Path],
    template_copy: Path,
    mypy_cache: Path,
) -> None:
    check_set(answers, fresh_root(), template_copy, gates=lint_type_and_describe)


def whole_suite(project: Path) -> None:
    lint_type_and_describe(project)
    suite = run([*PYTEST, "-rs"], project)
    assert suite.returncode == 0, suite.stdout[-5000:] + suite.stderr[-2000:]
    summary = suite.stdout.strip().splitlines()[-1]
    assert " passed" in summary
    # The one skip allowed: a runtime check that cannot apply to the options declared, naming
    # the option to declare (tests/test_generated.py checks it comes exactly when it should).
    skips = [line for line in suite.stdout.splitlines() if line.startswith("SKIPPED")]
    assert ("skipped" in summary) == bool(skips), summary
    for line in skips:
        assert "testing/checks.py" in line, line
        assert "declares no URL option (e.g. CHANNEL_URL)" in line, line


@pytest.mark.slow
@settings(COMMON, max_examples=1, phases=[Phase.generate])
@given(answers=valid_answer_sets().filter(lambda a: not RULES.errors(effective(a))))
def test_a_generated_answer_set_passes_the_whole_generated_suite(
    answers: dict[str, Any],
    fresh_root: Callable[[], Path],
    template_copy: Path,
    mypy_cache: Path,
) -> None:
    check_set(answers, fresh_root(), template_copy, gates=whole_suite)
