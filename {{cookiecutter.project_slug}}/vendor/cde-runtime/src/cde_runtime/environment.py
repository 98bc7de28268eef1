"""The runtime's own environment variables: how to reach the Container API, how much to log.

These are not connector options (the Dev portal does not set them); the platform leaves them
unset, so the defaults are the production values. Local runs and tests change them:

    CONTAINER_API_URL              where the Container API listens (default http://cde-container-api)
    CONTAINER_API_MAX_ATTEMPTS     tries per Container API call, 1 to 20 (default 5)
    CONTAINER_API_READ_TIMEOUT     seconds for a whole Container API request: connecting,
                                   sending and the full answer, more than 0 and at most 86400
                                   (default 3600)
    CONTAINER_API_LOG_TIMEOUT      the same for one log line, 0 to 600 (default 5)
    CONTAINER_API_WRITE_RETRY      when a write is sent again after a 503: platform-503 (only
                                   when the Container API itself answered it; default), any-503
                                   or no-503 (docs/runtime.md, "Retries")
    CDE_CHANNEL_TIMEOUT            seconds for a whole channel request (default 60)
    CDE_FEED_TIMEOUT               seconds for a whole request to an outside feed (default 60)
    CDE_MAX_ANSWER_BYTES           bytes an outside answer may have once decoded (gzip
                                   included), at least 1024 (default 268435456, 256 MiB)
    CONTAINER_API_BACKOFF          seconds before the first retry, 0 to 60 (default 0.5); later
                                   retries wait twice as long each, plus jitter
    CONTAINER_API_MAX_WRITE_BYTES  bytes of JSON per write request, at least 1024 (default 1000000)
    LOG_LEVEL                      debug, info, warning or error (default info)
    CDE_LOCAL_RUN                  1 on a local run: `python -m cde_emulator run` and the test
                                   fixtures set it; production never does. Local-only conveniences
                                   (such as a bundled sample feed) check it.

An empty variable counts as unset. A bad value stops the run before it starts, with one line per
variable naming it and the values it accepts.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from cde_runtime.container_api import DEFAULT_BASE_URL, MAX_WRITE_BYTES
from cde_runtime.redaction import redact
from cde_runtime.transport import MAX_ANSWER_BYTES, MAX_DEADLINE

#: Seconds for one log line's request: short, so a hanging log endpoint costs little.
LOG_TIMEOUT = 5.0

__all__ = [
    "RuntimeEnvironment",
    "RuntimeEnvironmentError",
    "current",
    "http_url",
    "is_local_run",
    "load_environment",
]

LOCAL_RUN_VARIABLE = "CDE_LOCAL_RUN"

# What each variable accepts, as the error line says it.
_ACCEPTS = {
    "CONTAINER_API_URL": "an http:// or https:// URL such as http://127.0.0.1:8080",
    "CONTAINER_API_MAX_ATTEMPTS": "a whole number from 1 to 20",
    "CONTAINER_API_READ_TIMEOUT": "a number of seconds greater than 0, at most 86400",
    "CONTAINER_API_LOG_TIMEOUT": "a number of seconds greater than 0, at most 600",
    "CONTAINER_API_WRITE_RETRY": "platform-503, any-503 or no-503",
    "CDE_CHANNEL_TIMEOUT": "a number of seconds greater than 0, at most 86400",
    "CDE_FEED_TIMEOUT": "a number of seconds greater than 0, at most 86400",
    "CDE_MAX_ANSWER_BYTES": "a whole number of bytes, at least 1024",
    "CONTAINER_API_BACKOFF": "a number of seconds from 0 to 60",
    "CONTAINER_API_MAX_WRITE_BYTES": "a whole number of bytes, at least 1024",
    "LOG_LEVEL": "debug, info, warning or error",
    LOCAL_RUN_VARIABLE: "1 (a local run) or 0",
}


class RuntimeEnvironment(BaseModel):
    """The runtime variables, validated (built by `load_environment`, which drops empty ones)."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    api_url: str = Field(DEFAULT_BASE_URL, alias="CONTAINER_API_URL")
    max_attempts: int = Field(5, ge=1, le=20, alias="CONTAINER_API_MAX_ATTEMPTS", strict=False)
    # Finite and at most a day: `inf` or 1e308 would parse, then overflow the socket layer.
    read_timeout: float = Field(
        3600.0, gt=0, le=MAX_DEADLINE, allow_inf_nan=False, alias="CONTAINER_API_READ_TIMEOUT"
    )
    log_timeout: float = Field(
        LOG_TIMEOUT, gt=0, le=600, allow_inf_nan=False, alias="CONTAINER_API_LOG_TIMEOUT"
    )
    write_retry: Literal["platform-503", "any-503", "no-503"] = Field(
        "platform-503", alias="CONTAINER_API_WRITE_RETRY"
    )
    channel_timeout: float = Field(
        60.0, gt=0, le=MAX_DEADLINE, allow_inf_nan=False, alias="CDE_CHANNEL_TIMEOUT"
    )
    feed_timeout: float = Field(
        60.0, gt=0, le=MAX_DEADLINE, allow_inf_nan=False, alias="CDE_FEED_TIMEOUT"
    )
    max_answer_bytes: int = Field(MAX_ANSWER_BYTES, ge=1024, alias="CDE_MAX_ANSWER_BYTES")
    backoff: float = Field(0.5, ge=0, le=60, allow_inf_nan=False, alias="CONTAINER_API_BACKOFF")
    max_write_bytes: int = Field(MAX_WRITE_BYTES, ge=1024, alias="CONTAINER_API_MAX_WRITE_BYTES")
    log_level: Literal["debug", "info", "warning", "error"] = Field("info", alias="LOG_LEVEL")
    local_run: Literal["0", "1"] = Field("0", alias="CDE_LOCAL_RUN")

    @field_validator("api_url")
    @classmethod
    def _http_url(cls, value: str) -> str:

        return http_url(value)

    @field_validator("log_level", "local_run", "write_retry", mode="before")
    @classmethod
    def _trimmed_lowercase(cls, value: object) -> object:
        return value.strip().lower() if isinstance(value, str) else value

    @property
    def is_default_url(self) -> bool:
        return self.api_url == DEFAULT_BASE_URL


