"""Refuse invalid answers before cookiecutter/cruft write anything.

The rules are copier's: this hook evaluates the `validator:` of every question in copier.yml
(macros in hooks/validate_answers.jinja) through hooks/rules.py, so both tools refuse the same
answers with the same sentences. Unlike copier, which stops at the first question it refuses,
it reports every refused question at once.

Exit code 1 makes cookiecutter delete the half-made output folder, so a bad
answer leaves nothing behind.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

SECRET_DEFAULT = "is a password with a default"


def main(answers: dict[str, Any], template: Path) -> int:
    sys.path.insert(0, str(template))
    from hooks.rules import Rules

    errors = Rules(template).errors(answers)
    for error in errors:
        print(f"ERROR: {error}", file=sys.stderr)
    if errors:
        print("Nothing was generated. Fix the answers above and run again.", file=sys.stderr)
    if "_commit" not in answers and any(SECRET_DEFAULT in error for error in errors):
        # Plain cookiecutter saves the answers to its replay file before any hook runs (cruft,
        # which adds `_commit`, does not): the secret is on disk already, so say where.
        print(
            "cookiecutter has already saved these answers, that secret included, to its replay "
            "folder (~/.cookiecutter_replay/ unless your cookiecutter config names another "
            "replay_dir): delete the template's .json file there.",
            file=sys.stderr,
        )
    return 1 if errors else 0


if __name__ == "__main__":
    # tojson escapes quotes, so no answer can end these raw strings early (a list, so no
    # string's own quote meets the delimiters). cookiecutter names its template folder as
    # `_repo_dir`; cruft does not, and the literal-answers extension does.
    answers = json.loads(r"""{{ cookiecutter | tojson }}""")
    [template] = json.loads(r"""{{ [cookiecutter._repo_dir | default(template_dir)] | tojson }}""")
    sys.exit(main(answers, Path(template)))
