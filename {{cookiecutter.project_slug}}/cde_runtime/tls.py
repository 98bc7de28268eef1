"""One TLS context per process, shared by the runtime's HTTP clients.

httpx builds a new TLS context for every client it creates, loading the whole CA bundle each
time: about 35 ms of CPU per client, even for a plain http:// URL. A run makes two or three
clients (Container API, channel), and an in-process test makes them once per run. The context
is configured once and safe to share between clients and threads.
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
