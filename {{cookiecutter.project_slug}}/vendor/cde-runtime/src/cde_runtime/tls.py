"""One TLS context per process, shared by the channel clients.

httpx builds a new TLS context for every client it creates, loading the whole CA bundle each
time: about 35 ms of CPU per client. A run makes one channel client, but tests make one per run
they start in-process, hundreds in the fault matrix. The context is configured once and is safe
to share between clients and threads. (The Container API client, a plain-HTTP sidecar, needs no
CA bundle at all: see `_verify` in cde_runtime/container_api/client.py.)
"""

from __future__ import annotations

import ssl
from functools import cache

import httpx

__all__ = ["tls_context"]


@cache
def tls_context(trust_env: bool = True) -> ssl.SSLContext:
    """httpx's default TLS context (its CA bundle; with `trust_env`, SSL_CERT_FILE and
    SSL_CERT_DIR too), built on first use."""
    return httpx.create_ssl_context(trust_env=trust_env)
