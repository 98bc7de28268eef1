"""Render the template with either tool, the way a user would, and read the result.

Also a command line for template developers:
    python tests/bake.py --tool copier --out /tmp/x mode_export=true \
        execution_mode=command_line_arguments
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import tempfile
import warnings
from collections.abc import Iterator, Mapping
from itertools import product
from pathlib import Path
from typing import Any

TEMPLATE = Path(__file__).resolve().parent.parent
# The runtime package every generated repo holds a copy of (vendor/cde-runtime), at its source.
RUNTIME_PACKAGE = TEMPLATE / "{{cookiecutter.project_slug}}" / "vendor" / "cde-runtime"
RUNTIME_SOURCE = RUNTIME_PACKAGE / "src"


def own_runtime_first(project: Path, env: Mapping[str, str]) -> dict[str, str]:
    """`env` with the project's own copy of the runtime package first on the import path.

    The suite's venv has the package installed from this tree (its entry point registers the
    pytest plugin); a generated project runs its own copy, which is what a user's .venv holds.
    """
    copy = project / "vendor" / "cde-runtime" / "src"
    if not copy.is_dir():
        return dict(env)
    return {**env, "PYTHONPATH": os.pathsep.join(filter(None, [str(copy), env.get("PYTHONPATH")]))}


MODES = ("data_source", "data_service", "export", "export_delta")
EXECUTION_MODES = ("environment_variables", "command_line_arguments")
# Files each tool adds on its own; everything else must be byte-identical.
ANSWERS_FILES = (".copier-answers.yml", ".cruft.json")


def defaults() -> dict[str, Any]:
    """The default answers, from cookiecutter.json (copier.yml is tested to agree)."""
    answers = json.loads((TEMPLATE / "cookiecutter.json").read_text(encoding="utf-8"))
    for key, value in list(answers.items()):
        if isinstance(value, list):
            answers[key] = value[0]
        if key.startswith("_"):
            del answers[key]
    answers["project_slug"] = "my-connector"
    return answers


def mode_answers(
    modes: tuple[str, ...], execution_mode: str = EXECUTION_MODES[0]
) -> dict[str, Any]:
    """Answers choosing exactly `modes`."""
    answers: dict[str, Any] = {f"mode_{mode}": mode in modes for mode in MODES}
    answers["execution_mode"] = execution_mode
    return answers


def all_combinations() -> Iterator[tuple[str, ...]]:
    """The 15 non-empty mode combinations, smallest first."""
    combos = [
        tuple(mode for mode, on in zip(MODES, flags, strict=True) if on)
        for flags in product((False, True), repeat=len(MODES))
    ]
    yield from sorted((c for c in combos if c), key=lambda c: (len(c), c))


def combo_id(modes: tuple[str, ...], execution_mode: str) -> str:
    return "+".join(modes) + ("-cli" if execution_mode == "command_line_arguments" else "-env")


def bake_cookiecutter(answers: Mapping[str, Any], out_dir: Path, template: Path = TEMPLATE) -> Path:
    """Run cookiecutter without prompts; returns the project folder."""
    from cookiecutter.main import cookiecutter

    out_dir.mkdir(parents=True, exist_ok=True)
    return Path(
        cookiecutter(
            str(template),
            no_input=True,
            extra_context=dict(answers),
            output_dir=str(out_dir),
            accept_hooks=True,
        )
    )


def working_copy(dest: Path) -> Path:
    """The template's working tree without git, so copier renders uncommitted work too."""
    ignore = shutil.ignore_patterns(
        ".git", ".venv", "__pycache__", ".*_cache", "*.pyc", ".emulator-out", "benchmarks"
    )
    shutil.copytree(TEMPLATE, dest, ignore=ignore)
    return dest


def bake_copier(
    answers: Mapping[str, Any],
    out_dir: Path,
    template: Path | None = None,
    vcs_ref: str | None = None,
) -> Path:
    """Run copier without prompts; returns the project folder.

    Without `template`, renders a git-less copy of the working tree (copier would
    otherwise render the latest tag, or HEAD, of a git template).
    """
    from copier import run_copy

    slug = answers.get("project_slug", "my-connector")
    dest = out_dir / str(slug)
    if template is None:
        scratch = Path(tempfile.mkdtemp(prefix="template-"))
        template = working_copy(scratch / "template")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # DirtyLocalWarning while developing the template
        run_copy(
            str(template),
            dest,
            data=dict(answers),
            defaults=True,
            unsafe=False,
            vcs_ref=vcs_ref,
            quiet=True,
        )
    return dest


def read_tree(root: Path) -> dict[str, bytes]:
    """Every file under `root` (answers files aside), by relative path."""
    return {
        path.relative_to(root).as_posix(): path.read_bytes()
        for path in sorted(root.rglob("*"))
        if path.is_file() and path.name not in ANSWERS_FILES and ".git" not in path.parts
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tool", choices=["cookiecutter", "copier"], default="cookiecutter")
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("answers", nargs="*", help="key=value (JSON values allowed)")
    args = parser.parse_args()
    answers: dict[str, Any] = {}
    for item in args.answers:
        key, _, value = item.partition("=")
        try:
            answers[key] = json.loads(value)
        except json.JSONDecodeError:
            answers[key] = value
    out = args.out or Path(tempfile.mkdtemp(prefix="bake-"))
    if out.exists() and any(out.iterdir()):
        shutil.rmtree(out)
    # A snapshot without caches: tools run in the template folder leave binary files.
    template = working_copy(Path(tempfile.mkdtemp(prefix="template-")) / "template")
    bake = bake_cookiecutter if args.tool == "cookiecutter" else bake_copier
    print(bake(answers, out, template=template))


if __name__ == "__main__":
    main()
