"""HTTP plumbing and lifecycle: a fast stdlib server around the routes, plus the `Emulator` API.

Performance matters because benchmarks run against this server: HTTP/1.1 keep-alive, TCP_NODELAY on
every accepted socket, and each response (headers and body) goes out in one `sendall`, so there are
no Nagle/delayed-ACK stalls between a header write and a body write.
"""

from __future__ import annotations

import contextlib
import re
import select
import socket
import sys
import threading
import time
import traceback
from collections.abc import Callable, Sequence
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any, TextIO
from urllib.parse import parse_qs, urlsplit

from cde_emulator import channel_stand_in as channel
from cde_emulator import routes
from cde_emulator.faults import BODILESS, Fault, FaultPlan
from cde_emulator.feed import Feed
from cde_emulator.feed import handle as answer_feed
from cde_emulator.routes import Request, Response, json_response
from cde_emulator.rows import encode
from cde_emulator.state import RunState

MALFORMED_BODY = b"<html><body>502 Bad Gateway (injected malformed response)</body></html>"
#: How long a `timeout` fault holds a connection at most when the client never gives up.
STALL_SECONDS = 600.0
#: Paths an older Container API does not know: it predates the input type `input` (`full` only).
_NEW_INPUT_TYPE = re.compile(r"/(input|items)/input/[^/]+")


class _Server(ThreadingHTTPServer):
    """Threaded server that tracks its connections so `stop()` can end kept-alive ones too."""

    daemon_threads = True

    def __init__(self, address: tuple[str, int], emulator: Emulator) -> None:
        self.emulator = emulator
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        super().__init__(address, _Handler)

    def server_bind(self) -> None:
        # HTTPServer.server_bind calls socket.getfqdn(), a reverse DNS lookup that can take seconds.
        self.socket.bind(self.server_address)
        self.server_address = self.socket.getsockname()
        self.server_name, self.server_port = str(self.server_address[0]), self.server_address[1]

    def get_request(self) -> tuple[socket.socket, Any]:
        connection, address = self.socket.accept()
        connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        with self._connections_lock:
            self._connections.add(connection)
        return connection, address

    def shutdown_request(self, request: Any) -> None:
        with self._connections_lock:
            self._connections.discard(request)
        super().shutdown_request(request)

    def close_connections(self) -> None:
        with self._connections_lock:
            connections = list(self._connections)
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)


