"""`finsig`: stops at start naming a bad setting; otherwise serves until SIGTERM and returns 0."""

from __future__ import annotations

import json
import logging
import os
import signal
import threading
import time
from collections.abc import Iterator

import pytest
import requests

from finsig.__main__ import EXIT_CONFIG, main
from tests.support.app import free_port


def test_missing_database_url(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("FINSIG_DATABASE_URL", raising=False)
    assert main() == EXIT_CONFIG
    line = json.loads(capsys.readouterr().err)
    assert line["setting"] == "FINSIG_DATABASE_URL" and "is not set" in line["message"]


def test_invalid_port(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("FINSIG_DATABASE_URL", "postgresql://u:p@127.0.0.1:5432/db")
    monkeypatch.setenv("FINSIG_PORT", "eighty")
    assert main() == EXIT_CONFIG
    assert "FINSIG_PORT" in capsys.readouterr().err


@pytest.fixture
def restore_process_state() -> Iterator[None]:
    """main() takes over the root logger and the SIGTERM/SIGINT handlers; give them back."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    term, interrupt = signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGINT)
    try:
        yield
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)
        signal.signal(signal.SIGTERM, term)
        signal.signal(signal.SIGINT, interrupt)


@pytest.mark.timeout(60)
@pytest.mark.usefixtures("restore_process_state")
def test_serves_until_sigterm_then_returns_0(monkeypatch: pytest.MonkeyPatch) -> None:
    # No database behind the URL: the app serves /healthz anyway and /readyz says 503.
    port = free_port()
    monkeypatch.setenv("FINSIG_DATABASE_URL", f"postgresql://u:p@127.0.0.1:{free_port()}/db")
    monkeypatch.setenv("FINSIG_PORT", str(port))
    seen: dict[str, int] = {}

    def probe_then_terminate() -> None:
        try:
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline and "healthz" not in seen:
                try:
                    base = f"http://127.0.0.1:{port}"
                    ready = requests.get(f"{base}/readyz", timeout=5).status_code
                    seen["healthz"] = requests.get(f"{base}/healthz", timeout=2).status_code
                    seen["readyz"] = ready
                except requests.ConnectionError:
                    time.sleep(0.1)
        finally:
            os.kill(os.getpid(), signal.SIGTERM)

    prober = threading.Thread(target=probe_then_terminate, daemon=True)
    prober.start()
    assert main() == 0
    prober.join(timeout=10)
    assert seen == {"healthz": 200, "readyz": 503}
