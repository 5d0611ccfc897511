"""images/base/assemble.py: the docker-archive is a pure function of its inputs (no Docker)."""

from __future__ import annotations

import hashlib
import importlib.util
import io
import json
import sys
import tarfile
from pathlib import Path
from types import ModuleType

import pytest

ASSEMBLE = Path(__file__).resolve().parents[2] / "images" / "base" / "assemble.py"
EPOCH = 1_700_000_000


@pytest.fixture(scope="module")
def assemble() -> ModuleType:
    spec = importlib.util.spec_from_file_location("finsig_base_assemble", ASSEMBLE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def make_layer(path: Path, content: bytes = b"hello\n") -> Path:
    with tarfile.open(path, "w", format=tarfile.USTAR_FORMAT) as tar:
        info = tarfile.TarInfo("./etc/greeting")
        info.size, info.mtime = len(content), EPOCH
        tar.addfile(info, io.BytesIO(content))
    return path


def read_member(archive: tarfile.TarFile, name: str) -> bytes:
    handle = archive.extractfile(name)
    assert handle is not None, name
    return handle.read()


def build(assemble: ModuleType, layer: Path, out: Path, epoch: int = EPOCH,
          tag: str = "finsig/base:0.1.0") -> object:
    spec = assemble.ImageSpec(tag=tag, epoch=epoch, labels={"b": "2", "a": "1"})
    return assemble.write_archive(layer, spec, out)


def test_same_input_gives_identical_archive(assemble: ModuleType, tmp_path: Path) -> None:
    layer = make_layer(tmp_path / "rootfs.tar")
    first = build(assemble, layer, tmp_path / "one.tar")
    second = build(assemble, layer, tmp_path / "two.tar")
    assert (tmp_path / "one.tar").read_bytes() == (tmp_path / "two.tar").read_bytes()
    assert first == second


def test_archive_layout_and_digests(assemble: ModuleType, tmp_path: Path) -> None:
    layer = make_layer(tmp_path / "rootfs.tar")
    result = build(assemble, layer, tmp_path / "image.tar")
    layer_sha = hashlib.sha256(layer.read_bytes()).hexdigest()

    with tarfile.open(tmp_path / "image.tar") as archive:
        members = archive.getmembers()
        for member in members:
            assert (member.mtime, member.uid, member.gid, member.uname, member.gname) == \
                (EPOCH, 0, 0, "", "")
        [entry] = json.loads(read_member(archive, "manifest.json"))
        config_bytes = read_member(archive, entry["Config"])
        layer_bytes = read_member(archive, entry["Layers"][0])

    assert entry["RepoTags"] == ["finsig/base:0.1.0"]
    assert entry["Layers"] == [f"{layer_sha}/layer.tar"]
    assert layer_bytes == layer.read_bytes()
    config_sha = hashlib.sha256(config_bytes).hexdigest()
    assert entry["Config"] == f"{config_sha}.json"
    assert getattr(result, "config_sha256") == config_sha
    config = json.loads(config_bytes)
    assert config["rootfs"] == {"type": "layers", "diff_ids": [f"sha256:{layer_sha}"]}
    assert config["created"] == "2023-11-14T22:13:20Z"
    assert config["config"]["Labels"] == {"a": "1", "b": "2"}


def test_config_digest_follows_epoch_and_layer_not_tag(assemble: ModuleType,
                                                       tmp_path: Path) -> None:
    layer = make_layer(tmp_path / "rootfs.tar")
    base = getattr(build(assemble, layer, tmp_path / "a.tar"), "config_sha256")
    other_tag = getattr(build(assemble, layer, tmp_path / "b.tar", tag="x/y:1"), "config_sha256")
    later = getattr(build(assemble, layer, tmp_path / "c.tar", epoch=EPOCH + 1), "config_sha256")
    changed = make_layer(tmp_path / "rootfs2.tar", b"changed\n")
    other_layer = getattr(build(assemble, changed, tmp_path / "d.tar"), "config_sha256")
    assert base == other_tag  # the tag lives in manifest.json, not in the image ID
    assert len({base, later, other_layer}) == 3


def test_cli_writes_info(assemble: ModuleType, tmp_path: Path,
                         capsys: pytest.CaptureFixture[str]) -> None:
    layer = make_layer(tmp_path / "rootfs.tar")
    code = assemble.main(["--layer", str(layer), "--out", str(tmp_path / "image.tar"),
                          "--tag", "t/t:1", "--epoch", str(EPOCH), "--label", "k=v",
                          "--info", str(tmp_path / "info.json")])
    assert code == 0
    info = json.loads((tmp_path / "info.json").read_text())
    assert info["rootfs_sha256"] == hashlib.sha256(layer.read_bytes()).hexdigest()
    assert info["config_digest"].startswith("sha256:")
    assert json.loads(capsys.readouterr().out) == info
    with pytest.raises(SystemExit):
        assemble.main(["--layer", str(layer), "--out", "x", "--tag", "t", "--epoch", "1",
                       "--label", "no-equals-sign"])
