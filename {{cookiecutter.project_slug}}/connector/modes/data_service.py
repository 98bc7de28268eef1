{%- set options = cookiecutter.data_service_options -%}
{#- The example code uses a default option only while it is declared with a type the code can use. -#}
{%- set uses_new_column_name = options.get("NEW_COLUMN_NAME") is mapping and options["NEW_COLUMN_NAME"].get("type", "input") in ["input", "textarea", "stage_columns_dropdown"] -%}
{%- set uses_source_column = options.get("SOURCE_COLUMN") is mapping and options["SOURCE_COLUMN"].get("type", "input") in ["input", "textarea", "stage_columns_dropdown"] -%}
"""Data service: rewrite the products already on the platform.

The story of a run: read every input row in batches, copy one column into a new one, write
every row back to `output`, check that nothing was lost, summarise.

Platform facts this handler is built around:
- The rows written back replace the site's products: a row not written is dropped, and a
  run that writes nothing wipes them all. So every row read is written, the counts are
  compared at the end, and any failure part-way fails the run (exit 1) so the platform keeps
  the previous products instead of a partial set.
- The Dev portal's column prefix (settings.COLUMN_PREFIX: three underscores, then letters) is
  the platform's namespace for the columns this service adds; the code writes the new column
  under the plain name the user typed and leaves prefixing to the platform
  (docs/dev-portal.md).
- Columns named `__name` are hidden from reads unless asked for; the platform's own `___name`
  columns (`___id`, the prefixed columns data services add) are served (docs/container-api.md
  §4). The rows written back replace the products, so this service reads them with
  `show_hidden=True` and writes them back unchanged: a round trip keeps every column.
- Every input row must come back: the runtime compares the rows read with the platform's
  count of the input when the stream ends and fails the run on a difference, so an input that
  ends early can never pass for a complete one.
"""

from __future__ import annotations

import logging
from typing import Any

from cde_runtime import SUCCESS, ContainerApi, Progress, RunFailed

from connector.settings import DataServiceSettings

log = logging.getLogger(__name__)

# Rows per Container API read and write (the API allows up to 999).
BATCH_SIZE = 999

Row = dict[str, Any]


def run(settings: DataServiceSettings, api: ContainerApi) -> None:
{%- if uses_new_column_name and uses_source_column %}
    source, target = settings.SOURCE_COLUMN, settings.NEW_COLUMN_NAME
    log.info("Copying column %s into %s", source, target)
{%- endif %}

    progress = Progress(log, "rows")
    with (
        api.read("input", batch_size=BATCH_SIZE, show_hidden=True) as rows,
        api.writer("output", batch_size=BATCH_SIZE) as output,
    ):
        for batch in rows.batches():
{%- if uses_new_column_name and uses_source_column %}
            output.write_many(copy_column(row, source, target) for row in batch)
{%- else %}
            output.write_many(transform(row) for row in batch)
{%- endif %}
            progress.add(len(batch))

    if output.rows_written != rows.rows_read:
        raise RunFailed(
            f"Read {rows.rows_read} rows but only {output.rows_written} were written back; "
            "failing so the platform keeps the previous products."
        )
    log.log(SUCCESS, "Processed %s", progress.summary())
{%- if uses_new_column_name and uses_source_column %}


def copy_column(row: Row, source: str, target: str) -> Row:
    """The row with `target` set to the value of `source`.

    A row without `source` gets an empty value: the platform stores every column as text
    and a missing column reads as empty, so an empty value keeps the row instead of failing.
    """
    return {**row, target: row.get(source, "")}
{%- else %}


def transform(row: Row) -> Row:
    """Change one row here; return it whole, every row must be written back."""
    return row
{%- endif %}
