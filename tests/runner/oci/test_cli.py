"""`python -m finsig_runner.oci`: each command's output and its documented exit codes."""

from __future__ import annotations

import json
import subprocess  # nosec B404 - runs this package's own entry point
import sys
from pathlib import Path

import pytest

from finsig_runner.oci.__main__ import main
from tests.support.oci_archives import EPOCH, LATER, docker_archive, file, layer_tar

pytestmark = pytest.mark.timeout(30)

STAMPED_PYC = b"\xa7\r\r\n" + bytes(4) + LATER.to_bytes(4, "little") + bytes(4) + b"code"


def raw(tmp: Path, name: str, data: bytes) -> Path:
    layer = layer_tar([file("built-at", data), file("m/__pycache__/m.cpython-311.pyc",
                                                    STAMPED_PYC)])
    return docker_archive(tmp / name, [layer])


def test_normalise_layout_verify_diff_pycs(tmp_path: Path, capsys: pytest.CaptureFixture[str]
                                           ) -> None:
    source = raw(tmp_path, "raw.tar", b"1")
    assert main(["normalise", str(source), str(tmp_path / "n.tar"), "--epoch", str(EPOCH),
                 "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["image_id"].startswith("sha256:") and len(result["timestamp_pycs"]) == 1
    assert main(["layout", str(tmp_path / "n.tar"), str(tmp_path / "lay")]) == 0
    assert "= manifest sha256:" in capsys.readouterr().out
    assert main(["verify", str(tmp_path / "lay")]) == 0
    assert main(["diff", str(tmp_path / "n.tar"), str(tmp_path / "lay")]) == 0
    assert "same image ID" in capsys.readouterr().out
    assert main(["pycs", str(tmp_path / "n.tar"), "--newer-than", str(EPOCH)]) == 1
    assert "/m/__pycache__/m.cpython-311.pyc" in capsys.readouterr().out
    assert main(["pycs", str(tmp_path / "n.tar"), "--newer-than", str(LATER)]) == 0


def test_normalise_text_names_timestamp_pycs(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", str(EPOCH))
    assert main(["normalise", str(raw(tmp_path, "raw.tar", b"1")), str(tmp_path / "n.tar")]) == 0
    out = capsys.readouterr().out
    assert "1 timestamp-based pycs stamped at build time (set SOURCE_DATE_EPOCH" in out


def test_differ_and_invalid_exit_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for name, data in (("a", b"1"), ("b", b"2")):
        main(["normalise", str(raw(tmp_path, f"{name}-raw.tar", data)),
              str(tmp_path / f"{name}.tar"), "--epoch", str(EPOCH)])
    assert main(["diff", str(tmp_path / "a.tar"), str(tmp_path / "b.tar")]) == 1
    assert "/built-at (content)" in capsys.readouterr().out
    (tmp_path / "junk.tar").write_bytes(b"junk" * 300)
    assert main(["normalise", str(tmp_path / "junk.tar"), str(tmp_path / "o.tar"),
                 "--epoch", "1"]) == 1
    assert "not a readable tar" in capsys.readouterr().err
    main(["layout", str(tmp_path / "a.tar"), str(tmp_path / "lay")])
    blob = next(p for p in (tmp_path / "lay" / "blobs" / "sha256").iterdir()
                if p.stat().st_size > 5000)
    blob.write_bytes(blob.read_bytes()[:-1] + b"X")
    assert main(["verify", str(tmp_path / "lay")]) == 1


def test_usage_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    source = raw(tmp_path, "raw.tar", b"1")
    assert main(["normalise", str(source), str(tmp_path / "n.tar")]) == 2
    assert "pass --epoch N or set SOURCE_DATE_EPOCH" in capsys.readouterr().err
    assert main(["diff", str(tmp_path / "missing"), str(source)]) == 2
    with pytest.raises(SystemExit) as usage:
        main(["frobnicate"])
    assert usage.value.code == 2


def test_module_entry_help() -> None:
    done = subprocess.run([sys.executable, "-m", "finsig_runner.oci", "--help"],  # noqa: S603
                          capture_output=True, text=True, timeout=20, check=False)
    assert done.returncode == 0
    assert "normalise" in done.stdout and "Exit codes: 0 done" in done.stdout
