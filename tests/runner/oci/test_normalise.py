"""A docker-archive normalised: two builds that differ only in stamps give the same bytes."""

from __future__ import annotations

import hashlib
import io
import json
import os
import tarfile
from pathlib import Path

import pytest

from finsig_runner.core.errors import ExitCode
from finsig_runner.oci.config import rfc3339
from finsig_runner.oci.errors import ImageFormatError, OciUsageError
from finsig_runner.oci.normalise import NormaliseOptions, normalise
from tests.support.oci_archives import (EPOCH, LATER, directory, docker_archive, docker_config,
                                        file, layer_tar, members, sha256)

pytestmark = pytest.mark.timeout(30)

OPTIONS = NormaliseOptions(epoch=EPOCH)


def build(tmp: Path, name: str, stamp: float, container: str) -> Path:
    """One "build": the same files; its own build times, user names and container."""
    base = layer_tar([directory("etc", mtime=EPOCH - 50), file("etc/os", b"debian\n",
                                                               mtime=EPOCH - 50)])
    app = layer_tar([directory("app", mtime=stamp), file("app/main.py", b"print(1)\n",
                                                         mtime=stamp, uname=f"u{stamp}")])
    created = f"2023-11-16T00:00:{int(stamp) % 60:02d}.5Z"
    config = docker_config([base, app], created=created, container=container,
                           labels={"org.opencontainers.image.title": "demo"})
    return docker_archive(tmp / name, [base, app], config, saved_at=stamp)


def test_two_builds_become_byte_identical(tmp_path: Path) -> None:
    first = build(tmp_path, "first.tar", LATER, "a" * 64)
    second = build(tmp_path, "second.tar", LATER + 17, "b" * 64)
    assert first.read_bytes() != second.read_bytes()  # the control: the saves differ
    one = normalise(first, tmp_path / "one.tar", OPTIONS)
    two = normalise(second, tmp_path / "two.tar", OPTIONS)
    assert (tmp_path / "one.tar").read_bytes() == (tmp_path / "two.tar").read_bytes()
    assert one.image_id == two.image_id and one.archive_sha256 == two.archive_sha256
    assert one.archive_sha256 == "sha256:" + hashlib.sha256(
        (tmp_path / "one.tar").read_bytes()).hexdigest()


def test_archive_layout_config_and_manifest(tmp_path: Path) -> None:
    result = normalise(build(tmp_path, "in.tar", LATER, "a" * 64), tmp_path / "out.tar", OPTIONS)
    files = members(tmp_path / "out.tar")
    [entry] = json.loads(files["manifest.json"])
    config_bytes = files[entry["Config"]]
    config = json.loads(config_bytes)
    layers = [files[path] for path in entry["Layers"]]
    assert result.image_id == sha256(config_bytes)
    assert entry["Config"] == result.image_id.removeprefix("sha256:") + ".json"
    assert entry["Layers"] == [f"{d.removeprefix('sha256:')}/layer.tar" for d in result.diff_ids]
    assert config["rootfs"]["diff_ids"] == [sha256(layer) for layer in layers]
    assert entry["RepoTags"] == ["finsig-test/oci:1"]
    assert set(files) == {"manifest.json", entry["Config"], *entry["Layers"]}
    assert config["created"] == rfc3339(EPOCH) == "2023-11-14T22:13:20Z"
    assert {h["created"] for h in config["history"]} == {rfc3339(EPOCH)}
    assert "container" not in config and "container_config" not in config
    assert config["config"]["Hostname"] == config["config"]["Image"] == ""
    assert config["config"]["Labels"] == {"org.opencontainers.image.title": "demo"}
    assert config["history"][2]["empty_layer"] is True
    with tarfile.open(tmp_path / "out.tar") as outer:
        assert {(m.mtime, m.uid, m.gid, m.uname, m.mode) for m in outer} == {
            (EPOCH, 0, 0, "", 0o644)}
    assert config_bytes == json.dumps(config, sort_keys=True, separators=(",", ":")).encode()


def test_normalising_twice_changes_nothing(tmp_path: Path) -> None:
    normalise(build(tmp_path, "in.tar", LATER, "a" * 64), tmp_path / "once.tar", OPTIONS)
    normalise(tmp_path / "once.tar", tmp_path / "twice.tar", OPTIONS)
    assert (tmp_path / "once.tar").read_bytes() == (tmp_path / "twice.tar").read_bytes()


