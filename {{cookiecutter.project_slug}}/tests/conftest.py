"""Fixtures for your tests: `emulator` (a local Container API) and `run_connector`.

They come from the template's pytest plugin, emulator/testing.py, with helpers such as
`pass_options` and `required_values`; add fixtures of your own below. To give the fault matrix
(tests/runtime/test_fault_matrix.py) other option values, override `local_run_for` here.
"""

pytest_plugins = ["emulator.testing"]
