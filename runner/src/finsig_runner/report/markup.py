"""Escaping for the two renderers: every piece of evidence text goes through one of these.

HTML: `esc` for text and for attribute values (always written between double quotes), `href`
for links, which are only ever relative paths into the evidence directory (percent-encoded, so
that no scheme such as `javascript:` survives). Markdown: `md`,
which leaves no character that Markdown or the HTML GitHub/GitLab allow inside it could act on.
"""

from __future__ import annotations

import html
import re
from urllib.parse import quote

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_SAFE_PATH = re.compile(r"^[^/\\][^\\]*$")
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|~<>&\"'=:])")


def esc(value: object) -> str:
    """Text or a double-quoted attribute value: & < > " ' escaped, control characters dropped."""
    return html.escape(_CONTROL.sub("", str(value)), quote=True)


def href(path: str, base_depth: int = 1) -> str | None:
    """A link from a page `base_depth` folders below the evidence root (reports/index.html: 1)
    to `path`, or None when `path` is not a plain relative path inside it (absolute, `..`,
    empty or `.` parts, backslashes, control characters)."""
    if not _SAFE_PATH.match(path) or _CONTROL.search(path):
        return None
    if any(part in ("", ".", "..") for part in path.split("/")):
        return None
    return esc("../" * base_depth + quote(path, safe="/"))


def md(value: object) -> str:
    """One line of Markdown text: every Markdown and HTML special character backslash-escaped
    (`<` and `&` as entities), line breaks turned into spaces."""
    flat = " ".join(_CONTROL.sub("", str(value)).split())
    escaped = _MD_SPECIAL.sub(r"\\\1", flat)
    return escaped.replace("\\<", "&lt;").replace("\\>", "&gt;").replace("\\&", "&amp;")
