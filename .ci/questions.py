"""Write cookiecutter.json from copier.yml, the one file the questions are written in.

    .venv/bin/python .ci/questions.py          # rewrite cookiecutter.json after editing copier.yml
    .venv/bin/python .ci/questions.py --check  # exit 1 when cookiecutter.json is not current

Each copier question becomes a cookiecutter variable in the same order: its default (a choice
question lists its default first, then the other choices), its `help` as the prompt in
`__prompts__`; a default that is a template reads the earlier answers as `cookiecutter.<name>`.
Cookiecutter asks every question (it has no `when:`); the rules stay in copier.yml, which the
hooks evaluate (hooks/rules.py). tests/test_questions.py fails when this file is stale.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from hooks.rules import Rules  # noqa: E402

COMMAND = ".venv/bin/python .ci/questions.py"
# What cookiecutter needs beyond the questions: the copier answers file is skipped (an empty
# file name), and answers stay literal (hooks/literal_answers.py).
COOKIECUTTER_ONLY = {"__answers": "", "_extensions": ["hooks.literal_answers.LiteralAnswers"]}


def namespaced(source: str, earlier: list[str]) -> str:
    """A copier default template with the earlier answers read as cookiecutter.<name>."""
    for name in earlier:
        source = re.sub(
            rf"(?<![\w.\"']){re.escape(name)}(?![\w\"'])", f"cookiecutter.{name}", source
        )
    return source


def cookiecutter_json(template: Path = ROOT) -> str:
    """The text cookiecutter.json must hold for the questions in copier.yml."""
    questions = Rules(template).questions
    variables: dict[str, Any] = {}
    for key, spec in questions.items():
        default = spec.get("default")
        if "choices" in spec:
            variables[key] = [default, *(choice for choice in spec["choices"] if choice != default)]
        elif isinstance(default, str) and re.search(r"\{\{|\{%", default):
            variables[key] = namespaced(default, list(variables))
        else:
            variables[key] = default
    variables["__prompts__"] = {key: spec["help"] for key, spec in questions.items()}
    return json.dumps({**variables, **COOKIECUTTER_ONLY}, indent=2, ensure_ascii=False) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="only tell whether it is current")
    args = parser.parse_args()
    target = ROOT / "cookiecutter.json"
    wanted = cookiecutter_json()
    if args.check:
        if target.read_text(encoding="utf-8") != wanted:
            print(f"cookiecutter.json is not current: run {COMMAND}", file=sys.stderr)
            return 1
        return 0
    target.write_text(wanted, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
