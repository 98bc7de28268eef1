"""A fake third-party API on a local port, declared as routes → answers (stdlib only).

For tests of code that calls an outside API (a shop, a marketplace, a pricing service)::

    api = FakeApi({
        "GET /products": {"products": [{"id": "1"}]},              # a JSON answer
        "POST /bulk": Answer(202, {"job_id": "7"}),                # a status too
        "GET /bulk/{job}": lambda call: {"id": call.params["job"], "done": True},
    }).start()
    ... point the connector at api.url ...
    assert api.calls[0].headers["authorization"] == "Bearer t"
    api.stop()

A route is `"METHOD /path"`; `{name}` in the path matches one segment and lands in
`call.params`. Its handler is an answer (an `Answer`, or anything JSON-encodable, sent as 200)
or a function of the `Call` returning one (state lives in the function's closure or object). An
`Answer` body may be bytes or str for non-JSON answers (XML, a `.gz` file): set `content_type`.
Unknown routes answer 404, and every request is recorded in `calls` (method, path, query,
headers, body) in arrival order.

It is a real HTTP server, not a mock of httpx: the connector may run in another process (`python
main.py` under `run_connector`, the local emulator), real sockets show timeouts, dropped
connections, gzip and headers as they are, and the emulator can put its fault injection in
front of it. Faults (`cde_emulator.Fault` of the fake's `kind`, `channel` unless told otherwise)
are applied as in the emulator: an HTTP status (with `,retry-after=S`), `drop`, `timeout`,
`malformed`, `cut`, `delay=S`. `calls` records the requests that reached a route (a faulted one
never does).
"""

from __future__ import annotations

import contextlib
import json
import re
import select
import socket
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs, urlsplit

from cde_emulator.faults import BODILESS, Fault, FaultPlan

__all__ = ["Answer", "Call", "FakeApi"]


@dataclass(frozen=True)
class Answer:
    """What a route answers: a status, a body (JSON-encodable, bytes or str) and headers."""

    status: int = 200
    body: Any = None
    headers: Mapping[str, str] = field(default_factory=dict)
    content_type: str = "application/json"

    def encoded(self) -> bytes:
        if self.body is None:
            return b""
        if isinstance(self.body, bytes):
            return self.body
        if isinstance(self.body, str) and not self.content_type.endswith("json"):
            return self.body.encode()
        return json.dumps(self.body, separators=(",", ":")).encode()


