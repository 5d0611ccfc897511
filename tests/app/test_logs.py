"""JSON-lines logs: one parseable object per line, extras as fields."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest

from finsig.logs import configure_logging


@pytest.fixture
def restore_root_logger() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


@pytest.mark.usefixtures("restore_root_logger")
def test_lines_are_json_with_extras_and_exceptions() -> None:
    stream = io.StringIO()
    configure_logging(logging.INFO, stream)
    log = logging.getLogger("tests.app.logs")
    log.debug("hidden")
    log.info("ingested %d rows", 3, extra={"symbol": "ACME"})
    try:
        raise RuntimeError("boom")
    except RuntimeError:
        log.exception("failed")
    logging.getLogger("uvicorn.error").warning("from uvicorn")
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert [line["message"] for line in lines] == ["ingested 3 rows", "failed", "from uvicorn"]
    assert lines[0]["symbol"] == "ACME" and lines[0]["level"] == "INFO"
    assert lines[0]["logger"] == "tests.app.logs" and lines[0]["time"].endswith("+00:00")
    assert "RuntimeError: boom" in lines[1]["exception"]
    assert lines[2]["logger"] == "uvicorn.error"
