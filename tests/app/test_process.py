"""The real `finsig` process: two instances migrate one database together; SIGTERM exits 0."""

from __future__ import annotations

import json
import signal
import socket
import time
from pathlib import Path

import psycopg
import pytest
import requests

from finsig.migrations import MIGRATIONS
from tests.support.postgres import PostgresServer
from tests.support.app_processes import AppProcess, read_status_line, start_app

pytestmark = [pytest.mark.docker, pytest.mark.timeout(120)]


def test_two_instances_start_together_and_stop_cleanly_on_sigterm(
    postgres: PostgresServer, tmp_path: Path
) -> None:
    url = postgres.fresh_database()
    apps: list[AppProcess] = []
    try:
        apps = [start_app(url, tmp_path / f"app{i}.log") for i in range(2)]
        for app in apps:
            app.wait_ready()
        with psycopg.connect(url) as conn:
            ledger = conn.execute(
                "SELECT version FROM schema_migrations ORDER BY version"
            ).fetchall()
        assert ledger == [(m.version,) for m in MIGRATIONS]

        row = [{"date": "2024-01-02", "close": 3.5}]
        for app in apps:
            url = f"{app.base_url}/v1/instruments/PROC/prices"
            response = requests.post(url, json=row, timeout=10)
            assert response.status_code == 200

        for app in apps:
            started = time.monotonic()
            app.process.send_signal(signal.SIGTERM)
            assert app.process.wait(timeout=15) == 0, app.log.read_text()
            assert time.monotonic() - started < 5
        for app in apps:
            lines = [json.loads(line) for line in app.log.read_text().splitlines() if line.strip()]
            messages = [line["message"] for line in lines]
            assert "request" in messages and any("Finished server process" in m for m in messages)
    finally:
        for app in apps:
            app.kill()


def test_sigterm_finishes_the_request_in_flight_and_refuses_new_ones(
    postgres: PostgresServer, tmp_path: Path
) -> None:
    app = start_app(postgres.fresh_database(), tmp_path / "app.log")
    try:
        app.wait_ready()
        body = json.dumps([{"date": f"2024-01-{d:02d}", "close": float(d)} for d in range(1, 29)])
        head = (
            "POST /v1/instruments/INFL/prices HTTP/1.1\r\nHost: finsig\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
        )
        with socket.create_connection(("127.0.0.1", app.port), timeout=10) as sock:
            sock.sendall(head.encode() + body[:20].encode())  # the request is now in flight
            time.sleep(0.5)
            app.process.send_signal(signal.SIGTERM)
            time.sleep(1.0)
            with pytest.raises(requests.ConnectionError):
                requests.get(f"{app.base_url}/healthz", timeout=3)
            sock.sendall(body[20:].encode())
            assert read_status_line(sock) == "HTTP/1.1 200 OK"
        assert app.process.wait(timeout=15) == 0, app.log.read_text()
    finally:
        app.kill()
