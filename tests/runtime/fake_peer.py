"""A small HTTP peer for the runtime's tests, written without the emulator.

The emulator is the runtime's own stand-in for the Container API; proving the runtime only
against it would let both share one misreading. `FakePeer` is plain `http.server`: each test
gives it one function from a request to an answer, and the answer may misbehave the way real
servers and proxies do (trickle its bytes, never answer, repeat itself, answer HTML).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Answer:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    #: Seconds between two bytes of the whole answer (status line included): a trickle.
    trickle: float = 0.0
    #: Never answer: hold the connection until the peer stops.
    hang: bool = False


def json_answer(payload: Any, status: int = 200, **extra: Any) -> Answer:
    return Answer(
        status, json.dumps(payload).encode(), {"Content-Type": "application/json"}, **extra
    )


Route = Callable[[Request], Answer]


class FakePeer:
    """Serves `route` on 127.0.0.1 until `close()`; records every request it got."""

    def __init__(self, route: Route) -> None:
        self.requests: list[Request] = []
        #: Bytes of trickled answers that went out.
        self.bytes_sent = 0
        self._stop = threading.Event()
        peer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                parts = urlsplit(self.path)
                request = Request(
                    self.command,
                    parts.path,
                    {k: v[-1] for k, v in parse_qs(parts.query).items()},
                    self.rfile.read(length),
                )
                peer.requests.append(request)
                answer = route(request)
                if answer.hang:
                    peer._stop.wait()
                    self.close_connection = True
                    return
                head = [f"HTTP/1.1 {answer.status} X"]
                headers = {"Content-Length": str(len(answer.body)), **answer.headers}
                head += [f"{k}: {v}" for k, v in headers.items()]
                raw = ("\r\n".join(head) + "\r\n\r\n").encode() + answer.body
                if not answer.trickle:
                    self.wfile.write(raw)
                    return
                for byte in _bytes(raw):
                    if peer._stop.wait(answer.trickle):
                        return
                    try:
                        self.wfile.write(byte)
                        self.wfile.flush()
                    except OSError:
                        return
                    peer.bytes_sent += 1

            do_GET = do_POST = do_PUT = do_DELETE = _handle

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.02,), daemon=True
        )
        self._thread.start()
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"

    def close(self) -> None:
        self._stop.set()
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> FakePeer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _bytes(raw: bytes) -> Iterator[bytes]:
    for index in range(len(raw)):
        yield raw[index : index + 1]
