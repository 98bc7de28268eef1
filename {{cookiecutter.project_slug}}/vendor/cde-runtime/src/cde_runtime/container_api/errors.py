"""Errors raised by the Container API client.

Every failure of a Container API call surfaces as a `ContainerApiError` (or a subclass), never
as a silent `None`: a client that answered `None` for undeclared statuses would end a read loop
quietly on a 502 (docs/container-api.md §1). One class carries status, server message and field
errors so handlers and the CLI can print one readable line.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

__all__ = [
    "ContainerApiError",
    "ContainerApiUnavailable",
    "IncompleteInput",
    "InputNotProvided",
    "StuckInput",
    "error_from_response",
    "normalize_errors",
    "parse_retry_after",
]

_MAX_TEXT = 300


class ContainerApiError(Exception):
    """The Container API rejected a call or answered something the client cannot use."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        errors: Mapping[str, str] | None = None,
        method: str = "",
        path: str = "",
        retry_after: float | None = None,
        from_platform: bool = False,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.errors: dict[str, str] = dict(errors or {})
        self.method = method
        self.path = path
        #: Seconds the server asked us to wait before trying again (`Retry-After`), if any.
        self.retry_after = retry_after
        #: Whether the answer carried the Container API's own JSON error body (not a proxy page).
        self.from_platform = from_platform

    def __str__(self) -> str:
        where = f"Container API {self.method} {self.path}".rstrip()
        head = f"{where}: " if self.status is None else f"{where} answered {self.status} "
        text = self.message
        if self.errors:
            details = "; ".join(f"{field}: {reason}" for field, reason in self.errors.items())
            text = f"{text}: {details}" if text else details
        return _one_line(head + text)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({str(self)!r})"


class InputNotProvided(ContainerApiError):  # noqa: N818 - reads as the platform message
    """The run does not provide the requested input file (404 "Requested file not provided.").

    Delta exports get only some of new/modified/unchanged/deleted; handlers may treat this as an
    empty stream, so it has its own class.
    """


class IncompleteInput(ContainerApiError):  # noqa: N818 - reads as what happened
    """An input stream ended with fewer (or more) rows than the platform counts for it.

    A run that went on would write or export a partial set: a data service would wipe the
    products it did not write back. So the run fails instead, naming both counts.
    """


class StuckInput(IncompleteInput):
    """An input stream answered the same rows again: its cursor does not move."""


#: What the platform answers for an input the run does not provide (404, docs/container-api.md).
NOT_PROVIDED_MESSAGE = "Requested file not provided."


def is_platform_not_provided(content: bytes) -> bool:
    """Whether a 404 body is the platform's own "not provided" answer (a JSON object whose
    `message` says so), not a proxy's page or a router's "No route found"."""
    try:
        payload = json.loads(content) if content else None
    except ValueError:
        return False
    message = payload.get("message") if isinstance(payload, Mapping) else None
    return isinstance(message, str) and "not provided" in message.lower()


class ContainerApiUnavailable(ContainerApiError):  # noqa: N818 - public name, a state
    """No usable answer: could not connect, connection dropped or timed out (after any retries)."""


def normalize_errors(value: Any) -> dict[str, str]:
    """Accept `errors` as an object, a JSON list (PHP encodes an empty map as `[]`) or absent."""
    if isinstance(value, Mapping):
        return {str(key): _text(item) for key, item in value.items()}
    if isinstance(value, list):
        return {str(index): _text(item) for index, item in enumerate(value)}
    return {}


def error_from_response(
    status: int,
    reason: str,
    content: bytes,
    *,
    method: str,
    path: str,
    error_class: type[ContainerApiError] = ContainerApiError,
    retry_after: str | None = None,
) -> ContainerApiError:
    """The error for a non-accepted status from the error bodies (docs/container-api.md §1)."""
    message = ""
    errors: dict[str, str] = {}
    try:
        payload = json.loads(content) if content else None
    except ValueError:
        payload = None
        # A proxy's HTML/plain 502 page: keep a short hint, not a page of markup.
        text = content.decode("utf-8", "replace").strip()
        if text and not text.startswith("<") and len(text) <= _MAX_TEXT:
            message = text
    if isinstance(payload, Mapping):
        raw_message = payload.get("message")
        message = "" if raw_message is None else _text(raw_message)
        errors = normalize_errors(payload.get("errors"))
    return error_class(
        message or reason or "(no message)",
        status=status,
        errors=errors,
        method=method,
        path=path,
        retry_after=parse_retry_after(retry_after),
        from_platform=isinstance(payload, Mapping) and "message" in payload,
    )


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a `Retry-After` header: delay-seconds or an HTTP date (RFC 9110).

    Never negative; None when the header is absent or unreadable (the caller's backoff applies).
    The one parser for the Container API client and the channel client.
    """
    text = (value or "").strip()
    if not text:
        return None
    try:
        seconds = float(text)
    except ValueError:
        try:
            when = parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:  # HTTP dates are GMT; a zone-less one is read as such
            when = when.replace(tzinfo=UTC)
        seconds = (when - (now or datetime.now(UTC))).total_seconds()
    if seconds != seconds or seconds == float("inf"):  # NaN, or no usable delay
        return None
    return max(0.0, seconds)


def _text(value: Any) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, default=str)


def _one_line(text: str) -> str:
    return " ".join(text.split())
