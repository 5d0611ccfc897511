"""The API against a real PostgreSQL: round trip, idempotence, atomic rejection, metrics."""

from __future__ import annotations

import math
from collections.abc import Iterator
from datetime import date

import pytest
from fastapi.testclient import TestClient

from finsig.app import create_app
from finsig.models import MAX_CLOSE, MIN_CLOSE
from finsig.settings import Settings
from tests.support.app import wait_until
from tests.support.postgres import PostgresServer
from tests.support.price_batches import LARGEST_BATCH_BYTES, largest_valid_batch
from tests.support.price_batches import batch as daily_batch

pytestmark = [pytest.mark.docker, pytest.mark.timeout(180)]


@pytest.fixture(scope="module")
def client(postgres: PostgresServer) -> Iterator[TestClient]:
    with TestClient(create_app(Settings(database_url=postgres.fresh_database()))) as test_client:
        wait_until("/readyz 200", lambda: test_client.get("/readyz").status_code == 200, 30)
        yield test_client


def _metric(text: str, line_prefix: str) -> float:
    for line in text.splitlines():
        if line.startswith(line_prefix):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def test_readyz_reports_the_schema_version(client: TestClient) -> None:
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {
        "status": "ready",
        "database": "ok",
        "schema_version": 2,
        "expected_schema_version": 2,
    }


def test_ingest_then_signals_round_trip(client: TestClient) -> None:
    closes = [100.0 + 10 * math.sin(i / 5) for i in range(80)]
    # Posted out of order: signals come back ordered by date.
    batch = daily_batch(date(2024, 1, 1), closes)
    response = client.post("/v1/instruments/RT.A/prices", json=batch[40:] + batch[:40])
    assert response.status_code == 200
    assert response.json() == {
        "symbol": "RT.A", "received": 80, "inserted": 80, "updated": 0, "unchanged": 0,
    }
    response = client.get("/v1/instruments/RT.A/signals")
    assert response.status_code == 200
    body = response.json()
    assert (body["short_window"], body["long_window"], body["rsi_period"]) == (20, 50, 14)
    rows = body["rows"]
    assert [r["date"] for r in rows] == [b["date"] for b in batch]
    assert [r["close"] for r in rows] == closes
    assert rows[18]["sma_short"] is None and rows[19]["sma_short"] == pytest.approx(
        sum(closes[:20]) / 20
    )
    assert rows[48]["sma_long"] is None
    assert rows[49]["sma_long"] == pytest.approx(sum(closes[:50]) / 50)
    assert rows[13]["rsi"] is None and 0 <= rows[14]["rsi"] <= 100
    assert rows[19]["volatility"] is None and rows[20]["volatility"] > 0
    assert {r["signal"] for r in rows} <= {"buy", "sell", "hold"}
    assert any(r["signal"] != "hold" for r in rows)


def test_signal_windows_from_the_query(client: TestClient) -> None:
    rising = daily_batch(date(2024, 1, 1), [1.0, 2.0, 3.0, 4.0])
    client.post("/v1/instruments/WIN/prices", json=rising)
    response = client.get(
        "/v1/instruments/WIN/signals",
        params={"short_window": 2, "long_window": 3, "volatility_window": 2},
    )
    rows = response.json()["rows"]
    assert [r["sma_short"] for r in rows] == [None, 1.5, 2.5, 3.5]
    assert [r["sma_long"] for r in rows] == [None, None, 2.0, 3.0]


def test_reingest_is_idempotent_and_updates_changed_rows(client: TestClient) -> None:
    batch = daily_batch(date(2023, 6, 1), [10.0, 11.0, 12.0])
    first = client.post("/v1/instruments/IDEM/prices", json=batch).json()
    again = client.post("/v1/instruments/IDEM/prices", json=batch).json()
    assert (first["inserted"], first["updated"], first["unchanged"]) == (3, 0, 0)
    assert (again["inserted"], again["updated"], again["unchanged"]) == (0, 0, 3)
    changed = daily_batch(date(2023, 6, 3), [12.5, 13.0])
    third = client.post("/v1/instruments/IDEM/prices", json=changed).json()
    assert (third["inserted"], third["updated"], third["unchanged"]) == (1, 1, 0)
    rows = client.get("/v1/instruments/IDEM/signals").json()["rows"]
    assert [(r["date"], r["close"]) for r in rows] == [
        ("2023-06-01", 10.0), ("2023-06-02", 11.0), ("2023-06-03", 12.5), ("2023-06-04", 13.0),
    ]