def test_kept_layer_is_copied_unchanged_and_tags_replaced(tmp_path: Path) -> None:
    source = build(tmp_path, "in.tar", LATER, "a" * 64)
    base_id = json.loads(next(v for k, v in members(source).items()
                              if k.endswith(".json") and "/" not in k
                              and k != "manifest.json"))["rootfs"]["diff_ids"][0]
    options = NormaliseOptions(EPOCH, tags=("finsig-test/other:2",), keep=frozenset({base_id}))
    result = normalise(source, tmp_path / "out.tar", options)
    assert result.kept == (0,) and result.diff_ids[0] == base_id
    assert result.tags == ("finsig-test/other:2",)


def test_identical_layers_are_stored_once(tmp_path: Path) -> None:
    same = layer_tar([file("x", b"1")])
    source = docker_archive(tmp_path / "in.tar", [same, same])
    result = normalise(source, tmp_path / "out.tar", OPTIONS)
    assert result.diff_ids[0] == result.diff_ids[1]
    with tarfile.open(tmp_path / "out.tar") as outer:
        assert [m.name for m in outer].count(f"{result.diff_ids[0][7:]}/layer.tar") == 1


def test_timestamp_pycs_stamped_at_build_time_are_named(tmp_path: Path) -> None:
    stamped = b"\xa7\r\r\n" + bytes(4) + (LATER).to_bytes(4, "little") + bytes(4) + b"code"
    packaged = b"\xa7\r\r\n" + bytes(4) + (EPOCH - 9).to_bytes(4, "little") + bytes(4) + b"c"
    hashed = b"\xa7\r\r\n" + (3).to_bytes(4, "little") + bytes(8) + b"code"
    layer = layer_tar([file("a/__pycache__/m.cpython-311.pyc", stamped),
                       file("b/__pycache__/m.cpython-311.pyc", packaged),
                       file("c/__pycache__/m.cpython-311.pyc", hashed)])
    result = normalise(docker_archive(tmp_path / "in.tar", [layer]), tmp_path / "o.tar", OPTIONS)
    assert [(p.layer, p.path, p.source_mtime) for p in result.timestamp_pycs] == [
        (0, "/a/__pycache__/m.cpython-311.pyc", LATER)]


def test_bad_inputs_are_named_and_nothing_is_left(tmp_path: Path) -> None:
    target = tmp_path / "out.tar"
    (tmp_path / "junk.tar").write_bytes(b"not a tar at all" * 100)
    with pytest.raises(ImageFormatError) as bad:
        normalise(tmp_path / "junk.tar", target, OPTIONS)
    assert bad.value.exit_code is ExitCode.FINDINGS
    two = docker_archive(tmp_path / "two.tar", [layer_tar([file("x", b"1")])])
    with tarfile.open(two, "a") as tar:  # a second image in manifest.json
        info = tarfile.TarInfo("manifest.json")
        doc = json.loads(members(two)["manifest.json"]) * 2
        data = json.dumps(doc).encode()
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    with pytest.raises(ImageFormatError, match="holds 2 images; save one image per archive"):
        normalise(two, target, OPTIONS)
    assert sorted(os.listdir(tmp_path)) == ["junk.tar", "two.tar"]


def test_corrupt_layer_fails_without_a_partial_output(tmp_path: Path) -> None:
    layer = layer_tar([file("x", b"1" * 2000)])
    broken = b"\x01" * 512 + layer[512:]  # the first header's checksum fails
    source = docker_archive(tmp_path / "in.tar", [broken])
    with pytest.raises(ImageFormatError, match="layer 0 is not a readable tar"):
        normalise(source, tmp_path / "out.tar", OPTIONS)
    assert not (tmp_path / "out.tar").exists()
    assert not (tmp_path / "out.tar.partial").exists()


def test_usage_errors(tmp_path: Path) -> None:
    source = docker_archive(tmp_path / "in.tar", [layer_tar([file("x", b"1")])])
    with pytest.raises(OciUsageError, match="no such file"):
        normalise(tmp_path / "missing.tar", tmp_path / "out.tar", OPTIONS)
    with pytest.raises(OciUsageError, match="another file"):
        normalise(source, source, OPTIONS)
    with pytest.raises(OciUsageError, match=">= 0"):
        normalise(source, tmp_path / "out.tar", NormaliseOptions(epoch=-1))
    assert OciUsageError("x").exit_code is ExitCode.CONFIG
