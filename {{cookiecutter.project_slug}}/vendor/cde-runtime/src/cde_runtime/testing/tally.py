"""The fault matrix's tally: how many cells ran, over what, and how many failed.

Kept apart from fault_matrix.py so the plugin can add up the tallies of xdist workers on the
controller, which never imports the matrix (it collects no tests).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class Tally:
    """The cells run in this session, for the summary line (the plugin writes it at the end)."""

    cases: int = 0
    failed: int = 0
    modes: set[str] = field(default_factory=set)
    kinds: set[str] = field(default_factory=set)
    faults: set[str] = field(default_factory=set)

    def count(self, mode: str, kind: str, fault: str, *, failed: bool) -> None:
        self.cases += 1
        self.failed += failed
        self.modes.add(mode)
        self.kinds.add(kind)
        self.faults.add(fault)

    def as_data(self) -> dict[str, Any]:
        """A form xdist can send from a worker to the controller (`workeroutput`)."""
        return {
            "cases": self.cases,
            "failed": self.failed,
            "modes": sorted(self.modes),
            "kinds": sorted(self.kinds),
            "faults": sorted(self.faults),
        }

    def add(self, data: dict[str, Any]) -> None:
        """Add a worker's tally (`as_data()`) to this one."""
        self.cases += int(data["cases"])
        self.failed += int(data["failed"])
        self.modes.update(data["modes"])
        self.kinds.update(data["kinds"])
        self.faults.update(data["faults"])

    def line(self) -> str:
        modes = f"{len(self.modes)} mode" + ("s" if len(self.modes) != 1 else "")
        return (
            f"fault matrix: {self.cases} cases over {modes}, "
            f"{len(self.kinds)} call kinds, {len(self.faults)} faults; {self.failed} failed"
        )