def test_an_invalid_batch_writes_nothing(client: TestClient, postgres: PostgresServer) -> None:
    batch = daily_batch(date(2024, 3, 1), [5.0, 6.0, 7.0])
    batch[2]["close"] = 0
    response = client.post("/v1/instruments/ATOM/prices", json=batch)
    assert response.status_code == 422
    assert response.json()["problems"] == [
        {"row": 2, "field": "close",
         "message": "Input should be greater than or equal to 0.000000001"}
    ]
    assert client.get("/v1/instruments/ATOM/signals").status_code == 404
    # An existing series keeps its rows when a later batch for it is invalid.
    client.post("/v1/instruments/ATOM/prices", json=daily_batch(date(2024, 3, 1), [5.0]))
    bad = daily_batch(date(2024, 3, 1), [9.0, 9.5]) + [{"date": "2024-03-03", "close": "x"}]
    assert client.post("/v1/instruments/ATOM/prices", json=bad).status_code == 422
    rows = client.get("/v1/instruments/ATOM/signals").json()["rows"]
    assert [(r["date"], r["close"]) for r in rows] == [("2024-03-01", 5.0)]


def test_the_bounds_of_the_price_range_are_stored_exactly(client: TestClient) -> None:
    batch = daily_batch(date(2024, 5, 1), [MIN_CLOSE, MAX_CLOSE, MIN_CLOSE, MAX_CLOSE])
    assert client.post("/v1/instruments/EDGE/prices", json=batch).status_code == 200
    windows = {"short_window": 1, "long_window": 2, "volatility_window": 2}
    response = client.get("/v1/instruments/EDGE/signals", params=windows)
    assert response.status_code == 200
    rows = response.json()["rows"]
    assert [r["close"] for r in rows] == [MIN_CLOSE, MAX_CLOSE, MIN_CLOSE, MAX_CLOSE]
    assert all(math.isfinite(r["volatility"]) for r in rows[2:])


def test_unknown_symbol_is_404(client: TestClient) -> None:
    response = client.get("/v1/instruments/NOPE/signals")
    assert response.status_code == 404
    assert response.json() == {"detail": "unknown symbol NOPE"}


def test_a_full_batch_of_10000_rows(client: TestClient) -> None:
    closes = [50.0 + (i % 17) for i in range(10_000)]
    response = client.post("/v1/instruments/BIG/prices", json=daily_batch(date(1990, 1, 1), closes))
    assert response.status_code == 200
    assert response.json()["inserted"] == 10_000
    rows = client.get("/v1/instruments/BIG/signals").json()["rows"]
    assert len(rows) == 10_000 and rows[-1]["close"] == closes[-1]


def test_the_largest_valid_batch_is_accepted_under_the_default_limit(client: TestClient) -> None:
    body = largest_valid_batch()
    assert len(body) == LARGEST_BATCH_BYTES
    response = client.post(
        "/v1/instruments/LARGEST/prices", content=body, headers={"content-type": "application/json"}
    )
    assert response.status_code == 200
    assert response.json()["inserted"] == 10_000


def test_metrics_count_requests_and_ingested_rows(client: TestClient) -> None:
    before = client.get("/metrics").text
    route = 'finsig_http_requests_total{method="POST",route="/v1/instruments/{symbol}/prices"'
    client.post("/v1/instruments/MET/prices", json=daily_batch(date(2024, 1, 1), [1.0, 2.0, 3.0]))
    client.post("/v1/instruments/MET/prices", json=daily_batch(date(2024, 1, 1), [1.0, -2.0]))
    after = client.get("/metrics").text
    rows = "finsig_rows_ingested_total"
    assert _metric(after, rows) - _metric(before, rows) == 3
    assert _metric(after, route + ',status="200"}') - _metric(before, route + ',status="200"}') == 1
    assert _metric(after, route + ',status="422"}') - _metric(before, route + ',status="422"}') == 1
    assert _metric(after, "finsig_db_pool_connections_in_use") == 0
