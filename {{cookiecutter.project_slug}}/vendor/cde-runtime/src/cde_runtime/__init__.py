"""The connector runtime: everything a mode handler needs from the platform, kept by the template.

Your code (`connector/`) imports from here only: `from cde_runtime import ContainerApi, ...`.
The modules behind these names are updated with the template (`copier update`), so edit them
only knowing that an update will want to change them too; see the README's layout table.
"""

from cde_runtime.channel_client import ChannelClient, ChannelError, ExportReport, Result, chunked
from cde_runtime.container_api import (
    ContainerApi,
    ContainerApiError,
    IncompleteInput,
    InputNotProvided,
    OutputWriter,
    RowReader,
)
from cde_runtime.environment import is_local_run
from cde_runtime.errors import RunFailed
from cde_runtime.fetching import get_with_retries
from cde_runtime.invariants import new_pages
from cde_runtime.logs import SUCCESS, Progress
from cde_runtime.mode import Mode
from cde_runtime.offline import guard_if_asked
from cde_runtime.options import ConnectorSettings, ExecutionMode, option, split_list
from cde_runtime.prefetch import read_ahead
from cde_runtime.sending import InFlightLimit, send_in_order
from cde_runtime.transport import DeadlineTransport, feed_transport

guard_if_asked()  # a test run's connector process stays on this machine (cde_runtime/offline.py)

__all__ = [
    "SUCCESS",
    "ChannelClient",
    "ChannelError",
    "ConnectorSettings",
    "ContainerApi",
    "ContainerApiError",
    "DeadlineTransport",
    "ExecutionMode",
    "ExportReport",
    "InFlightLimit",
    "IncompleteInput",
    "InputNotProvided",
    "Mode",
    "OutputWriter",
    "Progress",
    "Result",
    "RowReader",
    "RunFailed",
    "chunked",
    "feed_transport",
    "get_with_retries",
    "is_local_run",
    "new_pages",
    "option",
    "read_ahead",
    "send_in_order",
    "split_list",
]
