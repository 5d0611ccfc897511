"""Compare two builds of the same distribution and read a wheel's import names."""

from __future__ import annotations

import tarfile
import zipfile
from pathlib import Path


def first_difference(a: Path, b: Path) -> str:
    """Where two archives differ: a member name, or the container itself."""
    try:
        if a.name.endswith(".whl") or a.suffix == ".zip":
            return _zip_difference(a, b)
        if a.name.endswith((".tar.gz", ".tgz", ".tar")):
            return _tar_difference(a, b)
    except (OSError, zipfile.BadZipFile, tarfile.TarError) as exc:
        return f"unreadable archive ({exc})"
    return "file content"


def _zip_difference(a: Path, b: Path) -> str:
    with zipfile.ZipFile(a) as za, zipfile.ZipFile(b) as zb:
        names_a, names_b = za.namelist(), zb.namelist()
        if names_a != names_b:
            extra = sorted(set(names_a) ^ set(names_b))
            return f"member list ({', '.join(extra) or 'order'})"
        for info_a, info_b in zip(za.infolist(), zb.infolist()):
            if za.read(info_a) != zb.read(info_b):
                return f"member {info_a.filename} content"
            if info_a.date_time != info_b.date_time or info_a.external_attr != info_b.external_attr:
                return f"member {info_a.filename} timestamp or mode"
    return "zip metadata"


def _tar_difference(a: Path, b: Path) -> str:
    with tarfile.open(a) as ta, tarfile.open(b) as tb:
        members_a, members_b = ta.getmembers(), tb.getmembers()
        names_a, names_b = [m.name for m in members_a], [m.name for m in members_b]
        if names_a != names_b:
            extra = sorted(set(names_a) ^ set(names_b))
            return f"member list ({', '.join(extra) or 'order'})"
        for ma, mb in zip(members_a, members_b):
            fa, fb = ta.extractfile(ma), tb.extractfile(mb)
            if (fa.read() if fa else b"") != (fb.read() if fb else b""):
                return f"member {ma.name} content"
            if (ma.mtime, ma.mode, ma.uid, ma.gid, ma.uname, ma.gname) != (
                mb.mtime, mb.mode, mb.uid, mb.gid, mb.uname, mb.gname
            ):
                return f"member {ma.name} timestamp, mode or owner"
    return "compression header"


def import_names(wheel: Path) -> list[str]:
    """Top-level importable names: top_level.txt when the wheel has one, else from its file list."""
    with zipfile.ZipFile(wheel) as zf:
        names = zf.namelist()
        for name in names:
            parts = name.split("/")
            if len(parts) == 2 and parts[0].endswith(".dist-info") and parts[1] == "top_level.txt":
                listed = zf.read(name).decode("utf-8").split()
                return sorted({n for n in listed if n and not n.startswith("_")} or set(listed))
    found: set[str] = set()
    for name in names:
        parts = name.split("/")
        top = parts[0]
        if top.endswith((".dist-info", ".data")) or top.endswith(".pth"):
            continue
        if len(parts) == 1:
            if top.endswith(".py"):
                found.add(top[:-3])
            elif top.endswith(".so"):
                found.add(top.split(".")[0])
        elif parts[1] == "__init__.py" and len(parts) == 2:
            found.add(top)
    if not found:  # namespace packages: any directory holding Python code
        found = {n.split("/")[0] for n in names if n.endswith(".py") and "/" in n}
        found = {n for n in found if not n.endswith((".dist-info", ".data"))}
    public = {n for n in found if not n.startswith("_")}
    return sorted(public or found)
