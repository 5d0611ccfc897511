"""A batch the database itself refuses halfway through leaves nothing behind.

Validation cannot catch this: a test-only trigger, created in this test's own database, refuses
one row in the middle of a batch that the API accepted, after the database has already written the
instrument and the rows before it in the same transaction.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient

from finsig.app import create_app
from finsig.settings import Settings
from tests.support.price_batches import batch
from tests.support.postgres import PostgresServer
from tests.support.app import wait_until

pytestmark = [pytest.mark.docker, pytest.mark.timeout(120)]

REFUSED_CLOSE = 666.0
REFUSED_ROW = 2_000
# Counts the rows the trigger sees: a sequence is not rolled back, so it shows how far the
# database got before it refused the batch.
TRIGGER = [
    "CREATE SEQUENCE test_rows_seen",
    """CREATE FUNCTION test_refuse() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN
           PERFORM nextval('test_rows_seen');
           IF NEW.close = 666.0 THEN
               RAISE EXCEPTION 'refused by a test trigger'
                   USING ERRCODE = 'check_violation', CONSTRAINT = 'test_refuse';
           END IF;
           RETURN NEW;
       END $$""",
    """CREATE TRIGGER test_refuse BEFORE INSERT OR UPDATE ON prices
       FOR EACH ROW EXECUTE FUNCTION test_refuse()""",
]


@pytest.fixture(scope="module")
def database(postgres: PostgresServer) -> Iterator[tuple[TestClient, str]]:
    url = postgres.fresh_database()
    with TestClient(create_app(Settings(database_url=url))) as client:
        wait_until("/readyz 200", lambda: client.get("/readyz").status_code == 200, 30)
        with psycopg.connect(url, autocommit=True) as conn:
            for statement in TRIGGER:
                conn.execute(statement)
        yield client, url


def _stored(url: str, symbol: str) -> list[tuple[Any, ...]]:
    with psycopg.connect(url) as conn:
        return conn.execute(
            "SELECT date, close FROM prices WHERE symbol = %s ORDER BY date", (symbol,)
        ).fetchall()


def _rows_seen(url: str) -> int:
    with psycopg.connect(url) as conn:
        row = conn.execute("SELECT last_value, is_called FROM test_rows_seen").fetchone()
    assert row is not None
    return int(row[0]) if row[1] else 0


def _refused_midway(start: date, closes: list[float]) -> list[dict[str, object]]:
    rows = batch(start, closes)
    rows[REFUSED_ROW]["close"] = REFUSED_CLOSE
    return rows


def test_a_new_instrument_refused_midway_is_not_created(database: tuple[TestClient, str]) -> None:
    client, url = database
    seen_before = _rows_seen(url)
    response = client.post(
        "/v1/instruments/TRIGA/prices", json=_refused_midway(date(2001, 1, 1), [1.0] * 3_000)
    )
    assert response.status_code == 409
    assert response.json() == {
        "detail": "the database refused the batch (test_refuse); nothing was written"
    }
    assert _rows_seen(url) - seen_before == REFUSED_ROW + 1
    with psycopg.connect(url) as conn:
        known = conn.execute("SELECT count(*) FROM instruments WHERE symbol = 'TRIGA'").fetchone()
    assert known == (0,)
    assert _stored(url, "TRIGA") == []
    assert client.get("/v1/instruments/TRIGA/signals").status_code == 404


def test_an_existing_series_refused_midway_keeps_every_row(
    database: tuple[TestClient, str]
) -> None:
    client, url = database
    original = batch(date(2001, 1, 1), [i + 1.25 for i in range(2_500)])
    assert client.post("/v1/instruments/TRIGB/prices", json=original).status_code == 200
    before = _stored(url, "TRIGB")
    # Changes every stored close and adds 500 rows; row 2,000 is refused.
    changed = _refused_midway(date(2001, 1, 1), [i + 7.5 for i in range(3_000)])
    response = client.post("/v1/instruments/TRIGB/prices", json=changed)
    assert response.status_code == 409
    assert _stored(url, "TRIGB") == before
    # The same batch without the refused close is written whole.
    changed[REFUSED_ROW]["close"] = 1.5
    accepted = client.post("/v1/instruments/TRIGB/prices", json=changed).json()
    assert (accepted["inserted"], accepted["updated"]) == (500, 2_500)


def test_the_409_answer_is_in_the_openapi_document(database: tuple[TestClient, str]) -> None:
    client, _ = database
    paths = client.get("/openapi.json").json()["paths"]
    assert "409" in paths["/v1/instruments/{symbol}/prices"]["post"]["responses"]
