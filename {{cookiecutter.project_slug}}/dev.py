"""Local work with nothing installed but Python 3.11+: the first call sets everything up.

    python3 dev.py run MODE [ARGS]  # run a mode against the local Container API emulator
    python3 dev.py test [ARGS]      # run the tests in parallel (ARGS go to pytest; -n 0: serially)
    python3 dev.py lock [--upgrade] # re-lock after editing pyproject.toml; --upgrade refreshes pins
    python3 dev.py sync             # only prepare .venv (for an editor or `uv run`)
    python3 dev.py check-update     # after a template update: name every file left to resolve
    python3 dev.py tool NAME [ARGS] # run a program of .venv (the pre-commit hooks use it)

`python3 dev.py --help` says more. The commands are the runtime package's `cde_dev`
(vendor/cde-runtime/src/cde_dev, standard library only), kept current by template updates.
"""

import sys
from pathlib import Path

# The vendored copy, not an installed one: nothing may be installed yet.
sys.path.insert(0, str(Path(__file__).resolve().parent / "vendor" / "cde-runtime" / "src"))

from cde_dev.commands import main  # found through the line above

if __name__ == "__main__":
    raise SystemExit(main())
