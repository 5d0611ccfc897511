"""The OCI image layout written from a docker-archive, read back and verified (no Docker)."""

from __future__ import annotations

import gzip
import hashlib
import json
from pathlib import Path

import pytest

from finsig_runner.oci.config import canonical_json
from finsig_runner.oci.errors import ImageFormatError, OciUsageError
from finsig_runner.oci.layout import REF_NAME, blob_path, write_layout
from finsig_runner.oci.layout_read import find_image, verify_layout
from finsig_runner.oci.normalise import NormaliseOptions, normalise
from tests.support.oci_archives import EPOCH, docker_archive, file, layer_tar, sha256

pytestmark = pytest.mark.timeout(30)


@pytest.fixture()
def archive(tmp_path: Path) -> Path:
    layers = [layer_tar([file("etc/os", b"debian\n")]), layer_tar([file("app/x", b"x" * 3000)])]
    raw = docker_archive(tmp_path / "raw.tar", layers, tags=("finsig-test/oci:1",))
    normalise(raw, tmp_path / "image.tar", NormaliseOptions(EPOCH))
    return tmp_path / "image.tar"


def blob(root: Path, digest: str) -> bytes:
    return blob_path(root, digest).read_bytes()


def test_layout_files_digests_and_media_types(archive: Path, tmp_path: Path) -> None:
    root = tmp_path / "layout"
    result = write_layout(archive, root)
    assert json.loads((root / "oci-layout").read_bytes()) == {"imageLayoutVersion": "1.0.0"}
    index = json.loads((root / "index.json").read_bytes())
    [entry] = index["manifests"]
    assert entry["annotations"] == {REF_NAME: "finsig-test/oci:1"}
    assert entry["digest"] == result.manifest.digest == sha256(blob(root, entry["digest"]))
    assert entry["mediaType"] == "application/vnd.oci.image.manifest.v1+json"
    manifest = json.loads(blob(root, result.manifest.digest))
    assert manifest["config"]["mediaType"] == "application/vnd.oci.image.config.v1+json"
    config = blob(root, manifest["config"]["digest"])
    diff_ids = json.loads(config)["rootfs"]["diff_ids"]
    assert [x["digest"] for x in manifest["layers"]] == diff_ids  # uncompressed: digest = diff_id
    assert {x["mediaType"] for x in manifest["layers"]} == {
        "application/vnd.oci.image.layer.v1.tar"}
    for layer in manifest["layers"]:
        assert len(blob(root, layer["digest"])) == layer["size"]
    assert blob(root, result.manifest.digest) == canonical_json(manifest)
    assert sorted(p.name for p in (root / "blobs" / "sha256").iterdir()) == sorted(
        d.removeprefix("sha256:") for d in [result.manifest.digest, *diff_ids,
                                            manifest["config"]["digest"]])


def test_same_archive_gives_same_manifest_digest(archive: Path, tmp_path: Path) -> None:
    first = write_layout(archive, tmp_path / "one")
    second = write_layout(archive, tmp_path / "two")
    assert first.manifest == second.manifest
    assert (tmp_path / "one" / "index.json").read_bytes() == (
        tmp_path / "two" / "index.json").read_bytes()


def test_verify_reads_back_and_names_a_bad_blob(archive: Path, tmp_path: Path) -> None:
    root = tmp_path / "layout"
    result = write_layout(archive, root)
    report = verify_layout(root)
    assert [i.manifest.digest for i in report.images] == [result.manifest.digest]
    assert report.blobs == 4
    layer = blob_path(root, result.layers[1].digest)
    data = bytearray(layer.read_bytes())
    data[700] ^= 0xFF
    layer.write_bytes(bytes(data))
    with pytest.raises(ImageFormatError) as bad:
        verify_layout(root)
    assert bad.value.where == result.layers[1].digest and "sha256 is" in bad.value.detail
    layer.write_bytes(bytes(data[:-512]))
    with pytest.raises(ImageFormatError, match="bytes, its descriptor says"):
        verify_layout(root)
    layer.unlink()
    with pytest.raises(ImageFormatError, match="layer 1 blob is missing"):
        verify_layout(root)


def test_several_images_share_a_layout(archive: Path, tmp_path: Path) -> None:
    root = tmp_path / "layout"
    write_layout(archive, root, "finsig-test/a:1")
    write_layout(archive, root, "finsig-test/b:1")
    again = write_layout(archive, root, "finsig-test/a:1")  # replaces, does not add
    names = [m["annotations"][REF_NAME]
             for m in json.loads((root / "index.json").read_bytes())["manifests"]]
    assert names == ["finsig-test/b:1", "finsig-test/a:1"]
    assert find_image(root, "finsig-test/a:1").manifest == again.manifest
    with pytest.raises(OciUsageError, match="holds 2 images"):
        find_image(root)
    with pytest.raises(OciUsageError, match="no image named 'nope'"):
        find_image(root, "nope")


def test_refusals(archive: Path, tmp_path: Path) -> None:
    with pytest.raises(OciUsageError, match="not an OCI ref.name"):
        write_layout(archive, tmp_path / "l", "Bad Name!")
    other = tmp_path / "other"
    other.mkdir()
    (other / "precious.txt").write_text("mine")
    with pytest.raises(OciUsageError, match="neither empty nor an OCI layout"):
        write_layout(archive, other)
    with pytest.raises(OciUsageError, match="not an OCI image layout"):
        verify_layout(other)


def test_gzip_layers_are_verified_against_diff_ids(tmp_path: Path) -> None:
    # A layout as another tool writes it (gzip layers): verify unpacks and checks diff_ids.
    root = tmp_path / "gz"
    (root / "blobs" / "sha256").mkdir(parents=True)
    (root / "oci-layout").write_bytes(b'{"imageLayoutVersion":"1.0.0"}')
    layer = layer_tar([file("x", b"1")])
    zipped = gzip.compress(layer, mtime=0)

    def put(data: bytes) -> str:
        digest = "sha256:" + hashlib.sha256(data).hexdigest()
        blob_path(root, digest).write_bytes(data)
        return digest

    def write(diff_id: str) -> None:
        config = canonical_json({"rootfs": {"type": "layers", "diff_ids": [diff_id]}})
        manifest = canonical_json({"schemaVersion": 2, "config": {
            "mediaType": "application/vnd.oci.image.config.v1+json", "digest": put(config),
            "size": len(config)}, "layers": [{
                "mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": put(zipped),
                "size": len(zipped)}]})
        (root / "index.json").write_bytes(canonical_json({"schemaVersion": 2, "manifests": [{
            "mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": put(manifest),
            "size": len(manifest)}]}))

    write(sha256(layer))
    assert verify_layout(root).blobs == 3
    write(sha256(b"something else"))
    with pytest.raises(ImageFormatError, match="unpacks to"):
        verify_layout(root)
