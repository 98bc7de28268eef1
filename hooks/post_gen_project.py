"""Strip the modes that were not chosen from a cookiecutter/cruft project, say what next.

Copier strips with `_exclude` in copier.yml; this hook applies the same patterns
(hooks/rules.py) to the template's own paths, so regenerating over an existing project
(`--overwrite-if-exists`) never touches the user's files, whatever their names. The
next-steps message is copier's too (hooks/next_steps.jinja).
"""

from __future__ import annotations

import json
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any


def remove(root: Path, paths: list[Path]) -> None:
    """Delete `paths` (relative to `root`); a folder goes with everything in it."""
    for relative in sorted(paths):
        path = root / relative
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        elif path.exists() or path.is_symlink():
            path.unlink()


def update_note(answers: dict[str, Any], rules: Any) -> str:
    """What stands between this new project and later template releases, if anything.

    Cruft adds the template's commit (`_commit`) to the answers; plain cookiecutter does not,
    and records nothing an update could start from.
    """
    if "_commit" not in answers:
        return "\n".join(
            [
                "---- template updates ----",
                "Made with plain cookiecutter, which records no template version: to take later "
                "template releases, link the project once to the template's git URL as its "
                "README.md, Template updates, says.",
                "--------------------------",
            ]
        )
    source = str(answers.get("_template", ""))
    return str(rules.local_source_note(source, "cruft update", '"template" in .cruft.json'))


def shown_path(answers: dict[str, Any], project: Path) -> Path:
    """The project's folder as the user can reach it.

    cruft (the only one to add `_commit`) renders into a temporary folder and then moves the
    project to where it was run: name the folder alone, as copier names what was typed.
    """
    return Path(project.name) if "_commit" in answers else project


def regenerated_by_cruft(answers: dict[str, Any], template: Path, project: Path) -> bool:
    """Whether cruft is rendering the template only to compare (`cruft diff`, `cruft update`).

    cruft gives hooks no sign of it (cruft issue #143), so this reads its layout: for diff and
    update it clones the template into `<tmp>/repo` and renders into a fresh `<tmp>/<project>`
    (both right under the system's temporary folder), while `cruft create` clones into `<tmp>`
    itself and renders where it was run.
    """
    if "_commit" not in answers:
        return False
    temp = Path(tempfile.gettempdir()).resolve()
    try:
        clone = template.resolve().relative_to(temp).parts
    except ValueError:
        return False
    return clone[1:2] == ("repo",) and project.resolve().parent.parent == temp


def main(answers: dict[str, Any], template: Path) -> int:
    sys.path.insert(0, str(template))
    from hooks.rules import Rules

    rules = Rules(template)
    remove(Path.cwd(), rules.excluded_paths(answers))
    if regenerated_by_cruft(answers, template, Path.cwd()):
        return 0  # the user asked for a diff or an update, not a new project
    print(rules.next_steps(answers, shown_path(answers, Path.cwd())))
    note = update_note(answers, rules)
    if note:
        # A delimited block of its own, so other next steps printed around it stay readable.
        print(f"\n{note}")
    return 0


if __name__ == "__main__":
    # tojson escapes quotes, so no answer can end these raw strings early (a list, so no
    # string's own quote meets the delimiters). cookiecutter names its template folder as
    # `_repo_dir`; cruft does not, and the literal-answers extension does.
    answers = json.loads(r"""{{ cookiecutter | tojson }}""")
    [template] = json.loads(r"""{{ [cookiecutter._repo_dir | default(template_dir)] | tojson }}""")
    sys.exit(main(answers, Path(template)))
