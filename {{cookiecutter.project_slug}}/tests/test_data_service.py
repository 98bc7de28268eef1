{%- set options = cookiecutter.data_service_options -%}
{#- The example code uses a default option only while it is declared with a type the code can use. -#}
{%- set uses_new_column_name = options.get("NEW_COLUMN_NAME") is mapping and options["NEW_COLUMN_NAME"].get("type", "input") in ["input", "textarea", "stage_columns_dropdown"] -%}
{%- set uses_source_column = options.get("SOURCE_COLUMN") is mapping and options["SOURCE_COLUMN"].get("type", "input") in ["input", "textarea", "stage_columns_dropdown"] -%}
{%- set copies = uses_new_column_name and uses_source_column -%}
"""Specification of the data-service mode, run as the platform runs it (subprocess + emulator)."""

from __future__ import annotations

from typing import Any

import pytest
from cde_emulator import Fault
from cde_runtime.testing import ConnectorRunner, EmulatorFactory, pass_options, required_values

from connector.settings import DataServiceSettings

ROWS = [{"id": str(n), "title": f"Product {n}", "brand": f"Brand {n % 3}"} for n in range(2500)]
REQUIRED = required_values(DataServiceSettings)
{%- if copies %}
REQUIRED.update(SOURCE_COLUMN="brand", NEW_COLUMN_NAME="brand_copy")
{%- endif %}


def configure(env: dict[str, str] | None = None, **options: str) -> dict[str, Any]:
    return pass_options({**REQUIRED, **options}, env)


def test_data_service_writes_back_every_row_it_reads(
    emulator: EmulatorFactory, run_connector: ConnectorRunner
) -> None:
    emu = emulator(input=ROWS)
    result = run_connector("data-service", emu, **configure())
    assert result.returncode == 0, result.stderr
    assert [row["id"] for row in emu.output_rows()] == [row["id"] for row in ROWS]
    final = emu.logs()[-1]
    assert final["level"] == "success"
    assert final["message"].startswith("Processed 2,500 rows in ")
    assert len(emu.logs()) <= 5  # progress and summary, never a line per row
{%- if copies %}


def test_data_service_copies_the_source_column_into_the_new_column(
    emulator: EmulatorFactory, run_connector: ConnectorRunner
) -> None:
    emu = emulator(input=ROWS[:3])
    result = run_connector("data-service", emu, **configure())
    assert result.returncode == 0, result.stderr
    assert emu.output_rows() == [{**row, "brand_copy": row["brand"]} for row in ROWS[:3]]


def test_data_service_gives_an_empty_value_when_a_row_lacks_the_source_column(
    emulator: EmulatorFactory, run_connector: ConnectorRunner
) -> None:
    emu = emulator(input=[{"id": "1", "title": "No brand"}])
    result = run_connector("data-service", emu, **configure())
    assert result.returncode == 0, result.stderr
    assert emu.output_rows() == [{"id": "1", "title": "No brand", "brand_copy": ""}]
{%- endif %}


def test_data_service_fails_when_a_write_is_rejected_mid_run(
    emulator: EmulatorFactory, run_connector: ConnectorRunner
) -> None:
    emu = emulator(input=ROWS, faults=[Fault(kind="write", n=2, action="500")])
    result = run_connector("data-service", emu, **configure())
    assert result.returncode == 1
    assert "Container API POST /output/output answered 500" in result.stderr
    assert len(emu.output_rows()) < len(ROWS)
    assert emu.logs()[-1]["level"] == "error"


def test_data_service_never_repeats_a_write_whose_answer_was_lost(
    emulator: EmulatorFactory, run_connector: ConnectorRunner
) -> None:
    # The server stored batch 2 but the connection dropped mid-answer: retrying could store it
    # twice, so the run fails instead, and no row reaches the output more than once.
    emu = emulator(input=ROWS, faults=[Fault(kind="write", n=2, action="cut")])
    result = run_connector("data-service", emu, **configure())
    assert result.returncode == 1
    assert "Container API POST /output/output" in result.stderr
    ids = [row["id"] for row in emu.output_rows()]
    assert len(ids) == len(set(ids))
    assert len(ids) < len(ROWS)


@pytest.mark.parametrize(
    ("fault", "expected"),
    [
        (Fault(kind="read", n=2, action="500"), "answered 500"),
        (Fault(kind="read", n=1, action="400"), "answered 400"),
        (Fault(kind="read", n=2, action="malformed"), "malformed"),
        (Fault(kind="read", n=2, action="drop"), "Container API GET /input/input/next_batch"),
    ],
    ids=["500", "400", "malformed", "dropped"],
)
def test_data_service_fails_when_reading_the_input_fails_part_way(
    fault: Fault, expected: str, emulator: EmulatorFactory, run_connector: ConnectorRunner
) -> None:
    emu = emulator(input=ROWS, faults=[fault])
    result = run_connector("data-service", emu, **configure())
    assert result.returncode == 1
    assert expected in result.stderr
    assert result.stderr.count("\n") == 1


def test_data_service_fails_when_the_container_api_times_out(
    emulator: EmulatorFactory, run_connector: ConnectorRunner
) -> None:
    emu = emulator(input=ROWS, faults=[Fault(kind="read", n=1, action="delay=3")])
    env = {"CONTAINER_API_READ_TIMEOUT": "0.3", "CONTAINER_API_MAX_ATTEMPTS": "1"}
    result = run_connector("data-service", emu, **configure(env=env))
    assert result.returncode == 1
    assert "ReadTimeout" in result.stderr
    assert emu.output_rows() == []


def test_data_service_fails_when_the_run_provides_no_input(
    emulator: EmulatorFactory, run_connector: ConnectorRunner
) -> None:
    emu = emulator()
    result = run_connector("data-service", emu, **configure())
    assert result.returncode == 1
    assert "answered 404 Requested file not provided." in result.stderr


@pytest.mark.parametrize("read", [1, 2], ids=["on-the-first-read", "part-way"])
def test_data_service_fails_when_the_input_ends_before_the_platforms_count(
    read: int, emulator: EmulatorFactory, run_connector: ConnectorRunner
) -> None:
    # A 204 is the end of input: taken at face value, the run would write back only the rows it
    # got, and the platform would drop every other product.
    emu = emulator(input=ROWS, faults=[Fault(kind="read", n=read, action="204")])
    result = run_connector("data-service", emu, **configure())
    assert result.returncode == 1
    assert "but the platform counts 2500" in result.stderr
    assert "Run failed: " in result.stderr.splitlines()[-1]


def test_data_service_keeps_hidden_columns_in_the_round_trip(
    emulator: EmulatorFactory, run_connector: ConnectorRunner
) -> None:
    # The platform hides `__` columns (its own `___id`, earlier data services' prefixed columns)
    # unless asked; the rows written back replace the products, so they must come back whole.
    rows = [{"id": "1", "___id": "901", "___prefix_score": "7", "title": "Product 1"}]
    emu = emulator(input=rows)
    result = run_connector("data-service", emu, **configure())
    assert result.returncode == 0, result.stderr
    for column in ("___id", "___prefix_score"):
        assert emu.output_rows()[0][column] == rows[0][column]
