"""Running `python -m finsig` as a real process for tests, with bounded waits."""

from __future__ import annotations

import os
import socket
import subprocess  # nosec B404 - tests start the app under test
import sys
from dataclasses import dataclass
from pathlib import Path

import requests

from tests.support.app import free_port, wait_until


@dataclass
class AppProcess:
    process: subprocess.Popen[bytes]
    port: int
    log: Path

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def exited(self) -> str | None:
        code = self.process.poll()
        if code is None:
            return None
        return f"finsig exited with {code}: {self.log.read_text(errors='replace')[-2000:]}"

    def wait_ready(self, timeout: float = 60.0) -> None:
        def ready() -> bool:
            return requests.get(f"{self.base_url}/readyz", timeout=3).status_code == 200

        wait_until(f"{self.base_url}/readyz 200", ready, timeout, abort=self.exited)

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)


def start_app(database_url: str, log: Path) -> AppProcess:
    port = free_port()
    env = {
        **os.environ,
        "FINSIG_DATABASE_URL": database_url,
        "FINSIG_PORT": str(port),
        "FINSIG_LOG_LEVEL": "INFO",
    }
    with log.open("wb") as out:
        process = subprocess.Popen(  # nosec B603 - fixed argv, our own interpreter
            [sys.executable, "-m", "finsig"], env=env, stdout=out, stderr=subprocess.STDOUT
        )
    return AppProcess(process, port, log)


def read_status_line(sock: socket.socket) -> str:
    """The first line of the answer on a raw connection, e.g. "HTTP/1.1 200 OK"."""
    received = b""
    while b"\r\n" not in received:
        chunk = sock.recv(4096)
        if not chunk:
            break
        received += chunk
    return received.split(b"\r\n", 1)[0].decode()
