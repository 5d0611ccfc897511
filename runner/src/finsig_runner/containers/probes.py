"""HTTP probes against the stack: its services, Prometheus' and Alertmanager's APIs.

Every request goes to an address from reach (127.0.0.1 + published port on the host, alias inside
the runner), with a timeout, and never through a proxy from the environment.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import requests

from finsig_runner.containers import reach

TIMEOUT = 5.0


class Http:
    def __init__(self, where: Callable[[str, int], reach.Address]) -> None:
        self._where = where
        self.session = requests.Session()
        self.session.trust_env = False  # no proxy, no netrc: straight to the address
        self.requests = 0

    def url(self, service: str, port: int, path: str) -> str:
        return self._where(service, port).url(path)

    def request(self, method: str, service: str, port: int, path: str,
                **kw: Any) -> requests.Response:
        self.requests += 1
        return self.session.request(method, self.url(service, port, path), timeout=TIMEOUT,
                                    **kw)

    def get(self, service: str, port: int, path: str, **kw: Any) -> requests.Response:
        return self.request("GET", service, port, path, **kw)

    def status(self, service: str, port: int, path: str) -> int | None:
        """The status code, or None when nothing answers."""
        try:
            return self.get(service, port, path).status_code
        except requests.RequestException:
            return None

    def close(self) -> None:
        self.session.close()


class Prometheus:
    def __init__(self, http: Http, service: str = "prometheus", port: int = 9090) -> None:
        self.http, self.service, self.port = http, service, port

    def _data(self, path: str, **params: str) -> Any:
        try:
            response = self.http.get(self.service, self.port, path, params=params or None)
            body = response.json()
        except (requests.RequestException, ValueError):
            return None
        return body.get("data") if body.get("status") == "success" else None

    def targets(self) -> list[dict[str, Any]] | None:
        data = self._data("/api/v1/targets", state="active")
        return None if data is None else list(data.get("activeTargets") or [])

    def rule_groups(self) -> list[dict[str, Any]] | None:
        data = self._data("/api/v1/rules")
        return None if data is None else list(data.get("groups") or [])

    def alerts(self) -> list[dict[str, Any]] | None:
        data = self._data("/api/v1/alerts")
        return None if data is None else list(data.get("alerts") or [])

    def firing(self, name: str) -> bool | None:
        alerts = self.alerts()
        if alerts is None:
            return None
        return any(a.get("labels", {}).get("alertname") == name and a.get("state") == "firing"
                   for a in alerts)

    def scalar(self, query: str) -> float | None:
        """The sum of an instant query's samples; None when Prometheus does not answer."""
        data = self._data("/api/v1/query", query=query)
        if data is None:
            return None
        return sum(float(item["value"][1]) for item in data.get("result") or [])


class Alertmanager:
    def __init__(self, http: Http, service: str = "alertmanager", port: int = 9093) -> None:
        self.http, self.service, self.port = http, service, port

    def active(self, name: str) -> bool | None:
        try:
            alerts = self.http.get(self.service, self.port, "/api/v2/alerts").json()
        except (requests.RequestException, ValueError):
            return None
        return any(a.get("labels", {}).get("alertname") == name
                   and (a.get("status") or {}).get("state") == "active" for a in alerts)
