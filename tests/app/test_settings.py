"""Settings from the environment: defaults, and a message naming whatever is wrong."""

from __future__ import annotations

import logging

import pytest

from finsig.settings import DEFAULT_MAX_BODY_BYTES, Settings, SettingsError

URL = "postgresql://finsig:secret@db.example:5432/finsig"


def test_defaults() -> None:
    settings = Settings.from_env({"FINSIG_DATABASE_URL": URL})
    assert settings == Settings(database_url=URL, host="127.0.0.1", port=8000, log_level="INFO")
    assert settings.max_body_bytes == DEFAULT_MAX_BODY_BYTES == 1_048_576
    assert settings.log_level_number == logging.INFO


def test_every_setting_is_read() -> None:
    settings = Settings.from_env(
        {
            "FINSIG_DATABASE_URL": " postgres://u@h/db ",
            "FINSIG_HOST": "0.0.0.0",  # nosec B104 - a value under test, not a bind
            "FINSIG_PORT": "9000",
            "FINSIG_LOG_LEVEL": "debug",
            "FINSIG_MAX_BODY_BYTES": " 2000000 ",
        }
    )
    assert settings == Settings(
        "postgres://u@h/db", "0.0.0.0", 9000, "DEBUG", max_body_bytes=2_000_000  # nosec B104
    )


@pytest.mark.parametrize(
    ("env", "name", "fragment"),
    [
        ({}, "FINSIG_DATABASE_URL", "is not set"),
        ({"FINSIG_DATABASE_URL": "  "}, "FINSIG_DATABASE_URL", "is not set"),
        ({"FINSIG_DATABASE_URL": "mysql://u@h/db"}, "FINSIG_DATABASE_URL", "postgresql://"),
        ({"FINSIG_DATABASE_URL": "postgresql:///db"}, "FINSIG_DATABASE_URL", "no host"),
        ({"FINSIG_DATABASE_URL": "postgresql://h:x/db"}, "FINSIG_DATABASE_URL", "invalid port"),
        ({"FINSIG_DATABASE_URL": "postgresql://h:0/db"}, "FINSIG_DATABASE_URL", "invalid port"),
        ({"FINSIG_DATABASE_URL": "postgresql://h:5432"}, "FINSIG_DATABASE_URL", "no database"),
        ({"FINSIG_DATABASE_URL": URL, "FINSIG_PORT": "http"}, "FINSIG_PORT", "integer"),
        ({"FINSIG_DATABASE_URL": URL, "FINSIG_PORT": "70000"}, "FINSIG_PORT", "between"),
        ({"FINSIG_DATABASE_URL": URL, "FINSIG_LOG_LEVEL": "loud"}, "FINSIG_LOG_LEVEL", "one of"),
        ({"FINSIG_DATABASE_URL": URL, "FINSIG_MAX_BODY_BYTES": "1MB"}, "FINSIG_MAX_BODY_BYTES",
         "integer"),
        ({"FINSIG_DATABASE_URL": URL, "FINSIG_MAX_BODY_BYTES": "0"}, "FINSIG_MAX_BODY_BYTES",
         "at least 1"),
    ],
)
def test_invalid_settings_name_the_setting(env: dict[str, str], name: str, fragment: str) -> None:
    with pytest.raises(SettingsError) as caught:
        Settings.from_env(env)
    assert caught.value.name == name
    assert str(caught.value).startswith(name)
    assert fragment in str(caught.value)
