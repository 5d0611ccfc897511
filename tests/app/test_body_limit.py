"""The request body limit: 413 before the body is read whole, and the largest valid batch fits."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator

import pytest
import requests
from fastapi.testclient import TestClient
from hypothesis import given
from hypothesis import strategies as st

from finsig.app import create_app
from finsig.models import MAX_CLOSE, MIN_CLOSE
from finsig.settings import DEFAULT_MAX_BODY_BYTES, Settings
from tests.support.app import free_port, wait_until
from tests.support.app_processes import AppProcess, read_status_line, start_app
from tests.support.price_batches import LARGEST_BATCH_BYTES, LONGEST_CLOSE, largest_valid_batch

NO_DATABASE = f"postgresql://finsig:x@127.0.0.1:{free_port()}/finsig"
PATH = "/v1/instruments/ACME/prices"


@given(st.floats(min_value=MIN_CLOSE, max_value=MAX_CLOSE))
def test_no_close_in_range_is_longer_in_json(close: float) -> None:
    assert len(json.dumps(close)) <= LONGEST_CLOSE


def test_the_default_limit_admits_the_largest_valid_batch() -> None:
    body = largest_valid_batch()
    assert len(body) == LARGEST_BATCH_BYTES == 530_001
    assert DEFAULT_MAX_BODY_BYTES > LARGEST_BATCH_BYTES
    # Python's default separators (", " and ": ") fit too.
    assert len(json.dumps(json.loads(body))) < DEFAULT_MAX_BODY_BYTES


@pytest.fixture(scope="module")
def small_limit() -> Iterator[TestClient]:
    settings = Settings(database_url=NO_DATABASE, max_body_bytes=100)
    with TestClient(create_app(settings)) as client:
        yield client


def test_a_declared_length_over_the_limit_is_413(small_limit: TestClient) -> None:
    response = small_limit.post(PATH, json=[{"date": "2024-01-02", "close": 1.0}] * 5)
    assert response.status_code == 413
    assert response.json() == {"detail": "request body larger than 100 bytes"}
    assert response.headers["connection"] == "close"


def test_a_streamed_body_over_the_limit_is_413(small_limit: TestClient) -> None:
    def chunks() -> Iterator[bytes]:
        yield b"["
        for _ in range(10):
            yield b'{"date": "2024-01-02", "close": 1.0},'

    headers = {"content-type": "application/json"}
    response = small_limit.post(PATH, content=chunks(), headers=headers)
    assert response.status_code == 413
    assert response.json() == {"detail": "request body larger than 100 bytes"}


def test_a_body_at_the_limit_is_read(small_limit: TestClient) -> None:
    body = b'[{"date": "2024-02-30", "close": 1.0}]'.ljust(100)
    response = small_limit.post(PATH, content=body, headers={"content-type": "application/json"})
    assert response.status_code == 422


def test_413_is_counted_in_the_metrics(small_limit: TestClient) -> None:
    small_limit.post(PATH, content=b"x" * 101)
    assert ',status="413"}' in small_limit.get("/metrics").text


def test_the_413_answer_is_in_the_openapi_document(small_limit: TestClient) -> None:
    post = small_limit.get("/openapi.json").json()["paths"]["/v1/instruments/{symbol}/prices"]
    assert "413" in post["post"]["responses"]


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AppProcess]:
    """The real server (uvicorn), where a body arrives in pieces off a socket."""
    app = start_app(NO_DATABASE, tmp_path_factory.mktemp("limit") / "app.log")
    try:
        healthz = f"{app.base_url}/healthz"
        wait_until(healthz, lambda: requests.get(healthz, timeout=3).ok, 30, abort=app.exited)
        yield app
    finally:
        app.kill()


@pytest.mark.timeout(60)
def test_64_mib_declared_is_refused_before_it_is_sent(served: AppProcess) -> None:
    head = (
        f"POST {PATH} HTTP/1.1\r\nHost: finsig\r\nContent-Type: application/json\r\n"
        f"Content-Length: {64 * 1024 * 1024}\r\n\r\n"
    )
    with socket.create_connection(("127.0.0.1", served.port), timeout=10) as sock:
        sock.sendall(head.encode() + b"[" + b" " * 1000)  # 1 KB of the promised 64 MiB
        assert read_status_line(sock) == "HTTP/1.1 413 Request Entity Too Large"


@pytest.mark.timeout(60)
def test_a_chunked_body_is_refused_once_it_passes_the_limit(served: AppProcess) -> None:
    head = (
        f"POST {PATH} HTTP/1.1\r\nHost: finsig\r\nContent-Type: application/json\r\n"
        "Transfer-Encoding: chunked\r\n\r\n"
    )
    piece = b" " * 65536
    chunk = f"{len(piece):x}\r\n".encode() + piece + b"\r\n"
    with socket.create_connection(("127.0.0.1", served.port), timeout=10) as sock:
        sock.sendall(head.encode())
        # 17 chunks of 64 KiB pass the 1 MiB default; the server answers without the rest.
        for _ in range(DEFAULT_MAX_BODY_BYTES // len(piece) + 1):
            sock.sendall(chunk)
        assert read_status_line(sock) == "HTTP/1.1 413 Request Entity Too Large"
