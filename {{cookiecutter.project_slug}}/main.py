"""Entry point the platform runs: `python main.py <mode>`."""

from connector.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
