"""The API against a real PostgreSQL: round trip, pages, idempotence, validation, metrics.

A batch the database itself refuses midway (a rollback, not validation): test_db_refusal.py.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Iterator
from datetime import date
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient

from finsig import repository
from finsig.app import create_app
from finsig.models import MAX_CLOSE, MIN_CLOSE
from finsig.settings import Settings
from finsig.signals import PricePoint, SignalParams, compute_signals
from tests.support.app import wait_until
from tests.support.postgres import PostgresServer
from tests.support.price_batches import LARGEST_BATCH_BYTES, largest_valid_batch
from tests.support.price_batches import batch as daily_batch

pytestmark = [pytest.mark.docker, pytest.mark.timeout(180)]


@pytest.fixture(scope="module")
def postgres_url(postgres: PostgresServer) -> str:
    return postgres.fresh_database()


@pytest.fixture(scope="module")
def client(postgres_url: str) -> Iterator[TestClient]:
    with TestClient(create_app(Settings(database_url=postgres_url))) as test_client:
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


def test_signals_come_in_bounded_pages_with_the_whole_series_values(client: TestClient) -> None:
    closes = [100.0 + 10 * math.sin(i / 7) + i / 100 for i in range(2_300)]
    posted = daily_batch(date(2010, 1, 1), closes)
    for start in range(0, len(posted), 1_000):
        chunk = posted[start:start + 1_000]
        assert client.post("/v1/instruments/PAGE/prices", json=chunk).status_code == 200
    everything = compute_signals(
        [PricePoint(date.fromisoformat(str(row["date"])), float(str(row["close"])))
         for row in posted],
        SignalParams(),
    )

    pages: list[dict[str, Any]] = []
    params: dict[str, object] = {}
    while True:
        response = client.get("/v1/instruments/PAGE/signals", params=params)
        assert response.status_code == 200
        pages.append(response.json())
        if pages[-1]["previous_end"] is None:
            break
        params = {"end": pages[-1]["previous_end"]}
    assert [len(page["rows"]) for page in pages] == [1_000, 1_000, 300]
    assert all(page["limit"] == 1_000 for page in pages)
    rows = [row for page in reversed(pages) for row in page["rows"]]
    assert [r["date"] for r in rows] == [str(row["date"]) for row in posted]
    for got, want in zip(rows, everything):
        assert (got["sma_short"], got["sma_long"]) == (want.sma_short, want.sma_long)
        assert got["volatility"] == want.volatility and got["signal"] == want.signal.value
        assert got["rsi"] == (None if want.rsi is None else pytest.approx(want.rsi, rel=1e-12))


def test_a_page_of_chosen_size_up_to_a_chosen_date(client: TestClient) -> None:
    client.post("/v1/instruments/PAGE2/prices", json=daily_batch(date(2024, 1, 1), [1.0] * 10))
    body = client.get(
        "/v1/instruments/PAGE2/signals", params={"end": "2024-01-05", "limit": 2}
    ).json()
    assert [r["date"] for r in body["rows"]] == ["2024-01-04", "2024-01-05"]
    assert body["previous_end"] == "2024-01-03"
    before = client.get("/v1/instruments/PAGE2/signals", params={"end": "2023-12-31"})
    assert before.status_code == 200
    assert (before.json()["rows"], before.json()["previous_end"]) == ([], None)


def test_the_page_size_is_bounded(client: TestClient) -> None:
    response = client.get("/v1/instruments/PAGE2/signals", params={"limit": 10_001})
    assert response.status_code == 422
    assert response.json()["problems"][0]["field"] == "limit"


def test_the_series_is_read_in_bounded_slices(client: TestClient, postgres_url: str) -> None:
    posted = daily_batch(date(2001, 1, 1), [float(i + 1) for i in range(3_000)])
    assert client.post("/v1/instruments/SLICE/prices", json=posted).status_code == 200

    async def slice_of(count: int) -> list[PricePoint]:
        async with await psycopg.AsyncConnection.connect(postgres_url, autocommit=True) as conn:
            return await repository.load_recent_prices(conn, "SLICE", date(2006, 1, 1), count)

    rows = asyncio.run(slice_of(1_500))
    assert [row.date for row in rows] == [
        date.fromisoformat(str(row["date"])) for row in posted[327:1_827]
    ]
    assert rows[-1] == PricePoint(date(2006, 1, 1), 1_827.0)


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


def test_a_batch_refused_by_validation_writes_nothing(client: TestClient) -> None:
    # Refused before the database is touched; test_db_refusal.py covers a rollback.
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
    rows = client.get("/v1/instruments/BIG/signals", params={"limit": 10_000}).json()["rows"]
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
