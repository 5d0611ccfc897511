"""Values inside a compose file: Compose-style interpolation, durations, scalars, NAME=value
maps, lists, and the check that a mapping holds only the keys the stage understands."""

from __future__ import annotations

import re
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from finsig_runner.containers.compose.model import ComposeError


_VARIABLE = re.compile(
    r"\$(?:(?P<escaped>\$)"
    r"|(?P<plain>[A-Za-z_][A-Za-z0-9_]*)"
    r"|\{(?P<braced>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-?])(?P<arg>[^}]*))?\}"
    r"|(?P<invalid>))"
)


def interpolate(value: str, env: Mapping[str, str], key: str = "") -> str:
    """Compose-style variable substitution in one string value."""

    def substitute(match: re.Match[str]) -> str:
        if match.group("escaped") is not None:
            return "$"
        if match.group("invalid") is not None:
            raise ComposeError(f"invalid interpolation in {value!r} (write $$ for a $)", key)
        name = match.group("plain") or match.group("braced")
        op = match.group("op")
        current = env.get(name)
        empty = current is None or current == ""
        if op in (":-", "-"):
            missing = empty if op == ":-" else current is None
            return match.group("arg") if missing else str(current)
        if op in (":?", "?"):
            missing = empty if op == ":?" else current is None
            if missing:
                reason = match.group("arg") or "required"
                raise ComposeError(f"variable {name} is not set: {reason}", key)
            return str(current)
        if current is None:
            raise ComposeError(f"variable {name} is not set and has no default", key)
        return current

    return _VARIABLE.sub(substitute, value)


_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)(us|ms|s|m|h)")
_DURATION_UNITS = {"us": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}


def parse_duration(value: object, key: str = "") -> float:
    """A Compose duration ("1m30s", "500ms", "10s") in seconds."""
    if not isinstance(value, str) or not value:
        raise ComposeError(f"expected a duration such as '5s', got {value!r}", key)
    position, total = 0, 0.0
    for match in _DURATION_PART.finditer(value):
        if match.start() != position:
            break
        total += float(match.group(1)) * _DURATION_UNITS[match.group(2)]
        position = match.end()
    if position != len(value):
        raise ComposeError(f"expected a duration such as '5s', got {value!r}", key)
    return total


def check_keys(
    raw: Mapping[Any, Any],
    allowed: frozenset[str],
    where: str,
    service: str | None = None,
    allow_extensions: bool = False,
) -> None:
    for key in raw:
        if allow_extensions and isinstance(key, str) and key.startswith("x-"):
            continue
        if key not in allowed:
            path = f"{where}.{key}" if where else str(key)
            supported = ", ".join(sorted(allowed))
            raise ComposeError(
                f"unsupported key {key!r} (the staging stage understands: {supported})",
                key=path,
                service=service,
            )


def scalar(value: object, env: Mapping[str, str], key: str) -> str:
    """A string (interpolated) or number as a string; booleans and null are refused like Compose."""
    if isinstance(value, bool) or value is None:
        raise ComposeError(f"{value!r} must be a string or a number (quote it)", key)
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, str):
        return interpolate(value, env, key)
    raise ComposeError(f"expected a string, got {type(value).__name__}", key)


def string_map(raw: object, env: Mapping[str, str], key: str) -> Mapping[str, str]:
    """environment / labels: a mapping, or a list of "KEY=VALUE" strings."""
    result: dict[str, str] = {}
    if raw is None:
        return MappingProxyType(result)
    if isinstance(raw, dict):
        for name, value in raw.items():
            if not isinstance(name, str) or not name:
                raise ComposeError(f"invalid name {name!r}", key)
            result[name] = scalar(value, env, f"{key}.{name}")
    elif isinstance(raw, list):
        for index, item in enumerate(raw):
            entry = scalar(item, env, f"{key}[{index}]") if isinstance(item, str) else None
            if entry is None or "=" not in entry:
                raise ComposeError(
                    f"expected 'NAME=value' (a bare NAME would read the host's environment), "
                    f"got {item!r}",
                    f"{key}[{index}]",
                )
            name, value = entry.split("=", 1)
            if name in result:
                raise ComposeError(f"{name} is given twice", f"{key}[{index}]")
            result[name] = value
    else:
        raise ComposeError("expected a mapping or a list of NAME=value", key)
    return MappingProxyType(result)


def string_list(raw: object, env: Mapping[str, str], key: str) -> tuple[str, ...]:
    if not isinstance(raw, list) or not raw:
        raise ComposeError("expected a non-empty list of strings", key)
    return tuple(scalar(item, env, f"{key}[{index}]") for index, item in enumerate(raw))
