"""pyc headers as CPython writes them: timestamp-based without SOURCE_DATE_EPOCH, checked-hash
with it (py_compile itself compiles here, no fixture bytes)."""

from __future__ import annotations

import io
import os
import py_compile
from pathlib import Path

import pytest

from finsig_runner.oci.pyc import PycKind, read_header, timestamp_pycs
from tests.support.oci_archives import EPOCH, file, layer_tar

pytestmark = pytest.mark.timeout(30)


def compiled(tmp: Path, monkeypatch: pytest.MonkeyPatch, epoch: str | None) -> bytes:
    source = tmp / "mod.py"
    source.write_text("X = 1\n")
    os.utime(source, (EPOCH + 5, EPOCH + 5))
    if epoch is None:
        monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    else:
        monkeypatch.setenv("SOURCE_DATE_EPOCH", epoch)
    target = tmp / f"mod-{epoch}.pyc"
    py_compile.compile(str(source), cfile=str(target), doraise=True)
    return target.read_bytes()


def test_headers_of_real_pycs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    stamped = read_header(compiled(tmp_path, monkeypatch, None))
    hashed = read_header(compiled(tmp_path, monkeypatch, str(EPOCH)))
    assert stamped is not None and stamped.kind is PycKind.TIMESTAMP
    assert stamped.source_mtime == EPOCH + 5
    assert hashed is not None and hashed.kind is PycKind.CHECKED_HASH
    assert read_header(b"#!/bin/sh\necho not a pyc\n") is None
    assert read_header(b"\xa7\r\r\n\x01\x00") is None  # too short


def test_layer_scan(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    layer = layer_tar([
        file("usr/lib/__pycache__/old.cpython-311.pyc", compiled(tmp_path, monkeypatch, None)),
        file("app/__pycache__/new.cpython-311.pyc", compiled(tmp_path, monkeypatch, str(EPOCH))),
        file("app/not.pyc", b"tiny"),
    ])
    found = timestamp_pycs(io.BytesIO(layer), 4)
    assert [(p.layer, p.path, p.source_mtime) for p in found] == [
        (4, "/usr/lib/__pycache__/old.cpython-311.pyc", EPOCH + 5)]
    assert timestamp_pycs(io.BytesIO(layer), 4, newer_than=EPOCH + 5) == ()
