"""What a mode is to the runtime: a name, a settings class and a handler."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from cde_runtime.container_api import ContainerApi
from cde_runtime.options import ConnectorSettings

S = TypeVar("S", bound=ConnectorSettings)

#: The platform's four modes; a connector offers some of them (connector/modes/__init__.py).
PLATFORM_MODES = ("data-source", "data-service", "export", "export-delta")
#: The modes that deliver to a channel (and share connector/channel.py).
CHANNEL_MODES = ("export", "export-delta")


@dataclass(frozen=True)
class Mode(Generic[S]):
    """A mode as the platform runs it: `python main.py <name>` calls `run(settings, api)`."""

    name: str
    settings: type[S]
    run: Callable[[S, ContainerApi], None]
    summary: str
