"""The runtime's own environment variables: how to reach the Container API, how much to log.

These are not connector options (the Dev portal does not set them); the platform leaves them
unset, so the defaults are the production values. Local runs and tests change them:

    CONTAINER_API_URL              where the Container API listens (default http://cde-container-api)
    CONTAINER_API_MAX_ATTEMPTS     tries per Container API call, 1 to 20 (default 5)
    CONTAINER_API_READ_TIMEOUT     seconds to wait for an answer, more than 0 (default 3600)
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

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from cde_runtime.container_api import DEFAULT_BASE_URL, MAX_WRITE_BYTES
from cde_runtime.redaction import redact

__all__ = ["RuntimeEnvironment", "RuntimeEnvironmentError", "is_local_run", "load_environment"]

LOCAL_RUN_VARIABLE = "CDE_LOCAL_RUN"

# What each variable accepts, as the error line says it.
_ACCEPTS = {
    "CONTAINER_API_URL": "an http:// or https:// URL such as http://127.0.0.1:8080",
    "CONTAINER_API_MAX_ATTEMPTS": "a whole number from 1 to 20",
    "CONTAINER_API_READ_TIMEOUT": "a number of seconds greater than 0",
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
    read_timeout: float = Field(3600.0, gt=0, alias="CONTAINER_API_READ_TIMEOUT")
    backoff: float = Field(0.5, ge=0, le=60, alias="CONTAINER_API_BACKOFF")
    max_write_bytes: int = Field(MAX_WRITE_BYTES, ge=1024, alias="CONTAINER_API_MAX_WRITE_BYTES")
    log_level: Literal["debug", "info", "warning", "error"] = Field("info", alias="LOG_LEVEL")
    local_run: Literal["0", "1"] = Field("0", alias="CDE_LOCAL_RUN")

    @field_validator("api_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        from urllib.parse import urlsplit

        value = value.strip()
        try:
            parts = urlsplit(value)
            parts.port  # noqa: B018 - raises ValueError for a port that is not a number
        except ValueError as error:
            raise ValueError("not a URL") from error
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("not an http(s) URL with a host")
        return value.rstrip("/")

    @field_validator("log_level", "local_run", mode="before")
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


def is_local_run() -> bool:
    """Whether this run is local (CDE_LOCAL_RUN=1): never true on the platform."""
    return os.environ.get(LOCAL_RUN_VARIABLE, "").strip() == "1"
