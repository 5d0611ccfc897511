"""`finsig` stops at start with a message naming a missing or invalid setting."""

from __future__ import annotations

import json

import pytest

from finsig.__main__ import EXIT_CONFIG, main


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
