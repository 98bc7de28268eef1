"""Whole-request deadlines for every HTTP call the runtime makes.

httpx's timeouts apply to each socket operation: a peer that trickles its answer a byte at a
time, each byte within the read timeout, keeps a call open as long as it likes. The transport
here gives each request one deadline for all of it (connecting, sending, the headers and the
full body): every socket operation waits at most until that deadline, and one that would start
after it raises `httpx.ReadTimeout` (or the connect/write timeout) naming the deadline.

A client built with `DeadlineTransport(seconds)` applies `seconds` to every request; a request
may carry its own with `extensions={"deadline": seconds}` (the log calls use a short one).
"""

from __future__ import annotations

import ssl
import threading
import time
import zlib
from collections.abc import Iterable, Iterator
from typing import Any

import httpcore
import httpx

__all__ = [
    "DEADLINE_EXTENSION",
    "MAX_ANSWER_BYTES",
    "MAX_DEADLINE",
    "DeadlineTransport",
    "check_deadline_seconds",
    "feed_transport",
]

#: The request extension holding a per-request deadline in seconds.
DEADLINE_EXTENSION = "deadline"
#: The longest deadline accepted (a day): larger values are surely a mistake and overflow
#: the socket layer at `inf`/1e308.
MAX_DEADLINE = 86_400.0
#: Bytes an outside answer (a feed page, a channel's answer) may have once decoded, by default:
#: a 400 KB gzip page can decode to more than a gigabyte.
MAX_ANSWER_BYTES = 256 * 1024 * 1024

_local = threading.local()


def check_deadline_seconds(seconds: float, what: str = "deadline") -> float:
    """`seconds` as a float if it is a usable deadline, else ValueError naming `what`."""
    value = float(seconds)
    if not 0 < value <= MAX_DEADLINE:  # also False for NaN
        raise ValueError(
            f"{what} must be more than 0 and at most {MAX_DEADLINE:.0f} seconds, got {seconds!r}"
        )
    return value


def _remaining(timeout: float | None, error: type[Exception]) -> float | None:
    """The socket timeout to use now: the operation's own, cut to the time left."""
    deadline: tuple[float, float] | None = getattr(_local, "deadline", None)
    if deadline is None:
        return timeout
    ends, seconds = deadline
    left = ends - time.monotonic()
    if left <= 0:
        raise error(_expired_text(seconds))
    return left if timeout is None else min(timeout, left)


def _say_if_expired(error: type[Exception]) -> None:
    """After a socket timeout: raise the deadline's own message if that is what ran out."""
    deadline: tuple[float, float] | None = getattr(_local, "deadline", None)
    if deadline is not None and deadline[0] - time.monotonic() < _SLACK:
        raise error(_expired_text(deadline[1]))


def _expired_text(seconds: float) -> str:
    return f"no complete answer within the {seconds:g} s deadline for the whole request"


#: A socket timeout this close to the deadline is the deadline's.
_SLACK = 0.05


class _Stream(httpcore.NetworkStream):
    def __init__(self, inner: httpcore.NetworkStream) -> None:
        self._inner = inner

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        try:
            return self._inner.read(max_bytes, _remaining(timeout, httpcore.ReadTimeout))
        except httpcore.ReadTimeout:
            _say_if_expired(httpcore.ReadTimeout)
            raise

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        try:
            self._inner.write(buffer, _remaining(timeout, httpcore.WriteTimeout))
        except httpcore.WriteTimeout:
            _say_if_expired(httpcore.WriteTimeout)
            raise

    def close(self) -> None:
        self._inner.close()

    def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.NetworkStream:
        timeout = _remaining(timeout, httpcore.ConnectTimeout)
        return _Stream(self._inner.start_tls(ssl_context, server_hostname, timeout))

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)


class _Backend(httpcore.NetworkBackend):
    def __init__(self) -> None:
        self._inner = httpcore.SyncBackend()

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        timeout = _remaining(timeout, httpcore.ConnectTimeout)
        return _Stream(self._inner.connect_tcp(host, port, timeout, local_address, socket_options))

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)


class _Body(httpx.SyncByteStream):
    """The response body, read under the request's deadline."""

    def __init__(self, inner: httpx.SyncByteStream, deadline: tuple[float, float]) -> None:
        self._inner = inner
        self._deadline = deadline

    def __iter__(self) -> Iterator[bytes]:
        iterator = iter(self._inner)
        while True:
            with _within(self._deadline):
                chunk = next(iterator, None)
            if chunk is None:
                return
            yield chunk

    def close(self) -> None:
        self._inner.close()


