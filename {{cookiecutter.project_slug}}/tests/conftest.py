"""Fixtures for your tests: add your own below.

The runtime's pytest plugin (cde_runtime.testing, loaded automatically once the runtime is
installed) provides `emulator` (a local Container API) and `run_connector`, and helpers such as
`pass_options` and `required_values`. To give the fault matrix (cde_runtime/testing/fault_matrix.py)
other option values, override `local_run_for` here.
"""
