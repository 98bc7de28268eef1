"""A local stand-in for the Productsup CDE Container API (stdlib only).

Run it with `python -m cde_emulator --data DIR`, or the whole connector with
`python -m cde_emulator run <mode>`; tests use `Emulator` directly. docs/container-api.md
describes the API and, under "The local emulator", the choices made where the real API is not
documented; the "§n" and "unknown n" marks in these modules cite that page.
"""

from cde_emulator.faults import Fault
from cde_emulator.server import Emulator

__all__ = ["Emulator", "Fault"]