class _within:  # noqa: N801 - used like a function
    def __init__(self, deadline: tuple[float, float]) -> None:
        self.deadline = deadline

    def __enter__(self) -> None:
        self.previous = getattr(_local, "deadline", None)
        _local.deadline = self.deadline

    def __exit__(self, *exc: object) -> None:
        _local.deadline = self.previous


class _Capped(httpx.SyncByteStream):
    """The body, decoded here (gzip, deflate) with at most `cap` bytes coming out."""

    def __init__(self, inner: httpx.SyncByteStream, encoding: str, cap: int) -> None:
        self._inner = inner
        self._cap = cap
        # wbits: 47 reads a gzip or zlib header; -15 a raw deflate stream.
        self._decoder = zlib.decompressobj(47) if encoding else None
        self._encoding = encoding

    def _over(self) -> httpx.DecodingError:
        what = f"once decoded ({self._encoding})" if self._encoding else ""
        return httpx.DecodingError(
            f"the answer is larger than {self._cap:,} bytes {what}".rstrip()
            + " (the cap on outside answers, CDE_MAX_ANSWER_BYTES)"
        )

    def __iter__(self) -> Iterator[bytes]:
        size = 0
        for chunk in self._inner:
            if self._decoder is None:
                out = chunk
            else:
                try:
                    out = self._decoder.decompress(chunk, self._cap - size + 1)
                except zlib.error as error:
                    raise httpx.DecodingError(
                        f"the answer is not valid {self._encoding}: {error}"
                    ) from error
                if self._decoder.unconsumed_tail:
                    raise self._over()
            size += len(out)
            if size > self._cap:
                raise self._over()
            if out:
                yield out
        if self._decoder is not None:
            tail = self._decoder.flush()
            if size + len(tail) > self._cap:
                raise self._over()
            if tail:
                yield tail

    def close(self) -> None:
        self._inner.close()


_DEFAULT_LIMITS = httpx.Limits(max_connections=100, max_keepalive_connections=20)


class DeadlineTransport(httpx.HTTPTransport):
    """httpx's own transport, with one deadline per request (see the module docstring)."""

    def __init__(
        self,
        deadline: float,
        *,
        verify: ssl.SSLContext | bool = True,
        limits: httpx.Limits = _DEFAULT_LIMITS,
        max_answer_bytes: int | None = None,
    ) -> None:
        super().__init__(verify=verify, limits=limits)
        self.deadline = check_deadline_seconds(deadline)
        self.max_answer_bytes = max_answer_bytes
        context = verify if isinstance(verify, ssl.SSLContext) else None
        # httpx builds its pool without a way to pass a network backend; the same pool with ours.
        self._pool = httpcore.ConnectionPool(
            ssl_context=context if context is not None else httpx.create_ssl_context(verify=verify),
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=_Backend(),
        )

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        seconds = float(request.extensions.get(DEADLINE_EXTENSION) or self.deadline)
        deadline = (time.monotonic() + seconds, seconds)
        with _within(deadline):
            response = super().handle_request(request)
        assert isinstance(response.stream, httpx.SyncByteStream)
        stream: httpx.SyncByteStream = _Body(response.stream, deadline)
        cap = self.max_answer_bytes
        if cap is None:
            response.stream = stream
            return response
        encoding = response.headers.get("Content-Encoding", "").strip().lower()
        if encoding not in ("", "identity", "gzip", "x-gzip", "deflate"):
            response.stream = stream  # decoded by httpx, capped only as it arrives
            return response
        headers = [
            (name, value)
            for name, value in response.headers.raw
            if name.lower() not in (b"content-encoding", b"content-length")
        ]
        return httpx.Response(
            response.status_code,
            headers=headers,
            stream=_Capped(stream, "" if encoding == "identity" else encoding, cap),
            extensions=response.extensions,
        )


def feed_transport(limits: httpx.Limits = _DEFAULT_LIMITS) -> DeadlineTransport:
    """The transport for an outside feed's client: the whole-request deadline of
    CDE_FEED_TIMEOUT, the decoded-size cap of CDE_MAX_ANSWER_BYTES, the system's CAs."""
    from cde_runtime.environment import current
    from cde_runtime.tls import tls_context

    environment = current()
    return DeadlineTransport(
        environment.feed_timeout,
        verify=tls_context(),
        limits=limits,
        max_answer_bytes=environment.max_answer_bytes,
    )
