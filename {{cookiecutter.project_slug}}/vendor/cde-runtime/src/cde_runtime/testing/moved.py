"""Imports of the pre-0.3.0 layout fail with one line naming where the names went."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from importlib.abc import MetaPathFinder
from importlib.machinery import ModuleSpec
from types import ModuleType

#: Old top-level modules -> where their names live since the runtime became a package.
MOVED = {
    "emulator": "`from cde_emulator import Emulator, Fault` (and `python -m cde_emulator`)",
    "emulator.testing": "`from cde_runtime.testing import ...` (fixtures load by themselves)",
}


class MovedModules(MetaPathFinder):
    """Consulted last: only when no `emulator` module exists at all."""

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> ModuleSpec | None:
        if fullname == "emulator" or fullname.startswith("emulator."):
            new = MOVED.get(fullname, MOVED["emulator"])
            raise ModuleNotFoundError(
                f"`{fullname}` moved into the runtime package (template 0.3.0): use {new};"
                " CHANGELOG.md lists every moved name.",
                name=fullname,
            )
        return None


def install() -> None:
    if not any(isinstance(finder, MovedModules) for finder in sys.meta_path):
        sys.meta_path.append(MovedModules())
