"""The API with no database behind it: liveness, readiness 503, validation, and metrics."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from finsig.app import create_app
from finsig.models import MAX_BATCH_ROWS, MAX_CLOSE, MAX_PROBLEMS, MIN_CLOSE
from finsig.routes import RETRY_AFTER_SECONDS
from finsig.settings import Settings
from tests.support.app import free_port


@pytest.fixture(scope="module")
def client() -> Iterator[TestClient]:
    # Nothing listens on this loopback port: every connection is refused at once.
    settings = Settings(database_url=f"postgresql://finsig:x@127.0.0.1:{free_port()}/finsig")
    with TestClient(create_app(settings)) as test_client:
        yield test_client


def test_healthz_answers_without_a_database(client: TestClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "version": "0.1.0"}


def test_readyz_is_503_without_a_database(client: TestClient) -> None:
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["database"] == "unreachable"
    assert response.headers["retry-after"] == str(RETRY_AFTER_SECONDS)


def test_every_503_is_documented_with_retry_after(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    for path, method in [
        ("/readyz", "get"),
        ("/v1/instruments/{symbol}/prices", "post"),
        ("/v1/instruments/{symbol}/signals", "get"),
    ]:
        unavailable = paths[path][method]["responses"]["503"]
        assert "Retry-After" in unavailable["headers"], path
        assert unavailable["content"]["application/json"]["schema"], path


def test_every_problem_is_listed_with_row_and_field(client: TestClient) -> None:
    batch = [
        {"date": "2024-01-02", "close": 10.0},
        {"date": "2024-02-30", "close": -1},
        {"date": 20240103, "close": "12"},
        {"date": "2024-01-04T00:00:00", "close": 1.0, "volume": 5},
        {"close": 0},
    ]
    response = client.post("/v1/instruments/acme!/prices", json=batch)
    assert response.status_code == 422
    problems = {(p["row"], p["field"]) for p in response.json()["problems"]}
    assert problems == {
        (None, "symbol"),
        (1, "date"),
        (1, "close"),
        (2, "date"),
        (2, "close"),
        (3, "date"),
        (3, "volume"),
        (4, "date"),
        (4, "close"),
    }


@pytest.mark.parametrize("symbol", ["%2E", "%2E%2E", "...", "." * 12, "A" * 13, "acme"])
def test_a_symbol_of_dots_only_is_refused(client: TestClient, symbol: str) -> None:
    # "." and ".." as path segments are removed by HTTP clients (RFC 3986), so such a series could
    # be written but never read back; sent percent-encoded they reach the app.
    row = [{"date": "2024-01-02", "close": 1.0}]
    for response in (
        client.post(f"/v1/instruments/{symbol}/prices", json=row),
        client.get(f"/v1/instruments/{symbol}/signals"),
    ):
        assert response.status_code == 422
        assert [(p["row"], p["field"]) for p in response.json()["problems"]] == [(None, "symbol")]


@pytest.mark.parametrize("symbol", [".DJI", "BRK.A", "A", "ABCDEFGHIJKL"])
def test_symbols_with_a_letter_or_digit_are_valid(client: TestClient, symbol: str) -> None:
    # The windows are checked after the path: a problem with them alone means the symbol passed.
    params = {"short_window": 50, "long_window": 50}
    response = client.get(f"/v1/instruments/{symbol}/signals", params=params)
    assert [p["field"] for p in response.json()["problems"]] == ["short_window"]


@pytest.mark.parametrize("close", ["NaN", "Infinity", "-Infinity"])
def test_non_finite_close_is_rejected(client: TestClient, close: str) -> None:
    body = '[{"date": "2024-01-02", "close": %s}]' % close
    response = client.post(
        "/v1/instruments/ACME/prices", content=body, headers={"content-type": "application/json"}
    )
    assert response.status_code == 422
    assert response.json()["problems"][0]["field"] == "close"


@pytest.mark.parametrize(
    ("close", "message"),
    [
        ("1.7e308", "less than or equal to 1000000000000"),
        ("1e300", "less than or equal to 1000000000000"),
        ("1000000000000.0002", "less than or equal to 1000000000000"),
        ("0.00000000099999", "greater than or equal to 0.000000001"),
        ("1e-300", "greater than or equal to 0.000000001"),
        ("5e-324", "greater than or equal to 0.000000001"),
        ("0", "greater than or equal to 0.000000001"),
    ],
)
def test_close_outside_the_documented_range_is_rejected(
    client: TestClient, close: str, message: str
) -> None:
    body = '[{"date": "2024-01-02", "close": %s}]' % close
    response = client.post(
        "/v1/instruments/ACME/prices", content=body, headers={"content-type": "application/json"}
    )
    assert response.status_code == 422
    [problem] = response.json()["problems"]
    assert (problem["row"], problem["field"]) == (0, "close")
    assert problem["message"] == f"Input should be {message}"


def test_the_range_is_in_the_openapi_document(client: TestClient) -> None:
    close = client.get("/openapi.json").json()["components"]["schemas"]["PriceIn"]["properties"]
    assert (close["close"]["minimum"], close["close"]["maximum"]) == (MIN_CLOSE, MAX_CLOSE)
    assert (MIN_CLOSE, MAX_CLOSE) == (1e-9, 1e12)


def test_duplicate_dates_are_problems(client: TestClient) -> None:
    batch = [{"date": "2024-01-02", "close": 1.0}] * 3
    response = client.post("/v1/instruments/ACME/prices", json=batch)
    assert response.status_code == 422
    problems = response.json()["problems"]
    assert [(p["row"], p["field"]) for p in problems] == [(1, "date"), (2, "date")]


def test_duplicate_dates_are_listed_beside_other_problems(client: TestClient) -> None:
    batch = [
        {"date": "2024-01-02", "close": 1.0},
        {"date": "2024-01-02", "close": -1},
        {"date": "2024-02-30", "close": 1.0},
        {"date": "2024-02-30", "close": 1.0},
    ]
    response = client.post("/v1/instruments/ACME/prices", json=batch)
    assert response.status_code == 422
    problems = [(p["row"], p["field"], p["message"]) for p in response.json()["problems"]]
    assert (1, "date", "duplicates row 0") in problems
    assert (1, "close", "Input should be greater than or equal to 0.000000001") in problems
    # an invalid date is reported as invalid, not also as a duplicate
    assert sorted((row, field) for row, field, _ in problems) == [
        (1, "close"), (1, "date"), (2, "date"), (3, "date")]
    assert not [m for row, _, m in problems if row in (2, 3) and m.startswith("duplicates")]


def test_empty_and_oversized_batches(client: TestClient) -> None:
    assert client.post("/v1/instruments/ACME/prices", json=[]).status_code == 422
    too_many = [{"date": "2024-01-02", "close": 1.0}] * 10_001
    response = client.post("/v1/instruments/ACME/prices", json=too_many)
    assert response.status_code == 422
    assert "at most 10000" in response.json()["problems"][0]["message"]


def test_the_problem_list_is_capped_with_a_count_of_the_rest(client: TestClient) -> None:
    batch = [{"date": "2024-02-30", "close": -1}] * MAX_BATCH_ROWS  # two problems a row
    response = client.post("/v1/instruments/ACME/prices", json=batch)
    assert response.status_code == 422
    body = response.json()
    assert len(body["problems"]) == MAX_PROBLEMS
    assert body["omitted"] == 2 * MAX_BATCH_ROWS - MAX_PROBLEMS
    assert [(p["row"], p["field"]) for p in body["problems"][:4]] == [
        (0, "date"), (0, "close"), (1, "date"), (1, "close")]
    assert len(response.content) < 20_000


def test_duplicate_dates_are_capped_too(client: TestClient) -> None:
    batch = [{"date": "2024-01-02", "close": 1.0}] * MAX_BATCH_ROWS
    body = client.post("/v1/instruments/ACME/prices", json=batch).json()
    assert len(body["problems"]) == MAX_PROBLEMS
    assert body["omitted"] == MAX_BATCH_ROWS - 1 - MAX_PROBLEMS


def test_an_oversized_batch_lists_no_duplicates(client: TestClient) -> None:
    batch = [{"date": "2024-01-02", "close": 1.0}] * (MAX_BATCH_ROWS + 1)
    body = client.post("/v1/instruments/ACME/prices", json=batch).json()
    assert [(p["row"], p["field"]) for p in body["problems"]] == [(None, None)]
    assert "at most 10000" in body["problems"][0]["message"]
    assert body["omitted"] == 0


def test_an_invalid_request_lists_everything_under_the_cap(client: TestClient) -> None:
    body = client.post("/v1/instruments/ACME/prices", json=[{"date": "x", "close": 1}]).json()
    assert len(body["problems"]) == 1 and body["omitted"] == 0


def test_invalid_json(client: TestClient) -> None:
    response = client.post(
        "/v1/instruments/ACME/prices", content=b"[{", headers={"content-type": "application/json"}
    )
    assert response.status_code == 422
    assert response.json()["problems"][0]["row"] is None


@pytest.mark.parametrize(
    ("body", "reason"),
    [(b'[{"date": "\xff"}]', "not UTF-8"), (b"[" * 100_000, "nested too deeply")],
)
def test_a_body_that_cannot_be_parsed_is_a_problem_not_a_400(
    client: TestClient, body: bytes, reason: str
) -> None:
    headers = {"content-type": "application/json"}
    response = client.post("/v1/instruments/ACME/prices", content=body, headers=headers)
    assert response.status_code == 422
    assert response.json()["problems"] == [
        {"row": None, "field": None, "message": f"body is not valid JSON: {reason}"}
    ]


def test_the_openapi_document_names_content_types_and_links(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    assert list(paths["/metrics"]["get"]["responses"]["200"]["content"]) == ["text/plain"]
    posted = paths["/v1/instruments/{symbol}/prices"]["post"]["responses"]["200"]
    assert posted["links"]["GetSignals"] == {
        "operationId": "get_signals", "parameters": {"symbol": "$request.path.symbol"}
    }
    page = paths["/v1/instruments/{symbol}/signals"]["get"]["responses"]["200"]
    assert page["links"]["PreviousPage"]["parameters"]["end"] == "$response.body#/previous_end"


def test_signal_windows_are_validated(client: TestClient) -> None:
    response = client.get("/v1/instruments/ACME/signals", params={"short_window": 50})
    assert response.status_code == 422
    assert response.json()["problems"][0]["field"] == "short_window"
    response = client.get("/v1/instruments/ACME/signals", params={"volatility_window": 1})
    assert response.json()["problems"][0]["field"] == "volatility_window"


def test_database_down_means_503_with_retry_after_not_500(client: TestClient) -> None:
    # GET signals too: tests/app/test_readiness_restart.py.
    row = {"date": "2024-01-02", "close": 1.0}
    response = client.post("/v1/instruments/ACME/prices", json=[row])
    assert response.status_code == 503
    assert response.json() == {"detail": "database unavailable"}
    assert response.headers["retry-after"] == str(RETRY_AFTER_SECONDS)


def test_metrics_count_requests_by_route_template(client: TestClient) -> None:
    client.get("/healthz")
    client.get("/no/such/page")
    text = client.get("/metrics").text
    assert 'finsig_http_requests_total{method="GET",route="/healthz",status="200"}' in text
    assert 'route="unmatched",status="404"' in text
    assert 'route="/v1/instruments/{symbol}/prices",status="422"' in text
    assert 'finsig_build_info{version="0.1.0"} 1.0' in text
    assert "finsig_db_pool_connections_in_use" in text
    assert "finsig_http_request_duration_seconds_bucket" in text