@dataclass(frozen=True)
class Call:
    """One request the fake received."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]  # names in lower case
    body: bytes
    params: dict[str, str] = field(default_factory=dict)  # the route's `{name}` segments

    def json(self) -> Any:
        return json.loads(self.body) if self.body else None

    def arg(self, name: str, default: str | None = None) -> str | None:
        """The last value of query parameter `name`."""
        values = self.query.get(name)
        return values[-1] if values else default


Handler = Any  # an Answer, a JSON-encodable value, or Callable[[Call], Answer | value]


class _Route:
    def __init__(self, key: str, handler: Handler) -> None:
        method, _, path = key.partition(" ")
        if not method or not path.startswith("/"):
            raise ValueError(f"a route is 'METHOD /path', not {key!r}")
        self.method = method.upper()
        pattern = re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", re.escape(path.rstrip("/") or "/"))
        self.pattern = re.compile(pattern)
        self.handler = handler


class FakeApi:
    """A fake outside API: start it, call it at `url`, read `calls`, stop it."""

    def __init__(
        self,
        routes: Mapping[str, Handler],
        *,
        faults: Sequence[Fault] = (),
        kind: str = "channel",
        host: str = "127.0.0.1",
    ) -> None:
        self.routes = [_Route(key, handler) for key, handler in routes.items()]
        self.kind = kind
        self.fault_plan = FaultPlan(faults)
        self.calls: list[Call] = []
        self._lock = threading.Lock()
        self._host = host
        self._server: _FakeServer | None = None

    def route(self, key: str, handler: Handler) -> None:
        """Add (or, declared again, override) a route."""
        self.routes.insert(0, _Route(key, handler))

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("the fake API is not started")
        return f"http://{self._host}:{self._server.server_port}"

    def start(self) -> FakeApi:
        self._server = _FakeServer((self._host, 0), self)
        threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        ).start()
        return self

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is None:
            return
        server.stopping.set()
        stopper = threading.Thread(target=server.shutdown)
        stopper.start()
        with (
            contextlib.suppress(OSError),
            socket.create_connection((self._host, server.server_port), timeout=1),
        ):
            pass
        stopper.join()
        server.server_close()

    def __enter__(self) -> FakeApi:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def answer(self, call: Call) -> Answer:
        """The answer of the first route that matches (404 / 405 when none does)."""
        allowed = []
        for route in self.routes:
            match = route.pattern.fullmatch(call.path.rstrip("/") or "/")
            if match is None:
                continue
            if route.method != call.method:
                allowed.append(route.method)
                continue
            call = Call(**{**vars(call), "params": match.groupdict()})
            with self._lock:
                self.calls.append(call)
            handler = route.handler
            result = handler(call) if callable(handler) else handler
            return result if isinstance(result, Answer) else Answer(200, result)
        with self._lock:
            self.calls.append(call)
        if allowed:
            return Answer(405, {"message": "Method not allowed."}, {"Allow": ", ".join(allowed)})
        return Answer(404, {"message": f"No route for {call.method} {call.path}"})


class _FakeServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], fake: FakeApi) -> None:
        self.fake = fake
        self.stopping = threading.Event()
        super().__init__(address, _FakeHandler)

    def server_bind(self) -> None:  # no reverse DNS lookup (HTTPServer's getfqdn)
        self.socket.bind(self.server_address)
        self.server_address = self.socket.getsockname()
        self.server_name, self.server_port = str(self.server_address[0]), self.server_address[1]


class _FakeHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _FakeServer

    def __getattr__(self, name: str) -> Callable[[], None]:
        if name.startswith("do_"):
            return self._handle
        raise AttributeError(name)

    def log_message(self, format: str, *args: Any) -> None:
        """No access log."""

    def _handle(self) -> None:
        fake = self.server.fake
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length > 0 else b""
        url = urlsplit(self.path)
        call = Call(
            self.command,
            url.path,
            parse_qs(url.query, keep_blank_values=True),
            {k.lower(): v for k, v in self.headers.items()},
            body,
        )
        cut = False
        for fault in fake.fault_plan.next_request(fake.kind, False):
            if fault.delay is not None:
                time.sleep(fault.delay)
            elif fault.action == "cut":
                cut = True
            elif fault.action == "drop":
                self.close_connection = True
                return
            elif fault.action == "timeout":
                self._stall()
                return
            elif fault.action == "malformed":
                self._send(Answer(200, b"<html>502 Bad Gateway</html>", content_type="text/html"))
                return
            elif fault.status is not None:
                headers = {"Retry-After": fault.retry_after} if fault.retry_after else {}
                body_of = None if fault.status in BODILESS else {"message": "Injected fault"}
                self._send(Answer(fault.status, body_of, headers))
                return
        try:
            answer = fake.answer(call)
        except Exception as error:  # a broken handler shows as a 500, not a hang
            answer = Answer(500, {"message": f"fake API handler failed: {error!r}"})
        self._send(answer, cut=cut)

    def _stall(self) -> None:
        self.close_connection = True
        while not self.server.stopping.is_set():
            readable, _, _ = select.select([self.connection], [], [], 0.05)
            if readable:
                try:
                    if not self.connection.recv(1, socket.MSG_PEEK):
                        return
                except OSError:
                    return
                time.sleep(0.05)

    def _send(self, answer: Answer, *, cut: bool = False) -> None:
        body = answer.encoded()
        phrase = HTTPStatus(answer.status).phrase if answer.status in _STATUSES else "Status"
        head = [f"HTTP/1.1 {answer.status} {phrase}"]
        if answer.body is not None:
            head.append(f"Content-Type: {answer.content_type}")
        if answer.status not in BODILESS:
            head.append(f"Content-Length: {len(body)}")
        head.extend(f"{name}: {value}" for name, value in answer.headers.items())
        if cut:
            self.close_connection = True
            head.append("Connection: close")
            body = body[: len(body) // 2]
        try:
            self.wfile.write(("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + body)
        except OSError:
            self.close_connection = True


_STATUSES = {status.value for status in HTTPStatus}
