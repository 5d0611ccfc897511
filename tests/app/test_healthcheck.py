"""The container healthcheck asks 127.0.0.1's /readyz and exits 0 only on 200."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from finsig import healthcheck


class _Readyz(BaseHTTPRequestHandler):
    status = 200

    def do_GET(self) -> None:  # noqa: N802 - the http.server API
        self.send_response(self.status if self.path == "/readyz" else 404)
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass


@pytest.fixture
def server() -> Iterator[ThreadingHTTPServer]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Readyz)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield httpd
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_ready_and_not_ready(server: ThreadingHTTPServer, monkeypatch: pytest.MonkeyPatch) -> None:
    port = server.server_address[1]
    monkeypatch.setenv("FINSIG_PORT", str(port))
    monkeypatch.setattr(_Readyz, "status", 200)
    assert healthcheck.main() == 0
    monkeypatch.setattr(_Readyz, "status", 503)
    assert healthcheck.main() == 1


def test_nothing_listening() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    assert healthcheck.check(port, timeout=1.0) is False
