"""The hash-chained event log: appends from threads, verification naming the first broken line."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest

from finsig_runner.core.errors import ChainBrokenError
from finsig_runner.core.events import GENESIS, EventLog, line_hash, verify_chain


def _log(tmp_path: Path, n: int = 6) -> EventLog:
    log = EventLog(tmp_path / "ci_cd_events.log")
    for i in range(n):
        log.append("artifact", path=f"artifacts/f{i}", size=i, sha256="ab" * 32)
    return log


def _lines(path: Path) -> list[bytes]:
    return path.read_bytes().splitlines()


def _write(path: Path, lines: list[bytes]) -> None:
    path.write_bytes(b"".join(line + b"\n" for line in lines))


def test_chain_links_every_line(tmp_path: Path) -> None:
    log = _log(tmp_path)
    lines = _lines(log.path)
    assert json.loads(lines[0])["prev"] == GENESIS
    for before, after in zip(lines, lines[1:]):
        assert json.loads(after)["prev"] == line_hash(before)
    result = verify_chain(log.path, expect_hash=log.chain_hash)
    assert result.lines == 6 and result.chain_hash == line_hash(lines[-1])
    assert json.loads(lines[0])["ts"].endswith("Z")


def test_concurrent_appends_keep_the_chain(tmp_path: Path) -> None:
    log = EventLog(tmp_path / "ci_cd_events.log")

    def many(who: int) -> None:
        for i in range(50):
            log.append("stage_start", stage=f"s{who}", i=i)

    threads = [threading.Thread(target=many, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert verify_chain(log.path).lines == 200


def test_reopened_log_continues_the_chain(tmp_path: Path) -> None:
    log = _log(tmp_path, 2)
    again = EventLog(log.path)
    again.append("run_end", status="PASSED")
    assert verify_chain(log.path).lines == 3


def test_altered_line_is_named(tmp_path: Path) -> None:
    log = _log(tmp_path)
    lines = _lines(log.path)
    lines[2] = lines[2].replace(b'"size":2', b'"size":9')  # line 3, still canonical JSON
    _write(log.path, lines)
    with pytest.raises(ChainBrokenError, match="line 3: altered") as caught:
        verify_chain(log.path)
    assert caught.value.line == 3


def test_invalid_json_line_is_named(tmp_path: Path) -> None:
    log = _log(tmp_path)
    lines = _lines(log.path)
    lines[3] = lines[3][:-1]
    _write(log.path, lines)
    with pytest.raises(ChainBrokenError) as caught:
        verify_chain(log.path)
    assert caught.value.line == 4


def test_removed_line_is_named(tmp_path: Path) -> None:
    log = _log(tmp_path)
    lines = _lines(log.path)
    del lines[1]
    _write(log.path, lines)
    with pytest.raises(ChainBrokenError, match="removed or inserted") as caught:
        verify_chain(log.path)
    assert caught.value.line == 2


def test_truncation_caught_with_expected_hash(tmp_path: Path) -> None:
    log = _log(tmp_path)
    final = log.chain_hash
    _write(log.path, _lines(log.path)[:-1])
    assert verify_chain(log.path).lines == 5  # a truncated chain is still a chain...
    with pytest.raises(ChainBrokenError, match="truncated"):
        verify_chain(log.path, expect_hash=final)  # ...which the published final hash catches


def test_missing_final_newline(tmp_path: Path) -> None:
    log = _log(tmp_path)
    log.path.write_bytes(log.path.read_bytes()[:-1])
    with pytest.raises(ChainBrokenError, match="line 6"):
        verify_chain(log.path)


def test_every_single_byte_flip_is_caught(tmp_path: Path) -> None:
    log = _log(tmp_path, 3)
    original = log.path.read_bytes()
    final = log.chain_hash
    for offset in range(0, len(original), 7):
        data = bytearray(original)
        data[offset] ^= 0x01
        log.path.write_bytes(bytes(data))
        with pytest.raises(ChainBrokenError):
            verify_chain(log.path, expect_hash=final)
    log.path.write_bytes(original)
