"""`finsig-runner keygen DIR` through the CLI: output, exit codes, refusal to overwrite."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from finsig_runner.core import signing
from finsig_runner.cli.main import main


def test_keygen_prints_the_fingerprint(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["keygen", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    key = signing.load_public_key(tmp_path / signing.PUBLIC_KEY_NAME)
    assert f"fingerprint  {signing.fingerprint(key)}" in out
    mode = (tmp_path / signing.PRIVATE_KEY_NAME).stat().st_mode
    assert stat.S_IMODE(mode) == 0o600


def test_keygen_twice_exits_2_and_keeps_the_key(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["keygen", str(tmp_path)]) == 0
    before = (tmp_path / signing.PRIVATE_KEY_NAME).read_bytes()
    capsys.readouterr()
    assert main(["keygen", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "refusing to overwrite" in err
    assert (tmp_path / signing.PRIVATE_KEY_NAME).read_bytes() == before
