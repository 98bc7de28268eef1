"""The connector project the local tools work on, and the modes its `main.py` hands over.

The runtime never imports the author's packages by name: `main.py` passes its `MODES` to
`cli.main`, and the local tools (the emulator runner, the pytest plugin) read that same `MODES`
from `main.py`. That module is the one place where the author's code meets the runtime.
"""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Mapping
from pathlib import Path
from types import ModuleType
from typing import Any

from cde_runtime.mode import Mode


class ProjectError(Exception):
    """The project's main.py cannot be used; the message says why and what to do."""


def entry_module(root: Path) -> ModuleType:
    """`<root>/main.py` as the module `main`, imported once (its run is behind `__main__`)."""
    path = (root / "main.py").resolve()
    loaded = sys.modules.get("main")
    if loaded is not None and Path(getattr(loaded, "__file__", "") or "").resolve() == path:
        return loaded
    if not path.is_file():
        raise ProjectError(f"{root} has no main.py: run this from the connector's folder.")
    if str(path.parent) not in sys.path:
        sys.path.insert(0, str(path.parent))  # main.py imports the author's packages
    spec = importlib.util.spec_from_file_location("main", path)
    if spec is None or spec.loader is None:
        raise ProjectError(f"{path} cannot be imported as a module.")
    module = importlib.util.module_from_spec(spec)
    sys.modules["main"] = module
    spec.loader.exec_module(module)
    return module


def load_modes(root: Path) -> Mapping[str, Mode[Any]]:
    """The modes `<root>/main.py` runs: its module-level `MODES` (name -> Mode)."""
    modes = getattr(entry_module(root), "MODES", None)
    if not isinstance(modes, Mapping) or not all(isinstance(m, Mode) for m in modes.values()):
        raise ProjectError(
            f"{root / 'main.py'} must define MODES, the name -> Mode mapping it passes to"
            " cde_runtime.cli.main (e.g. `from connector.modes import MODES`)."
        )
    return modes
