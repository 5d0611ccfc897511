"""What differs between two images, named down to the file and the aspect (no Docker)."""

from __future__ import annotations

import tarfile
from pathlib import Path

import pytest

from finsig_runner.oci.diff import ONLY_FIRST, ONLY_SECOND, ImageDiff, config_fields, diff_images
from finsig_runner.oci.layout import write_layout
from finsig_runner.oci.normalise import NormaliseOptions, normalise
from finsig_runner.oci.source import open_image
from tests.support.oci_archives import (EPOCH, Entry, docker_archive, docker_config, file,
                                        layer_tar, symlink)

pytestmark = pytest.mark.timeout(30)

BASE = layer_tar([file("etc/os", b"debian\n", mtime=EPOCH - 5)])


def image(tmp: Path, name: str, app: list[Entry], labels: dict[str, str] | None = None) -> Path:
    layers = [BASE, layer_tar(app)]
    raw = docker_archive(tmp / f"{name}-raw.tar", layers, docker_config(layers, labels=labels))
    normalise(raw, tmp / f"{name}.tar", NormaliseOptions(EPOCH))
    return tmp / f"{name}.tar"


def compare(first: Path, second: Path, max_files: int = 50) -> ImageDiff:
    with open_image(first) as a, open_image(second) as b:
        return diff_images(a, b, max_files)


def test_same_recipe_is_same(tmp_path: Path) -> None:
    entries = [file("app/main.py", b"print(1)\n")]
    result = compare(image(tmp_path, "a", entries), image(tmp_path, "b", entries))
    assert result.same and result.differing_layers == () and result.first_layer is None
    assert result.describe().startswith("same image ID sha256:")


def test_planted_timestamp_names_the_layer_and_the_file(tmp_path: Path) -> None:
    first = image(tmp_path, "a", [file("built-at", b"Mon Dec  1 10:00:00 UTC 2026\n"),
                                  file("app/main.py", b"x")])
    second = image(tmp_path, "b", [file("built-at", b"Mon Dec  1 10:00:07 UTC 2026\n"),
                                   file("app/main.py", b"x")])
    result = compare(first, second)
    assert not result.same
    assert result.differing_layers == (1,)
    assert result.config_fields == ()  # only rootfs.diff_ids, which the layers report
    layer = result.first_layer
    assert layer is not None and layer.index == 1 and layer.first != layer.second
    assert [(f.path, f.differs) for f in layer.files] == [("/built-at", ("content",))]
    assert "first differing layer 1" in result.describe() and "/built-at (content)" in \
        result.describe()


def test_each_aspect_and_presence(tmp_path: Path) -> None:
    first = image(tmp_path, "a", [file("mode", b"1", mode=0o644), file("owner", b"1", uid=1),
                                  file("time", b"1", mtime=EPOCH - 9), file("gone", b"1"),
                                  symlink("kind", "x"), symlink("link", "a")])
    second = image(tmp_path, "b", [file("mode", b"1", mode=0o755), file("owner", b"1", uid=2),
                                   file("time", b"1", mtime=EPOCH - 8), file("new", b"1"),
                                   file("kind", b""), symlink("link", "b")])
    layer = compare(first, second).first_layer
    assert layer is not None
    files = {f.path: f.differs for f in layer.files}
    assert files == {"/mode": ("mode",), "/owner": ("owner",), "/time": ("mtime",),
                     "/gone": (ONLY_FIRST,), "/new": (ONLY_SECOND,),
                     "/kind": ("type", "content", "mode", "link"), "/link": ("link",)}


def test_config_fields_and_layer_counts(tmp_path: Path) -> None:
    entries = [file("a", b"1")]
    first = image(tmp_path, "a", entries, {"run": "1"})
    second = image(tmp_path, "b", entries, {"run": "2"})
    result = compare(first, second)
    assert result.config_fields == ("config.Labels.run",) and result.differing_layers == ()
    assert config_fields({"h": [{"c": 1}, {"c": 2}]}, {"h": [{"c": 1}, {"c": 3}]}) == ["h[1].c"]
    assert config_fields({"h": [1]}, {"h": [1, 2]}) == ["h"]
    three = docker_archive(tmp_path / "three-raw.tar",
                           [BASE, layer_tar(entries), layer_tar(entries)])
    normalise(three, tmp_path / "three.tar", NormaliseOptions(EPOCH))
    result = compare(first, tmp_path / "three.tar")
    assert result.layer_count == (2, 3) and result.differing_layers == (2,)
    assert result.first_layer is not None and result.first_layer.first == ""
    assert [f.differs for f in result.first_layer.files] == [(ONLY_SECOND,)]


def test_listing_is_capped_and_counted(tmp_path: Path) -> None:
    first = image(tmp_path, "a", [file(f"f{n:02}", b"1") for n in range(12)])
    second = image(tmp_path, "b", [file(f"f{n:02}", b"2") for n in range(12)])
    result = compare(first, second, max_files=3)
    assert result.first_layer is not None
    assert [f.path for f in result.first_layer.files] == ["/f00", "/f01", "/f02"]
    assert result.first_layer.files_total == 12 and "and 9 more" in result.describe()


def test_archive_and_its_layout_are_the_same_image(tmp_path: Path) -> None:
    archive = image(tmp_path, "a", [file("a", b"1")])
    write_layout(archive, tmp_path / "layout")
    assert compare(archive, tmp_path / "layout").same
    other = image(tmp_path, "b", [file("a", b"2")])
    layer = compare(tmp_path / "layout", other).first_layer
    assert layer is not None and layer.files[0].path == "/a"


def test_only_tar_encoding_differs(tmp_path: Path) -> None:
    # The same files in another tar encoding (GNU vs PAX): the layer differs, no file does.
    entries = [file("a", b"1", mtime=EPOCH)]
    layers_a = [layer_tar(entries, tarfile.GNU_FORMAT)]
    layers_b = [layer_tar(entries, tarfile.USTAR_FORMAT)]
    first = docker_archive(tmp_path / "a.tar", layers_a, docker_config(layers_a))
    second = docker_archive(tmp_path / "b.tar", layers_b, docker_config(layers_b))
    result = compare(first, second)
    assert result.differing_layers == (0,) and result.first_layer is not None
    assert result.first_layer.files == ()
    assert "no file differs" in result.describe()
