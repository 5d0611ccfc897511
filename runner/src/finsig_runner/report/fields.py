"""Typed values out of untrusted JSON: a wrong type is None or "", never an exception.

Evidence may come from another site and the project under test writes some of it: every value
is checked for its type (and numbers for being finite) before the view model holds it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import datetime, timezone
from typing import Any

MAX_TEXT = 4000  # one message longer than this is cut (a page is for reading)


def obj(value: Any, *keys: str) -> dict[str, Any]:
    """value[k1][k2]... when each step is a JSON object, else {}."""
    for key in keys:
        value = value.get(key) if isinstance(value, Mapping) else None
    return dict(value) if isinstance(value, Mapping) else {}


def items(value: Any, key: str | None = None) -> list[Any]:
    if key is not None:
        value = value.get(key) if isinstance(value, Mapping) else None
    return list(value) if isinstance(value, list) else []


def text(value: Any, key: str | None = None, limit: int = MAX_TEXT) -> str:
    if key is not None:
        value = value.get(key) if isinstance(value, Mapping) else None
    if value is None or isinstance(value, (dict, list)):
        return ""
    out = str(value)
    return out if len(out) <= limit else out[:limit] + "…"


def number(value: Any, key: str | None = None) -> float | None:
    if key is not None:
        value = value.get(key) if isinstance(value, Mapping) else None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    out = float(value)
    return out if math.isfinite(out) else None


def integer(value: Any, key: str | None = None) -> int | None:
    if key is not None:
        value = value.get(key) if isinstance(value, Mapping) else None
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return None


def flag(value: Any, key: str) -> bool | None:
    found = value.get(key) if isinstance(value, Mapping) else None
    return found if isinstance(found, bool) else None


def moment(value: str) -> datetime | None:
    """An RFC 3339 / ISO 8601 time (with Z or an offset), as UTC; None when it is not one."""
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    return parsed.astimezone(timezone.utc)


def seconds_between(start: str, end: str) -> float | None:
    a, b = moment(start), moment(end)
    return (b - a).total_seconds() if a is not None and b is not None else None
