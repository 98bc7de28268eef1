"""Imports of the pre-0.3.0 layout fail with one line naming where the names went."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from importlib.abc import MetaPathFinder
from importlib.machinery import ModuleSpec
from types import ModuleType

#: The one line a pre-0.3.0 `emulator` import fails with (Python asks for `emulator` first).
MOVED = (
    "`emulator` moved into the runtime package (template 0.3.0): write"
    " `from cde_runtime.testing import ...` for `from emulator.testing import ...`,"
    " `from cde_emulator import Emulator, Fault` for `from emulator import ...`, and"
    " `python -m cde_emulator` for `python -m emulator`."
)


class MovedModules(MetaPathFinder):
    """Consulted last: only when no `emulator` module exists at all."""

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> ModuleSpec | None:
        if fullname == "emulator" or fullname.startswith("emulator."):
            raise ModuleNotFoundError(MOVED, name=fullname)
        return None


def install() -> None:
    if not any(isinstance(finder, MovedModules) for finder in sys.meta_path):
        sys.meta_path.append(MovedModules())
