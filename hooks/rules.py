"""copier.yml's rules, evaluated for cookiecutter and cruft.

copier.yml is the one place the questions and their rules are written: the `validator:` of
each question (macros in hooks/validate_answers.jinja), the `_exclude` patterns that strip the
modes not chosen, and the next-steps message (hooks/next_steps.jinja). Copier evaluates them
itself; cookiecutter's hooks evaluate the same text here, with the filters copier provides
(from jinja2-ansible-filters, which cookiecutter does not install) written out below.

The hooks import this module from the template folder; it needs only jinja2 and PyYAML, both
cookiecutter dependencies.
"""

from __future__ import annotations

import fnmatch
import re
import shlex
from collections.abc import Iterable
from functools import cached_property
from pathlib import Path
from typing import Any

import yaml
from jinja2 import FileSystemLoader
from jinja2.sandbox import SandboxedEnvironment

# The folder the template renders into the project (escaped: the hooks are rendered as Jinja).
PROJECT_DIR = "\x7b\x7bcookiecutter.project_slug\x7d\x7d"
# Settings of copier.yml that are not questions, and the computed `cookiecutter` namespace.
NOT_ASKED = ("cookiecutter",)


def regex_search(value: Any, pattern: str) -> str | None:
    """jinja2-ansible-filters' `regex_search`: the matched text, or None."""
    found = re.search(pattern, str(value))
    return None if found is None else found.group(0)


def truthy(value: Any) -> bool:
    """Cookiecutter booleans arrive as bools; strings from old replay files as text."""
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes", "y", "on")
    return bool(value)


class Rules:
    """The rules of the template at `template`, as copier applies them."""

    def __init__(self, template: Path) -> None:
        self.template = template
        config_text = (template / "copier.yml").read_text(encoding="utf-8")
        self.config: dict[str, Any] = yaml.safe_load(config_text)
        envops = self.config.get("_envops", {})
        self.env = SandboxedEnvironment(loader=FileSystemLoader(str(template)), **envops)
        self.env.filters.update(regex_search=regex_search, quote=shlex.quote)

    @cached_property
    def questions(self) -> dict[str, dict[str, Any]]:
        """Every question, in the order both tools ask them."""
        return {
            key: spec
            for key, spec in self.config.items()
            if not key.startswith("_") and key not in NOT_ASKED
        }

    @cached_property
    def validators(self) -> Any:
        """hooks/validate_answers.jinja as a module: its constants (MODES, FIELD_TYPES…)."""
        return self.env.get_template("hooks/validate_answers.jinja").module

    @property
    def modes(self) -> tuple[str, ...]:
        return tuple(self.validators.MODES)

    def context(self, answers: dict[str, Any]) -> dict[str, Any]:
        """The answers as copier's templates see them: booleans as booleans."""
        typed = {
            key: truthy(value) if self.questions.get(key, {}).get("type") == "bool" else value
            for key, value in answers.items()
        }
        return {**typed, "_copier_answers": typed}

    def render(self, source: Any, context: dict[str, Any]) -> str:
        return self.env.from_string(str(source)).render(**context)

    def asked(self, spec: dict[str, Any], context: dict[str, Any]) -> bool:
        """Whether copier asks (and so validates) a question with these answers."""
        when = spec.get("when", True)
        return truthy(self.render(when, context) if isinstance(when, str) else when)

    def errors(self, answers: dict[str, Any]) -> list[str]:
        """The refusal of each question copier would refuse, in the order it asks them."""
        context = self.context(answers)
        errors = []
        for spec in self.questions.values():
            if "validator" in spec and self.asked(spec, context):
                error = self.render(spec["validator"], context).strip()
                if error:
                    errors.append(error)
        return errors

    def excluded_patterns(self, answers: dict[str, Any]) -> list[str]:
        """copier.yml's `_exclude` patterns, rendered for these answers."""
        context = self.context(answers)
        rendered = (self.render(entry, context) for entry in self.config.get("_exclude", []))
        return [line.strip() for text in rendered for line in text.splitlines() if line.strip()]

    def template_paths(self) -> list[Path]:
        """The paths the template holds for the project, relative to its folder.

        Names holding a tag are left out: they are rendered, and no pattern is written for them.
        """
        project = self.template / PROJECT_DIR
        relative = (path.relative_to(project) for path in project.rglob("*"))
        return sorted(path for path in relative if "{" not in path.as_posix())

    def excluded_paths(self, answers: dict[str, Any]) -> list[Path]:
        """The template's paths that copier's `_exclude` leaves out for these answers."""
        return excluded(self.template_paths(), self.excluded_patterns(answers))

    def next_steps(self, answers: dict[str, Any], project: Path | str) -> str:
        """What to do after generating: the text copier prints (`_message_after_copy`)."""
        source = (
            '{% from "hooks/next_steps.jinja" import next_steps %}{{ next_steps(path, answers) }}'
        )
        context = self.context(answers)
        return self.render(source, {"path": str(project), "answers": context["_copier_answers"]})

    def is_local(self, source: str) -> bool:
        """Whether a template source is a path (or file:// URL) only this machine can read."""
        check = '{% from "hooks/next_steps.jinja" import is_local %}{{ is_local(source) }}'
        return bool(self.render(check, {"source": source}).strip())

    def local_source_note(self, source: str, update: str, key: str) -> str:
        """What updates can do for a project made from `source` (a git repository), or ""."""
        note = (
            '{% from "hooks/next_steps.jinja" import local_source_note %}'
            "{{ local_source_note(source, true, update, key) }}"
        )
        return self.render(note, {"source": source, "update": update, "key": key}).strip()


def excluded(paths: Iterable[Path], patterns: list[str]) -> list[Path]:
    """The paths `_exclude` patterns match, as copier reads them (gitignore style).

    Every pattern copier.yml writes is a bare name (no '/'), which gitignore matches against
    the name of a file or of any folder it is in.
    """
    if any("/" in pattern for pattern in patterns):
        raise ValueError(f"_exclude patterns must be bare names, got {patterns}")
    return [
        path
        for path in paths
        if any(fnmatch.fnmatchcase(part, pattern) for part in path.parts for pattern in patterns)
    ]
