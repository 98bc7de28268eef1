"""A TLS-inspecting HTTPS proxy, as companies run them, for tests of a machine behind one.

Clients send `CONNECT host:443`; the proxy answers the TLS handshake itself with a certificate
for that host signed by its own CA (made here with the `openssl` command), then relays the
decrypted traffic to the real host over a second, verified TLS connection. A client trusts it
only if the proxy's CA is in the trust store it reads. Every CONNECT and every handshake a
client refused is recorded. Loopback only; it stops with the test.
"""

from __future__ import annotations

import contextlib
import shutil
import socket
import socketserver
import ssl
import subprocess
import threading
from pathlib import Path


def openssl(*args: str | Path, cwd: Path) -> None:
    subprocess.run(["openssl", *map(str, args)], cwd=cwd, check=True, capture_output=True)


class InspectingProxy(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        openssl(
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
            "-keyout", "ca.key", "-out", "ca.pem", "-subj", "/CN=Test Inspecting Proxy CA",
            "-addext", "basicConstraints=critical,CA:TRUE",
            "-addext", "keyUsage=critical,keyCertSign,cRLSign",
            cwd=folder,
        )  # fmt: skip
        self.ca = folder / "ca.pem"
        self.contexts: dict[str, ssl.SSLContext] = {}
        self.lock = threading.Lock()
        self.connects: list[str] = []
        self.refused: list[str] = []
        self.upstream = ssl.create_default_context()
        super().__init__(("127.0.0.1", 0), Relay)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def context_for(self, host: str) -> ssl.SSLContext:
        with self.lock:
            if host not in self.contexts:
                (self.folder / f"{host}.ext").write_text(
                    f"subjectAltName=DNS:{host}\nbasicConstraints=CA:FALSE\n"
                    "keyUsage=critical,digitalSignature,keyEncipherment\n"
                    "extendedKeyUsage=serverAuth\nauthorityKeyIdentifier=keyid\n",
                    encoding="utf-8",
                )
                openssl(
                    "req", "-newkey", "rsa:2048", "-nodes", "-keyout", f"{host}.key",
                    "-out", f"{host}.csr", "-subj", f"/CN={host}", cwd=self.folder,
                )  # fmt: skip
                openssl(
                    "x509", "-req", "-in", f"{host}.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
                    "-CAcreateserial", "-days", "2", "-out", f"{host}.pem",
                    "-extfile", f"{host}.ext", cwd=self.folder,
                )  # fmt: skip
                context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
                context.load_cert_chain(self.folder / f"{host}.pem", self.folder / f"{host}.key")
                self.contexts[host] = context
            return self.contexts[host]

    def __enter__(self) -> InspectingProxy:
        threading.Thread(target=self.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.shutdown()
        self.server_close()


class Relay(socketserver.StreamRequestHandler):
    server: InspectingProxy

    def handle(self) -> None:
        request = self.rfile.readline(65536).decode("latin-1").split()
        while self.rfile.readline(65536) not in (b"\r\n", b"\n", b""):
            pass
        if len(request) < 2 or request[0] != "CONNECT":
            self.wfile.write(b"HTTP/1.1 405 Only CONNECT\r\nContent-Length: 0\r\n\r\n")
            return
        host, _, port = request[1].rpartition(":")
        self.server.connects.append(host)
        self.wfile.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
        self.wfile.flush()
        try:
            client = self.server.context_for(host).wrap_socket(self.connection, server_side=True)
        except (ssl.SSLError, OSError):
            self.server.refused.append(host)  # the client did not trust our certificate
            return
        raw = socket.create_connection((host, int(port)), timeout=60)
        with self.server.upstream.wrap_socket(raw, server_hostname=host) as upstream:
            pump = threading.Thread(target=copy, args=(upstream, client), daemon=True)
            pump.start()
            copy(client, upstream)
            pump.join(timeout=60)


def copy(source: ssl.SSLSocket, destination: ssl.SSLSocket) -> None:
    try:
        while chunk := source.recv(65536):
            destination.sendall(chunk)
    except OSError:
        pass
    finally:
        with contextlib.suppress(OSError):
            destination.shutdown(socket.SHUT_WR)


def system_store_with(ca: Path, folder: Path) -> Path:
    """/etc/ssl/certs with `ca` installed as update-ca-certificates does (file, bundle, hash)."""
    shutil.copytree("/etc/ssl/certs", folder, symlinks=True)
    shutil.copy(ca, folder / "test-inspecting-proxy.pem")
    bundle = folder / "ca-certificates.crt"
    content = bundle.read_text(encoding="utf-8") + ca.read_text(encoding="utf-8")
    bundle.unlink()  # a copy, never the machine's own file (it could be a symlink)
    bundle.write_text(content, encoding="utf-8")
    openssl("rehash", folder, cwd=folder)
    return folder
