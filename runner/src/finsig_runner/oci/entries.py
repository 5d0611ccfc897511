"""Facts about layer tar entries shared by the normaliser, the pyc scan and the diff."""

from __future__ import annotations

import tarfile

# tar names are bytes; tarfile decodes them as UTF-8 and keeps undecodable bytes as surrogates,
# so every name round-trips exactly.
ENCODING = "utf-8"
ERRORS = "surrogateescape"
# PAX records kept from the source: extended attributes (file capabilities, overlay markers).
# Everything else (atime, ctime, uname, gname, fractional mtime, hdrcharset, comments) is
# recomputed from the normalised entry by the writer or dropped.
XATTR_PREFIXES = ("SCHILY.xattr.", "LIBARCHIVE.xattr.")
WHITEOUT_PREFIX = ".wh."
OPAQUE_MARKER = ".wh..wh..opq"


def bare_name(name: str) -> str:
    """The name without a trailing slash (tarfile strips it from directories, not always from
    link targets), so names and link targets compare equal."""
    return name.rstrip("/") or name


def sort_key(name: str) -> tuple[bytes, ...]:
    """Order entries by path components, bytewise: a directory comes before everything inside it,
    and `a/b` before `a-c` (the order a recursive directory walk gives)."""
    return tuple(bare_name(name).encode(ENCODING, ERRORS).split(b"/"))


def display_path(name: str) -> str:
    """The path an entry unpacks to, absolute: `./etc/passwd`, `etc/passwd` -> `/etc/passwd`."""
    parts = [p for p in bare_name(name).split("/") if p not in ("", ".")]
    return "/" + "/".join(parts)


def xattrs(info: tarfile.TarInfo) -> dict[str, str]:
    """The entry's extended-attribute PAX records, sorted by key."""
    return {k: v for k, v in sorted(info.pax_headers.items()) if k.startswith(XATTR_PREFIXES)}


_KINDS = {tarfile.DIRTYPE: "dir", tarfile.SYMTYPE: "symlink", tarfile.LNKTYPE: "hardlink",
          tarfile.CHRTYPE: "char-device", tarfile.BLKTYPE: "block-device",
          tarfile.FIFOTYPE: "fifo"}


def kind(info: tarfile.TarInfo) -> str:
    """A readable name for the entry's type."""
    if info.isreg():
        return "file"
    return _KINDS.get(info.type, f"type-{info.type.decode(ENCODING, ERRORS)}")
