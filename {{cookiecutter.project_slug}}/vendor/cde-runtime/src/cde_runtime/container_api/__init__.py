"""Client for the Productsup CDE Container API, the run's only door to input, output and logs.

Mode handlers use `ContainerApi` (one per run) and its streams: `read()` for input rows and
`writer()` for output/feedback rows. Everything that can go wrong raises `ContainerApiError`.
"""

from .client import (
    DEFAULT_BASE_URL,
    INPUT_TYPES,
    LOG_LEVELS,
    MAX_BATCH_SIZE,
    MAX_RETRY_AFTER,
    MAX_WRITE_BYTES,
    Classification,
    ContainerApi,
    Process,
)
from .errors import (
    ContainerApiError,
    ContainerApiUnavailable,
    IncompleteInput,
    InputNotProvided,
    StuckInput,
)
from .streams import OutputWriter, RowReader

__all__ = [
    "DEFAULT_BASE_URL",
    "INPUT_TYPES",
    "LOG_LEVELS",
    "MAX_BATCH_SIZE",
    "MAX_RETRY_AFTER",
    "MAX_WRITE_BYTES",
    "Classification",
    "ContainerApi",
    "ContainerApiError",
    "ContainerApiUnavailable",
    "IncompleteInput",
    "InputNotProvided",
    "OutputWriter",
    "Process",
    "RowReader",
    "StuckInput",
]
