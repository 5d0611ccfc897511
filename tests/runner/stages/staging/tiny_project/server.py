"""A tiny service, not finsig: GET /health, POST /echo, and /metrics with tiny_requests_total.

The staging stage's second project (tests/runner/stages/staging/test_second_project_docker.py).
"""

import json
import signal
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

COUNTS: dict[tuple[str, str], int] = {}
LOCK = threading.Lock()


class Handler(BaseHTTPRequestHandler):
    def _answer(self, status: int, body: bytes, kind: str = "application/json") -> None:
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _count(self, method: str) -> None:
        with LOCK:
            key = (method, self.path)
            COUNTS[key] = COUNTS.get(key, 0) + 1

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        if self.path == "/metrics":
            with LOCK:
                lines = [f'tiny_requests_total{{method="{m}",path="{p}"}} {n}'
                         for (m, p), n in sorted(COUNTS.items())]
            text = "# TYPE tiny_requests_total counter\n" + "".join(f"{ln}\n" for ln in lines)
            self._answer(200, text.encode(), "text/plain; version=0.0.4")
            return
        self._count("GET")
        if self.path == "/health":
            self._answer(200, b'{"status": "ok"}')
        else:
            self._answer(404, b'{"detail": "not found"}')

    def do_POST(self) -> None:  # noqa: N802 - http.server's name
        self._count("POST")
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if self.path != "/echo":
            self._answer(404, b'{"detail": "not found"}')
            return
        self._answer(200, json.dumps({"echo": json.loads(body or b"null")}).encode())

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        sys.stderr.write(f"tiny: {format % args}\n")


def main() -> None:
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))  # PID 1: stop at once on docker stop
    ThreadingHTTPServer(("0.0.0.0", 8080), Handler).serve_forever()  # noqa: S104


if __name__ == "__main__":
    main()
