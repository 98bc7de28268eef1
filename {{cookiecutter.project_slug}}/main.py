"""Entry point the platform runs: `python main.py <mode>`."""

from cde_runtime.cli import main

from connector.modes import MODES

if __name__ == "__main__":
    raise SystemExit(main(MODES))