class RuntimeEnvironmentError(Exception):
    """Some runtime variables are invalid; the message has one line per variable."""


def load_environment(environ: Mapping[str, str] | None = None) -> RuntimeEnvironment:
    """The runtime variables from `environ` (default os.environ), or RuntimeEnvironmentError."""
    source = os.environ if environ is None else environ
    values = {name: source[name] for name in _ACCEPTS if source.get(name, "").strip()}
    try:
        return RuntimeEnvironment.model_validate(values)
    except ValidationError as error:
        names = dict.fromkeys(str(item["loc"][0]) for item in error.errors() if item["loc"])
        lines = [
            # The URL may hold credentials: redact() masks user-info and key-like parameters.
            f"Runtime variable {name}={redact(values.get(name, ''))!r} is invalid: "
            f"expected {_ACCEPTS.get(name, 'another value')}."
            for name in names
        ]
        raise RuntimeEnvironmentError("\n".join(lines)) from None


def http_url(value: str) -> str:
    """`value` stripped (and without a trailing /) if it is an http(s) URL with a host that
    httpx can use; ValueError otherwise (`http://[::1/c`, a port that is not a number)."""
    import httpx

    value = value.strip()
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
        httpx.URL(value)
    except (ValueError, httpx.InvalidURL) as error:
        raise ValueError("not a URL") from error
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("not an http(s) URL with a host")
    return value.rstrip("/")


def current() -> RuntimeEnvironment:
    """The runtime variables of this process, or the defaults where they are unusable (the CLI
    refuses a bad value before a run starts, so a run always sees valid ones)."""
    try:
        return load_environment()
    except RuntimeEnvironmentError:
        return RuntimeEnvironment.model_validate({})


def is_local_run() -> bool:
    """Whether this run is local (CDE_LOCAL_RUN=1): never true on the platform."""
    return os.environ.get(LOCAL_RUN_VARIABLE, "").strip() == "1"
