"""The commands behind a connector's `python3 dev.py` (standard library only).

dev.py runs before anything is installed: it puts this copy (`vendor/cde-runtime/src`) on the
import path and calls `cde_dev.commands.main`, which works on the project holding that copy.
"""
