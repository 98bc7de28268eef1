"""Strip the modes that were not chosen from a cookiecutter/cruft project.

Copier strips the same files with `_exclude` in copier.yml. Both follow one naming
rule (docs/architecture.md): a file or folder named `<mode>`, `<mode>.<ext>` or
`test_<mode>.<ext>` belongs to that mode; `channel` files belong to the two export
modes together. tests/test_trees.py proves the two tools give identical trees.

The rule applies to the template's own paths only: regenerating over an existing project
(`--overwrite-if-exists`) never touches the user's files, whatever their names.
"""

from __future__ import annotations

import json
import shutil
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

MODES = ("data_source", "data_service", "export", "export_delta")
# The folder the template renders into the project (escaped: this file is rendered as Jinja).
PROJECT_DIR = "\x7b\x7bcookiecutter.project_slug\x7d\x7d"


def owned_by(path: Path, owner: str) -> bool:
    """Whether `path` (or a folder it is in) belongs to `owner` (a mode, or "channel")."""
    return any(part.split(".", 1)[0] in (owner, f"test_{owner}") for part in path.parts)


def template_paths(template: Path) -> list[Path]:
    """The project paths the template itself holds, relative to the project folder.

    Names holding a tag are left out: they are rendered, and none is named after a mode.
    """
    project = template / PROJECT_DIR
    return sorted(
        path.relative_to(project)
        for path in project.rglob("*")
        if "{" not in path.relative_to(project).as_posix()
    )


def unused_owners(answers: dict[str, Any]) -> list[str]:
    """The modes (and shared export files) the answers leave out."""
    owners = [mode for mode in MODES if not truthy(answers[f"mode_{mode}"])]
    if not (truthy(answers["mode_export"]) or truthy(answers["mode_export_delta"])):
        owners.append("channel")
    return owners


def remove_files_of(root: Path, owners: Iterable[str], paths: Iterable[Path]) -> list[Path]:
    """Delete the template's files and folders under `root` that belong to one of `owners`.

    `paths` are the template's own (relative) paths: anything else under `root` is the user's.
    """
    owners = list(owners)
    removed = []
    for relative in sorted(paths):
        path = root / relative
        if any(owned_by(relative, owner) for owner in owners) and path.exists():
            if path.is_dir():
                shutil.rmtree(path)
            else:
                path.unlink()
            removed.append(path)
    return removed


def truthy(value: Any) -> bool:
    """Cookiecutter booleans arrive as bools; strings from old replay files as text."""
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes", "y", "on")
    return bool(value)


def is_local(source: str) -> bool:
    """Whether a template source is a path (or file:// URL) that only this machine can read."""
    # The same rule as `_message_after_copy` in copier.yml (tests/test_questions.py compares).
    remote = source.startswith(("gh:", "gl:", "bb:", "git@"))
    return not (remote or ("://" in source and not source.startswith("file:")))


def update_notes(answers: dict[str, Any]) -> list[str]:
    """What stands between this new project and later template releases, if anything.

    Cruft adds the template's commit (`_commit`) to the answers; plain cookiecutter does not,
    and records nothing an update could start from.
    """
    source = str(answers.get("_template", ""))
    if "_commit" not in answers:
        return [
            "Made with plain cookiecutter, which records no template version: to take later "
            "template releases, link the project once to the template's git URL as its "
            "README.md, Template updates, says."
        ]
    if is_local(source):
        return [
            f"Generated from a local path ({source}). Template updates and the weekly template "
            'check in CI need the template\'s git URL: set "template" in .cruft.json to it, '
            "then commit."
        ]
    return []


def next_steps(answers: dict[str, Any], project: Path) -> str:
    """What to do after generating; copier prints the same text (`_message_after_copy`)."""
    first = next(mode for mode in MODES if truthy(answers[f"mode_{mode}"])).replace("_", "-")
    return "\n".join(
        [
            f"Created {project}. Next steps:",
            f"  cd {project}",
            f"  python3 dev.py run {first}    # run a mode against the local Container API",
            "  python3 dev.py test              # run the tests",
            '  git init && git add . && git commit -qm "Generated from the CDE connector template"',
            "docs/dev-portal.md lists what to enter in the Dev portal.",
        ]
    )


def shown_path(answers: dict[str, Any], project: Path) -> Path:
    """The project's folder as the user can reach it.

    cruft (the only one to add `_commit`) renders into a temporary folder and then moves the
    project to where it was run: name the folder alone, as copier names what was typed.
    """
    return Path(project.name) if "_commit" in answers else project


def main(answers: dict[str, Any], template: Path) -> int:
    remove_files_of(Path.cwd(), unused_owners(answers), template_paths(template))
    print(next_steps(answers, shown_path(answers, Path.cwd())))
    notes = update_notes(answers)
    if notes:
        # A delimited block of its own, so other next steps printed around it stay readable.
        print("\n---- template updates ----", *notes, "--------------------------", sep="\n")
    return 0


if __name__ == "__main__":
    # tojson escapes quotes, so no answer can end this raw string early.
    sys.exit(
        main(
            json.loads(r"""{{ cookiecutter | tojson }}"""),
            # cookiecutter names its template folder; cruft does not, the extension does.
            # (tojson escapes single quotes, so no path can end this raw string early.)
            Path(json.loads(r'''{{ cookiecutter._repo_dir | default(template_dir) | tojson }}''')),
        )
    )
