"""One layer tar, rewritten: order, times, owners, PAX records, links and whiteouts (no Docker)."""

from __future__ import annotations

import io
import tarfile

import pytest

from finsig_runner.oci.layer import MtimeMode, normalise_layer
from finsig_runner.oci.streams import HashingWriter
from tests.support.oci_archives import (EPOCH, LATER, Entry, directory, file, hardlink,
                                        layer_entries, layer_tar, symlink)

pytestmark = pytest.mark.timeout(30)


def normalised(layer: bytes, mode: MtimeMode = MtimeMode.CLAMP) -> bytes:
    out = io.BytesIO()
    normalise_layer(io.BytesIO(layer), HashingWriter(out), EPOCH, mode)
    return out.getvalue()


def by_name(layer: bytes) -> dict[str, tarfile.TarInfo]:
    return {m.name: m for m in layer_entries(layer)}


def content(layer: bytes, name: str) -> bytes:
    with tarfile.open(fileobj=io.BytesIO(layer)) as tar:
        stream = tar.extractfile(name)
        assert stream is not None
        return stream.read()


def test_order_is_by_path_components_and_parents_come_first() -> None:
    layer = layer_tar([file("b", b"1"), file("a-c", b"2"), file("a/b", b"3"), directory("a"),
                       file("a/.wh..wh..opq", b""), file(".wh.gone", b"")])
    names = [m.name for m in layer_entries(normalised(layer))]
    assert names == [".wh.gone", "a", "a/.wh..wh..opq", "a/b", "a-c", "b"]


def test_same_meaning_different_stamps_gives_same_bytes() -> None:
    entries = [directory("etc"), file("etc/passwd", b"root:x:0:0\n", gid=42),
               symlink("etc/link", "passwd")]
    first = layer_tar(entries)
    second = layer_tar([Entry(e.name, e.data, e.type, e.mode, e.uid, e.gid, "builder", "staff",
                              LATER + 3600.25, e.linkname,
                              {"atime": "1800000000.5", "ctime": "1800000001"})
                        for e in reversed(entries)])
    assert first != second  # the control: the raw layers differ
    assert normalised(first) == normalised(second)


def test_headers_keep_meaning_and_drop_stamps() -> None:
    layer = layer_tar([file("old", b"o", mtime=EPOCH - 100, uid=7, gid=42, mode=0o4755,
                            pax={"atime": "1.5", "ctime": "2", "SCHILY.xattr.security.capability":
                                 "\x01\x00\x00\x02"}),
                       file("new", b"n", mtime=LATER + 0.75, uname="x", gname="y")])
    raw = normalised(layer)
    entries = by_name(raw)
    assert entries["old"].mtime == EPOCH - 100  # older than the epoch: kept
    assert entries["new"].mtime == EPOCH  # build time: clamped
    assert (entries["old"].uid, entries["old"].gid, entries["old"].mode) == (7, 42, 0o4755)
    for entry in entries.values():
        assert (entry.uname, entry.gname) == ("", "")
        assert not {"atime", "ctime", "mtime", "uname", "gname"} & set(entry.pax_headers)
    assert entries["old"].pax_headers == {"SCHILY.xattr.security.capability": "\x01\x00\x00\x02"}
    assert b"atime" not in raw and b"ctime" not in raw


def test_set_mode_sets_every_mtime() -> None:
    layer = layer_tar([file("old", b"o", mtime=EPOCH - 100), file("new", b"n")])
    assert {m.mtime for m in layer_entries(normalised(layer, MtimeMode.SET))} == {EPOCH}


def test_hardlink_whose_target_sorts_later_is_turned_around() -> None:
    # Docker wrote usr/bin/python first (walk order) and a link to it from usr/a-python.
    layer = layer_tar([directory("usr"), file("usr/bin/python", b"ELF", mode=0o755),
                       hardlink("usr/a-python", "usr/bin/python"),
                       hardlink("usr/bin/python3", "usr/bin/python")])
    out = normalised(layer)
    entries = by_name(out)
    names = [m.name for m in layer_entries(out)]
    assert names.index("usr/a-python") < names.index("usr/bin/python")
    assert entries["usr/a-python"].isreg() and entries["usr/a-python"].mode == 0o755
    assert entries["usr/bin/python"].islnk()
    assert entries["usr/bin/python"].linkname == "usr/a-python"
    assert entries["usr/bin/python3"].linkname == "usr/a-python"
    assert content(out, "usr/bin/python3") == content(out, "usr/a-python") == b"ELF"


def test_symlinks_whiteouts_and_long_names_survive() -> None:
    deep = "d/" + "x" * 120 + "/file"
    layer = layer_tar([symlink("lib", "usr/lib"), file(".wh.removed", b""),
                       file("d/.wh..wh..opq", b""), file(deep, b"deep"),
                       file("caf\u00e9", b"utf8")])
    out = normalised(layer)
    entries = by_name(out)
    assert entries["lib"].issym() and entries["lib"].linkname == "usr/lib"
    assert entries[".wh.removed"].isreg() and entries["d/.wh..wh..opq"].isreg()
    assert content(out, deep) == b"deep" and content(out, "caf\u00e9") == b"utf8"


def test_normalising_twice_changes_nothing() -> None:
    layer = layer_tar([file("b", b"1"), hardlink("a", "b"), directory("c", mtime=1.5)])
    once = normalised(layer)
    assert normalised(once) == once


def test_output_format_is_pinned() -> None:
    # The layer bytes are part of the image ID: a change in the writer (or in the tarfile of a
    # newer Python) must be noticed here, not as a reproducibility failure between machines.
    layer = layer_tar([directory("etc"), file("etc/hostname", b"finsig\n", gid=42),
                       symlink("etc/link", "hostname"), hardlink("etc/zz", "etc/hostname"),
                       file("opt/" + "y" * 110, b"long")])
    out = io.BytesIO()
    writer = HashingWriter(out)
    normalise_layer(io.BytesIO(layer), writer, EPOCH)
    assert writer.size == len(out.getvalue()) == 10240
    assert writer.digest == PINNED


PINNED = "sha256:6aef5a52f3ea5b167b2a764f12aca4bec60f23310aac8eee28da564612d91821"
