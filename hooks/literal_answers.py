"""Keep cookiecutter from evaluating answers as Jinja templates.

Cookiecutter renders every answer value it did not prompt for (``--no-input``, a config file,
``extra_context``, a cruft replay) as a Jinja template before any hook runs, so an answer such as
a description containing double braces would be evaluated, with the full power of Jinja (code
execution included). Copier keeps answers literal. This extension, named in cookiecutter.json's
``_extensions``, makes cookiecutter do the same: a string is rendered as a template only when every
tag in it is one the template itself wrote (in cookiecutter.json, a file or folder name, or a
hook); anything else is returned as it was typed.

Cookiecutter puts the template folder on ``sys.path`` while it runs, so this module needs no
installation, and copier never reads it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, Template
from jinja2.ext import Extension

TEMPLATE = Path(__file__).resolve().parent.parent
# Written with escapes so that this file holds no tag itself.
TAG = re.compile("\\{\\{.*?\\}\\}|\\{%.*?%\\}|\\{#.*?#\\}", re.DOTALL)
OPENER = re.compile("\\{\\{|\\{%|\\{#")
HOOKS = ("pre_gen_project.py", "post_gen_project.py")
# The folder cookiecutter renders into the project (escaped like TAG).
PROJECT_DIR = "\x7b\x7bcookiecutter.project_slug\x7d\x7d"


def strings(value: Any) -> Iterator[str]:
    """Every string in a JSON value, dict keys included."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield key
            yield from strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from strings(item)


@cache
def template_tags(root: Path = TEMPLATE) -> frozenset[str]:
    """The tags the template's own strings use where cookiecutter renders strings.

    Paths are rendered only inside the project folder: walking the whole checkout would also
    walk a local `.venv` (tens of thousands of paths, a second per bake).
    """
    texts = list(strings(json.loads((root / "cookiecutter.json").read_text(encoding="utf-8"))))
    project = root / PROJECT_DIR
    texts += [PROJECT_DIR, *(path.name for path in project.rglob("*"))]
    texts += [(root / "hooks" / hook).read_text(encoding="utf-8") for hook in HOOKS]
    return frozenset(tag for text in texts for tag in TAG.findall(text))


def is_template_owned(source: str, own_tags: frozenset[str]) -> bool:
    """Whether every tag in `source` is one the template wrote (so it may be rendered)."""
    remainder = TAG.sub(lambda tag: "" if tag.group(0) in own_tags else "\0", source)
    return "\0" not in remainder and not OPENER.search(remainder)


class LiteralAnswers(Extension):
    """Render only the template's own strings; answers come out exactly as given."""

    def __init__(self, environment: Environment) -> None:
        super().__init__(environment)
        own_tags = template_tags()
        render = environment.from_string
        # The hooks run from a rendered copy in a temporary folder, and cruft passes no
        # `_repo_dir`: this is how they find the template's own files (its rules and tree).
        environment.globals["template_dir"] = str(TEMPLATE)

        def from_string(source: Any, *args: Any, **kwargs: Any) -> Template:
            if isinstance(source, str) and not is_template_owned(source, own_tags):
                return render("\x7b\x7b literal }}", globals={"literal": source})
            return render(source, *args, **kwargs)

        environment.from_string = from_string  # type: ignore[method-assign]
