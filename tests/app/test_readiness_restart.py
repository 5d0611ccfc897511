"""/readyz follows the database down and back up, without restarting the app."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from finsig.app import create_app
from finsig.routes import RETRY_AFTER_SECONDS
from finsig.settings import Settings
from tests.support.postgres import PostgresServer, start_postgres
from tests.support.app import wait_until

pytestmark = [pytest.mark.docker, pytest.mark.timeout(240)]


@pytest.fixture
def own_postgres(app_network: str) -> Iterator[PostgresServer]:
    # Its own server: stopping the shared one would disturb the other tests.
    server = start_postgres(app_network)
    try:
        yield server
    finally:
        server.container.stop()


def test_readyz_503_while_the_database_is_down_and_200_after(own_postgres: PostgresServer) -> None:
    row = [{"date": "2024-01-02", "close": 1.0}]
    with TestClient(create_app(Settings(database_url=own_postgres.url()))) as client:
        wait_until("ready", lambda: client.get("/readyz").status_code == 200, 30)
        assert client.post("/v1/instruments/UPDN/prices", json=row).status_code == 200

        own_postgres.stop()
        wait_until("/readyz 503", lambda: client.get("/readyz").status_code == 503, 30)
        assert client.get("/readyz").json()["database"] == "unreachable"
        assert client.get("/healthz").status_code == 200
        for response in (
            client.post("/v1/instruments/UPDN/prices", json=row),
            client.get("/v1/instruments/UPDN/signals"),
            client.get("/readyz"),
        ):
            assert response.status_code == 503
            assert response.headers["retry-after"] == str(RETRY_AFTER_SECONDS)

        own_postgres.start_again()
        wait_until("/readyz 200 again", lambda: client.get("/readyz").status_code == 200, 90)
        response = client.post("/v1/instruments/UPDN/prices", json=row)
        assert response.status_code == 200 and response.json()["unchanged"] == 1
