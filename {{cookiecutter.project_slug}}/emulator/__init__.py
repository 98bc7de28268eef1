"""A local stand-in for the Productsup CDE Container API (stdlib only).

Run it with `python -m emulator --data DIR`, or the whole connector with
`python -m emulator run <mode>`; tests use `Emulator` directly. See CONTRACT.md-derived comments in
`routes.py` for the choices made where the real API is not documented.
"""

from emulator.faults import Fault
from emulator.server import Emulator

__all__ = ["Emulator", "Fault"]