class _Handler(BaseHTTPRequestHandler):
    """Turns HTTP requests into `routes` calls, applying injected faults on the way."""

    protocol_version = "HTTP/1.1"
    server: _Server

    def __getattr__(self, name: str) -> Callable[[], None]:
        """Route every method (GET, TRACE, QUERY, ...): an undeclared one gets a JSON 405/404."""
        if name.startswith("do_"):
            return self._handle
        raise AttributeError(name)

    def log_message(self, format: str, *args: Any) -> None:
        """Silence the per-request access log: it would cost more than the request itself."""

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """Stdlib errors (bad request line, unknown method) answered as JSON like the rest."""
        self.close_connection = True
        self._send(json_response(code, {"message": message or HTTPStatus(code).phrase}))

    def _read_body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks: list[bytes] = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def _handle(self) -> None:
        emulator = self.server.emulator
        state = emulator.state
        state.count_request()
        try:
            body = self._read_body()
        except ValueError:
            self.send_error(400, "Unreadable request body.")
            return
        url = urlsplit(self.path)
        limit = emulator.max_body_bytes
        if limit is not None and len(body) > limit:
            # A proxy's body limit: the request never reaches the API (docs/container-api.md
            # unknown 12: the real limit is not published).
            self.close_connection = True
            self._send(json_response(413, {"message": "Request Entity Too Large"}))
            return
        request = Request(
            method=self.command,
            path=url.path,
            query=parse_qs(url.query, keep_blank_values=True),
            headers={k.lower(): v for k, v in self.headers.items()},
            body=body,
        )
        match: routes.Match | None = None
        if url.path == "/channel" or url.path.startswith("/channel/"):
            kind, contract = "channel", False
        elif url.path == "/feed" or url.path.startswith("/feed/"):
            kind, contract = "feed", False
        elif url.path.startswith("/_emulator/"):
            kind, contract = None, False
        else:
            match = routes.resolve(self.command, url.path)
            kind, contract = (match.kind if match else None), True
            if emulator.old_api and _NEW_INPUT_TYPE.fullmatch(url.path):
                match = None  # an older API's route pattern does not accept `input`

        cut = False
        for fault in emulator.fault_plan.next_request(kind, contract):
            if fault.delay is not None:
                time.sleep(fault.delay)
            elif fault.action == "cut":
                cut = True
            elif fault.action == "drop":
                self.close_connection = True  # no response at all: the client sees a dead socket
                return
            elif fault.action == "timeout":
                self._stall()
                return
            else:
                self._send(self._fault_response(fault, kind))
                return

        if kind is not None and emulator.latency.get(kind):
            time.sleep(emulator.latency[kind])  # each request waits in its own server thread
        try:
            if kind == "channel":
                response = emulator.handle_channel(request)
            elif kind == "feed":
                response = emulator.handle_feed(request)
            elif not contract:
                response = emulator.handle_private(request)
            elif match is None:
                response = json_response(
                    404, {"message": f'No route found for "{self.command} {url.path}"'}
                )
            elif match.handler is None:
                body = encode({"message": "Method Not Allowed"}).encode()
                response = Response(405, body, {"Allow": ", ".join(match.allowed)})
            else:
                response = routes.handle(state, request, match)
        except Exception as error:  # a bug must surface as a 500, not a hang
            traceback.print_exc(file=sys.stderr)
            response = json_response(500, {"message": f"Emulator error: {error}"})
        if cut:
            self.close_connection = True
        self._send(response, cut=cut)

    def _fault_response(self, fault: Fault, kind: str | None) -> Response:
        """The answer of a fault that answers (every action but delay, cut, drop, timeout)."""
        if fault.base == "malformed":
            return Response(200, MALFORMED_BODY)
        if fault.base in ("empty", "null") and kind == "feed":
            products = b"[]" if fault.base == "empty" else b"null"
            return Response(200, b'{"products":' + products + b',"next":null}')
        if fault.base in ("empty", "null"):
            data = b"[]" if fault.base == "empty" else b"null"
            return Response(200, b'{"message":"","data":' + data + b"}")
        if fault.base == "204body":
            # Wrong on purpose: a body after a 204 would be read as the next answer on this
            # connection, so the connection closes after it.
            self.close_connection = True
            return Response(204, b'{"message":"Injected fault"}', {"X-Emulator-Body": "204"})
        assert fault.status is not None
        headers = {"Retry-After": fault.retry_after} if fault.retry_after is not None else {}
        if fault.status in BODILESS:
            return Response(fault.status, None, headers)
        return Response(fault.status, encode({"message": "Injected fault"}).encode(), headers)

    def _stall(self) -> None:
        """Answer nothing until the client hangs up (its timeout) or the emulator stops."""
        self.close_connection = True
        deadline = time.monotonic() + STALL_SECONDS
        while time.monotonic() < deadline:
            readable, _, _ = select.select([self.connection], [], [], 0.05)
            if readable:
                try:
                    if not self.connection.recv(1, socket.MSG_PEEK):
                        return  # the client closed its end
                except OSError:
                    return
                time.sleep(0.05)  # a pipelined request: keep ignoring it

    def _send(self, response: Response, *, cut: bool = False) -> None:
        """Status line, headers and body in one write (see module docstring).

        With `cut`, only half the body is sent before the connection closes. A 204 or 304 gets
        no body and no Content-Length, as HTTP requires, unless the response carries one on
        purpose (the `204body` fault, which then closes the connection).
        """
        body = response.body or b""
        phrase = HTTPStatus(response.status).phrase if response.status in _STATUSES else "Status"
        head = [f"HTTP/1.1 {response.status} {phrase}"]
        if response.body is not None:
            head.append("Content-Type: application/json")
        if response.status not in BODILESS or body:
            head.append(f"Content-Length: {len(body)}")
        head.extend(f"{name}: {value}" for name, value in response.headers.items())
        if self.close_connection:
            head.append("Connection: close")
        payload = ("\r\n".join(head) + "\r\n\r\n").encode("latin-1")
        if self.command != "HEAD":
            payload += body[: len(body) // 2] if cut else body
        try:
            self.wfile.write(payload)
        except OSError:
            self.close_connection = True


_STATUSES = {status.value for status in HTTPStatus}


class Emulator:
    """A local Container API for one run: start it, point a connector at `url`, inspect the results.

    Input files are read once at `start()`; output, feedback, logs and channel calls are appended to
    files in `out_dir` (default `data_dir/out`), which start empty like a fresh platform run.
    `old_api` serves an older Container API (input type `full` only); `max_body_bytes` answers
    413 to larger request bodies, like a proxy in front of the API. `feed` (a JSON Lines file of
    products) is served under `/feed` in pages of `feed_page_size` (cde_emulator/feed.py).
    """

    def __init__(
        self,
        data_dir: Path,
        out_dir: Path | None = None,
        *,
        faults: Sequence[Fault] = (),
        channel_reject_rate: float = 0.0,
        channel_latency: float = 0.0,
        read_latency: float = 0.0,
        feed: Path | None = None,
        feed_page_size: int = 100,
        feed_latency: float = 0.0,
        host: str = "127.0.0.1",
        port: int = 0,
        echo: TextIO | None = None,
        old_api: bool = False,
        max_body_bytes: int | None = None,
    ) -> None:
        self.data_dir = Path(data_dir)
        self.out_dir = Path(out_dir) if out_dir is not None else self.data_dir / "out"
        self.channel_reject_rate = channel_reject_rate
        # Seconds added to each channel call, input read or feed page, to model remote services.
        self.latency = {"channel": channel_latency, "read": read_latency, "feed": feed_latency}
        self.feed_path = Path(feed) if feed is not None else None
        self.feed_page_size = feed_page_size
        self._feed: Feed | None = None
        #: Behave as an older Container API that serves `full` and does not know `input`.
        self.old_api = old_api
        #: Answer 413 to any request body larger than this (None: no limit).
        self.max_body_bytes = max_body_bytes
        self.host = host
        self.port = port
        self._fault_list = tuple(faults)
        self._echo = echo
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._state: RunState | None = None
        self.fault_plan = FaultPlan(self._fault_list)

    # -- lifecycle -----------------------------------------------------------------------------

    def start(self) -> Emulator:
        """Load inputs, bind the port (0 = any free one) and serve in a background thread."""
        if self._server is not None:
            raise RuntimeError("emulator already started")
        if self.feed_path is not None:
            # Before anything is bound: a broken feed file stops the start with its line number.
            self._feed = Feed.load(self.feed_path, self.feed_page_size)
        self._state = RunState(self.data_dir, self.out_dir, echo=self._echo)
        self.fault_plan = FaultPlan(self._fault_list)
        self._server = _Server((self.host, self.port), self)
        self.port = self._server.server_port
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.02},
            name=f"emulator:{self.port}",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving, drop open keep-alive connections, and flush every output file."""
        if self._server is None:
            return
        # shutdown() waits for the serve loop to notice; a throwaway connection wakes it at once
        # instead of after a poll interval, which adds up over hundreds of test emulators.
        stopper = threading.Thread(target=self._server.shutdown)
        stopper.start()
        host = "127.0.0.1" if self.host in ("0.0.0.0", "") else self.host  # noqa: S104 - a comparison
        with contextlib.suppress(OSError), socket.create_connection((host, self.port), timeout=1):
            pass
        stopper.join()
        self._server.close_connections()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join()
        self._server = None
        self.state.close()

    def __enter__(self) -> Emulator:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # -- inspection ----------------------------------------------------------------------------

    @property
    def state(self) -> RunState:
        if self._state is None:
            raise RuntimeError("emulator not started")
        return self._state

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def output_rows(self, type: str = "output") -> list[dict[str, Any]]:
        """Rows written to `output` or `feedback` so far (flattened, string values)."""
        return self.state.read_records(f"{type}.jsonl")

    def logs(self) -> list[dict[str, Any]]:
        """Log lines so far: `{"level", "message", "context"}`."""
        return self.state.read_records("logs.jsonl")

    def channel_calls(self) -> list[dict[str, Any]]:
        """Calls to the channel stand-in so far: endpoint, status, counts and ids."""
        return self.state.read_records("channel.jsonl")

    def summary(self) -> dict[str, Any]:
        """Rows served and written, logs per level, channel calls, faults fired."""
        summary = self.state.summary()
        summary["url"] = self.url
        summary["faults_fired"] = [str(fault) for fault in self.fault_plan.fired]
        return summary

    # -- non-contract routes -------------------------------------------------------------------

    def handle_private(self, request: Request) -> Response:
        """`/_emulator/status`: the summary as JSON (not part of the contract)."""
        if request.path == "/_emulator/status" and request.method in ("GET", "HEAD"):
            return json_response(200, self.summary())
        return json_response(404, {"message": f'No route found for "{request.path}"'})

    def handle_channel(self, request: Request) -> Response:
        result = channel.handle(
            request.method,
            request.path.removeprefix("/channel"),
            request.headers,
            request.body,
            self.channel_reject_rate,
        )
        self.state.record_channel_call(result.record)
        return json_response(result.status, result.payload)

    def handle_feed(self, request: Request) -> Response:
        answer = answer_feed(self._feed, request.method, request.path, request.query)
        if answer.status == 200:
            self.state.record_feed_page(answer.products)
        return Response(answer.status, answer.body)
