"""Configuration from the environment; a missing or invalid setting stops the process at start."""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
DEFAULT_PORT = 8000
DEFAULT_HOST = "127.0.0.1"
# 1 MiB: above the largest valid batch in compact JSON (10,000 rows, 530,001 bytes; docs/app.md).
DEFAULT_MAX_BODY_BYTES = 1_048_576


class SettingsError(ValueError):
    """A setting is missing or invalid; the message names it."""

    def __init__(self, name: str, problem: str) -> None:
        super().__init__(f"{name} {problem}")
        self.name = name


@dataclass(frozen=True)
class Settings:
    database_url: str
    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    log_level: str = "INFO"
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES

    @property
    def log_level_number(self) -> int:
        return logging.getLevelNamesMapping()[self.log_level]

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        return cls(
            database_url=_database_url(env.get("FINSIG_DATABASE_URL")),
            host=_host(env.get("FINSIG_HOST")),
            port=_port(env.get("FINSIG_PORT")),
            log_level=_log_level(env.get("FINSIG_LOG_LEVEL")),
            max_body_bytes=_max_body_bytes(env.get("FINSIG_MAX_BODY_BYTES")),
        )


def _database_url(raw: str | None) -> str:
    name = "FINSIG_DATABASE_URL"
    if raw is None or not raw.strip():
        raise SettingsError(name, "is not set (expected postgresql://user:pass@host:port/dbname)")
    url = raw.strip()
    parts = urlsplit(url)
    if parts.scheme not in ("postgresql", "postgres"):
        raise SettingsError(name, f"must be a postgresql:// URL, got scheme {parts.scheme!r}")
    try:
        port = parts.port
    except ValueError:
        raise SettingsError(name, "has an invalid port") from None
    if not parts.hostname:
        raise SettingsError(name, "names no host")
    if port == 0:
        raise SettingsError(name, "has an invalid port")
    if not parts.path.strip("/"):
        raise SettingsError(name, "names no database (add /dbname)")
    return url


def _host(raw: str | None) -> str:
    if raw is None or not raw.strip():
        return DEFAULT_HOST
    return raw.strip()


def _port(raw: str | None) -> int:
    if raw is None or not raw.strip():
        return DEFAULT_PORT
    try:
        port = int(raw.strip())
    except ValueError:
        raise SettingsError("FINSIG_PORT", f"must be an integer, got {raw!r}") from None
    if not 1 <= port <= 65535:
        raise SettingsError("FINSIG_PORT", f"must be between 1 and 65535, got {port}")
    return port


def _log_level(raw: str | None) -> str:
    if raw is None or not raw.strip():
        return "INFO"
    level = raw.strip().upper()
    if level not in LOG_LEVELS:
        choices = ", ".join(LOG_LEVELS)
        raise SettingsError("FINSIG_LOG_LEVEL", f"must be one of {choices}, got {raw!r}")
    return level


def _max_body_bytes(raw: str | None) -> int:
    name = "FINSIG_MAX_BODY_BYTES"
    if raw is None or not raw.strip():
        return DEFAULT_MAX_BODY_BYTES
    try:
        limit = int(raw.strip())
    except ValueError:
        raise SettingsError(name, f"must be an integer number of bytes, got {raw!r}") from None
    if limit < 1:
        raise SettingsError(name, f"must be at least 1, got {limit}")
    return limit
