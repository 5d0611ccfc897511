"""Prometheus metrics on the app's own registry (no process-wide singletons)."""

from __future__ import annotations

from collections.abc import Callable

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.exposition import CONTENT_TYPE_LATEST, generate_latest

from finsig import __version__

CONTENT_TYPE = CONTENT_TYPE_LATEST
_LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter(
            "finsig_http_requests",
            "HTTP requests by route template, method and status code.",
            ("route", "method", "status"),
            registry=self.registry,
        )
        self.latency = Histogram(
            "finsig_http_request_duration_seconds",
            "HTTP request latency by route template and method.",
            ("route", "method"),
            buckets=_LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.rows_ingested = Counter(
            "finsig_rows_ingested",
            "Price rows accepted and written by ingest requests.",
            registry=self.registry,
        )
        self.pool_in_use = Gauge(
            "finsig_db_pool_connections_in_use",
            "Database pool connections currently lent out.",
            registry=self.registry,
        )
        self.build_info = Gauge(
            "finsig_build_info",
            "Always 1; the labels carry the running version.",
            ("version",),
            registry=self.registry,
        )
        self.build_info.labels(version=__version__).set(1)

    def track_pool(self, in_use: Callable[[], float]) -> None:
        self.pool_in_use.set_function(in_use)

    def observe_request(self, route: str, method: str, status: int, seconds: float) -> None:
        self.requests.labels(route=route, method=method, status=str(status)).inc()
        self.latency.labels(route=route, method=method).observe(seconds)

    def render(self) -> bytes:
        return generate_latest(self.registry)
