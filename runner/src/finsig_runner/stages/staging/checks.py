"""What staging proves once the stack is up, and the fault drill. Each step is a timed Check."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import requests
import yaml

from finsig_runner.core.model import Check, Status
from finsig_runner.stages.staging import smoke
from finsig_runner.containers.probes import Alertmanager, Http, Prometheus
from finsig_runner.stages.staging.report import DeployReport
from finsig_runner.containers.stack import Stack
from finsig_runner.containers.waits import HealthyOrExited, StackError, log_tail, poll

APP, APP_PORT = "app", 8000
DB = "postgres"
API_ROUTES = 'route=~"/v1/.*"'


@dataclass(frozen=True)
class Limits:
    check: float
    alert: float
    start: float


@dataclass(frozen=True)
class Expected:
    jobs: tuple[str, ...]
    groups: tuple[str, ...]


def expected_monitoring(stack: Stack, service: str = "prometheus") -> Expected:
    """Scrape jobs and rule groups from the config files the compose file copies into Prometheus."""
    jobs: list[str] = []
    groups: list[str] = []
    for bind in stack.project.services[service].binds:
        doc = yaml.safe_load(bind.path.read_text(encoding="utf-8")) or {}
        jobs += [str(s.get("job_name")) for s in doc.get("scrape_configs") or []]
        groups += [str(g.get("name")) for g in doc.get("groups") or []]
    return Expected(tuple(jobs), tuple(groups))


class Verifier:
    def __init__(self, stack: Stack, report: DeployReport, limits: Limits,
                 stop: Callable[[], bool]) -> None:
        self.stack, self.report, self.limits, self.stop = stack, report, limits, stop
        self.http = Http(lambda service, port: stack.get(service).address(port))
        self.prom = Prometheus(self.http)
        self.am = Alertmanager(self.http)
        self.rows_sent: list[dict[str, Any]] = []

    def timed(self, check_id: str, body: Callable[[], tuple[Status, str, dict[str, Any]]]) -> Check:
        started = datetime.now(UTC)
        t0 = time.monotonic()
        try:
            status, detail, data = body()
        except StackError as exc:
            if exc.logs:
                self.report.attach_log(exc.service, exc.logs)
            status, detail, data = Status.FAILED, str(exc), {}
        return self.report.add(Check(check_id, status, detail), started, time.monotonic() - t0,
                               data)

    # --- after bring-up ---------------------------------------------------------------------

    def readyz(self) -> Check:
        def body() -> tuple[Status, str, dict[str, Any]]:
            code, took = poll(lambda: 200 if self.http.status(APP, APP_PORT, "/readyz") == 200
                              else None, self.limits.check, self.stop)
            if code is None:
                last = self.http.status(APP, APP_PORT, "/readyz")
                return Status.FAILED, f"app /readyz answered {last}, not 200", {}
            return Status.PASSED, "app /readyz 200", {"seconds": round(took, 3)}
        return self.timed("staging.readyz", body)

    def targets(self, expected: Expected) -> Check:
        last: list[dict[str, Any]] = []

        def all_up() -> bool | None:
            nonlocal last
            targets = self.prom.targets()
            if targets is None:
                return None
            last = targets
            jobs = {t.get("labels", {}).get("job") for t in targets}
            ok = set(expected.jobs) <= jobs and all(t.get("health") == "up" for t in targets)
            return True if ok else None

        def body() -> tuple[Status, str, dict[str, Any]]:
            done, took = poll(all_up, self.limits.check, self.stop)
            summary = [{"job": t.get("labels", {}).get("job"), "url": t.get("scrapeUrl"),
                        "health": t.get("health"), "error": t.get("lastError")} for t in last]
            if done:
                return Status.PASSED, f"{len(last)} targets up: " + ", ".join(
                    sorted(str(s["job"]) for s in summary)), {"targets": summary}
            seen = {s["job"] for s in summary}
            bad = [f"{s['job']} {s['url']} {s['health']}: {s['error']}" for s in summary
                   if s["health"] != "up"]
            bad += [f"{job}: no target" for job in expected.jobs if job not in seen]
            return (Status.FAILED, f"not every target up within {self.limits.check:.0f}s: "
                    + "; ".join(bad), {"targets": summary})
        return self.timed("staging.targets", body)

    def rules(self, expected: Expected) -> Check:
        last: list[dict[str, Any]] = []

        def evaluated() -> bool | None:
            nonlocal last
            groups = self.prom.rule_groups()
            if groups is None:
                return None
            last = groups
            names = {g.get("name") for g in groups}
            rules = [r for g in groups for r in g.get("rules") or []]
            if any(r.get("health") == "err" for r in rules):
                return True  # decided: an evaluation error does not go away by waiting
            ok = set(expected.groups) <= names and all(r.get("health") == "ok" for r in rules)
            return True if ok else None

        def body() -> tuple[Status, str, dict[str, Any]]:
            done, _ = poll(evaluated, self.limits.check, self.stop)
            rules = [(str(g.get("name")), r) for g in last for r in g.get("rules") or []]
            table = [{"group": g, "rule": r.get("name"), "health": r.get("health"),
                      "error": r.get("lastError", "")} for g, r in rules]
            bad = [f"{t['group']}/{t['rule']} {t['health']}: {t['error']}" for t in table
                   if t["health"] != "ok"]
            missing = [g for g in expected.groups if g not in {t["group"] for t in table}]
            if done and not bad and not missing:
                return (Status.PASSED, f"{len(last)} groups, {len(table)} rules loaded and "
                        "evaluated without error", {"rules": table})
            problems = [f"group {g} not loaded" for g in missing] + bad
            return Status.FAILED, "; ".join(problems) or "rules not evaluated in time", {
                "rules": table}
        return self.timed("staging.rules", body)

    def counter_value(self) -> float | None:
        value, _ = poll(lambda: self.prom.scalar(
            f'sum(finsig_http_requests_total{{job="app",{API_ROUTES}}}) or vector(0)'),
            self.limits.check, self.stop)
        return value

    def smoke(self) -> Check:
        def body() -> tuple[Status, str, dict[str, Any]]:
            rows = smoke.series()
            path = f"/v1/instruments/{smoke.SYMBOL}/prices"
            try:
                posted = self.http.post(APP, APP_PORT, path, json=rows)
                if posted.status_code != 200:
                    detail = f"POST {path}: {posted.status_code} {posted.text[:200]}"
                    return Status.FAILED, detail, {}
                self.rows_sent = rows
                got = self.signals()
            except requests.RequestException as exc:
                return Status.FAILED, f"the API did not answer: {exc}", {}
            if got is None:
                return Status.FAILED, "GET signals did not answer 200", {}
            verdict = smoke.compare(got, smoke.expected(rows))
            return (Status.PASSED if verdict.ok else Status.FAILED), verdict.detail, {
                "ingest": posted.json()}
        return self.timed("staging.smoke", body)

    def signals(self) -> list[dict[str, Any]] | None:
        path = (f"/v1/instruments/{smoke.SYMBOL}/signals?short_window={smoke.SHORT}"
                f"&long_window={smoke.LONG}")
        response = self.http.get(APP, APP_PORT, path)
        if response.status_code != 200:
            return None
        return list(response.json().get("rows") or [])

    def counter(self, before: float | None, sent: int) -> Check:
        def body() -> tuple[Status, str, dict[str, Any]]:
            if before is None:
                return Status.FAILED, "Prometheus did not answer the counter query", {}
            target = before + sent

            def moved() -> float | None:
                value = self.prom.scalar(f'sum(finsig_http_requests_total{{job="app",'
                                         f'{API_ROUTES}}})')
                return value if value is not None and value >= target else None

            after, took = poll(moved, self.limits.check, self.stop)
            data = {"before": before, "after": after, "api_requests": sent}
            if after is None:
                return (Status.FAILED, f"finsig_http_requests_total did not reach {target:.0f} "
                        f"(was {before:.0f}, {sent} API requests made)", data)
            return (Status.PASSED, f"finsig_http_requests_total {before:.0f} -> {after:.0f} "
                    f"scraped {took:.1f}s after the smoke test", data)
        return self.timed("staging.counter", body)

    # --- fault drill ------------------------------------------------------------------------

    def _alert(self, name: str, since: float) -> tuple[float | None, float | None]:
        """Seconds from `since` until the alert fires in Prometheus, then is active in AM."""
        fired, _ = poll(lambda: True if self.prom.firing(name) else None, self.limits.alert,
                        self.stop)
        if fired is None:
            return None, None
        at_prom = time.monotonic() - since
        received, _ = poll(lambda: True if self.am.active(name) else None, self.limits.alert,
                           self.stop)
        return at_prom, (time.monotonic() - since) if received else None

    def _resolved(self, name: str) -> float | None:
        done, took = poll(lambda: True if self.prom.firing(name) is False else None,
                          self.limits.alert, self.stop)
        return took if done else None

    def _wait_healthy(self, service: str) -> None:
        running = self.stack.get(service)
        HealthyOrExited(service, self.limits.start, self.stop).wait_until_ready(running.container)

    def app_down(self) -> list[Check]:
        app = self.stack.get(APP)
        checks: list[Check] = []

        def fire() -> tuple[Status, str, dict[str, Any]]:
            since = time.monotonic()  # latencies count from the stop command
            app.wrapped.stop(timeout=10)
            stopped = time.monotonic() - since
            at_prom, at_am = self._alert("AppDown", since)
            data = {"prometheus_s": at_prom, "alertmanager_s": at_am, "stop_s": stopped}
            if at_prom is None:
                return (Status.FAILED, f"AppDown not firing {self.limits.alert:.0f}s after the "
                        "app was stopped", data)
            self.report.measure("appdown_firing_s", at_prom)
            if at_am is None:
                return (Status.FAILED, f"AppDown fired after {at_prom:.1f}s but Alertmanager "
                        "never had it", data)
            self.report.measure("appdown_alertmanager_s", at_am)
            return (Status.PASSED, f"firing in Prometheus {at_prom:.1f}s after `docker stop` "
                    f"(which took {stopped:.1f}s), in Alertmanager after {at_am:.1f}s", data)

        def resolve() -> tuple[Status, str, dict[str, Any]]:
            app.wrapped.start()
            self._wait_healthy(APP)
            took = self._resolved("AppDown")
            if took is None:
                return Status.FAILED, "AppDown still firing after the app came back", {}
            return Status.PASSED, f"app healthy again, AppDown resolved {took:.1f}s later", {}

        checks.append(self.timed("staging.alert.AppDown", fire))
        checks.append(self.timed("staging.resolved.AppDown", resolve))
        return checks

    def postgres_down(self) -> list[Check]:
        db = self.stack.get(DB)
        app = self.stack.get(APP)
        app.wrapped.reload()
        app_started = (app.wrapped.attrs.get("State") or {}).get("StartedAt")
        before = self.signals()

        def fire() -> tuple[Status, str, dict[str, Any]]:
            since = time.monotonic()  # latencies count from the stop command
            db.wrapped.stop(timeout=20)
            not_ready, took_503 = poll(
                lambda: 503 if self.http.status(APP, APP_PORT, "/readyz") == 503 else None,
                self.limits.check, self.stop)
            at_prom, at_am = self._alert("PostgresDown", since)
            data = {"prometheus_s": at_prom, "alertmanager_s": at_am,
                    "readyz_503_s": round(took_503, 3) if not_ready else None}
            problems = []
            if not_ready is None:
                problems.append("app /readyz never answered 503 while Postgres was down")
            if at_prom is None:
                problems.append(f"PostgresDown not firing within {self.limits.alert:.0f}s")
            elif at_am is None:
                problems.append("PostgresDown fired but Alertmanager never had it")
            if problems:
                return Status.FAILED, "; ".join(problems), data
            assert at_prom is not None and at_am is not None
            self.report.measure("postgresdown_firing_s", at_prom)
            self.report.measure("postgresdown_alertmanager_s", at_am)
            return (Status.PASSED, f"app /readyz 503 after {took_503:.1f}s; firing in "
                    f"Prometheus {at_prom:.1f}s after `docker stop`, in Alertmanager after "
                    f"{at_am:.1f}s", data)

        def recover() -> tuple[Status, str, dict[str, Any]]:
            db.wrapped.start()
            self._wait_healthy(DB)
            ready, took = poll(lambda: 200 if self.http.status(APP, APP_PORT, "/readyz") == 200
                               else None, self.limits.check, self.stop)
            app.wrapped.reload()
            state = app.wrapped.attrs.get("State") or {}
            problems = []
            if ready is None:
                problems.append("app /readyz not 200 again after Postgres came back")
            if state.get("StartedAt") != app_started or not state.get("Running"):
                problems.append("the app was restarted (or stopped) meanwhile")
            after = self.signals() if ready else None
            if before is None or after != before:
                problems.append("the smoke data is not the same after the outage")
            resolved = self._resolved("PostgresDown")
            if resolved is None:
                problems.append("PostgresDown still firing")
            if problems:
                return Status.FAILED, "; ".join(problems), {}
            return (Status.PASSED, f"app ready again {took:.1f}s after Postgres was healthy, "
                    f"same process, smoke data intact, PostgresDown resolved", {})

        return [self.timed("staging.alert.PostgresDown", fire),
                self.timed("staging.recovered.PostgresDown", recover)]

    def logs_of_failed(self) -> None:
        for name, running in self.stack.services.items():
            try:
                running.wrapped.reload()
            except Exception:  # noqa: S112 - gone already: nothing to show
                continue
            state = running.wrapped.attrs.get("State") or {}
            health = (state.get("Health") or {}).get("Status")
            if state.get("Status") != "running" or health == "unhealthy":
                self.report.attach_log(name, log_tail(running.wrapped))
