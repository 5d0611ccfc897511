"""What staging proves once the stack is up: readiness, targets, rules, smoke requests, scraping.

Each step is a timed Check in the deploy report; the fault drill is in drill.py.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import requests

from finsig_runner.containers.probes import Alertmanager, Http, Prometheus
from finsig_runner.containers.stack import Stack
from finsig_runner.containers.waits import StackError, log_tail, poll
from finsig_runner.core.config import Probe, Scrape, SmokeRequest
from finsig_runner.core.model import Check, Status
from finsig_runner.stages.staging import ids
from finsig_runner.stages.staging.expect import match
from finsig_runner.stages.staging.report import DeployReport
from finsig_runner.stages.staging.topology import Topology

Outcome = tuple[Status, str, dict[str, Any]]


@dataclass(frozen=True)
class Limits:
    check: float
    alert: float
    start: float


def selector(scrape: Scrape) -> str:
    """`metric{labels}` (or the bare metric): the series that prove scraping."""
    return f"{scrape.metric}{{{scrape.labels}}}" if scrape.labels else scrape.metric


class StagingProbes:
    """The checks after bring-up, against the running stack (services reached through reach)."""

    def __init__(self, stack: Stack, report: DeployReport, limits: Limits,
                 stop: Callable[[], bool], topology: Topology) -> None:
        self.stack, self.report, self.limits, self.stop = stack, report, limits, stop
        self.topology = topology
        self.http = Http(lambda service, port: stack.get(service).address(port))
        mon = topology.monitoring
        self.prom = (Prometheus(self.http, mon.prometheus.service, mon.prometheus.port)
                     if mon.prometheus else None)
        self.am = (Alertmanager(self.http, mon.alertmanager.service, mon.alertmanager.port)
                   if mon.alertmanager else None)
        self.sent: Counter[str] = Counter()  # smoke requests sent, by service

    def timed(self, check_id: str, body: Callable[[], Outcome]) -> Check:
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

    # --- readiness --------------------------------------------------------------------------

    def answers(self, probe: Probe) -> tuple[bool, str, float]:
        """Poll until the probe answers its status; (answered, what it last said, seconds)."""
        if probe.healthcheck_only:
            def healthy() -> bool | None:
                return True if self.health(probe.service) == "healthy" else None
            done, took = poll(healthy, self.limits.check, self.stop)
            said = f"{probe.service} healthcheck {self.health(probe.service)}"
            return bool(done), said, took
        done, took = poll(lambda: True if self.status(probe) == probe.status else None,
                          self.limits.check, self.stop)
        code = probe.status if done else self.status(probe)
        said = (f"{probe.service} GET {probe.path} (port {probe.port}) answered "
                f"{code if code is not None else 'nothing'}")
        return bool(done), said, took

    def status(self, probe: Probe) -> int | None:
        assert probe.port is not None
        return self.http.status(probe.service, probe.port, probe.path)

    def health(self, service: str) -> str | None:
        wrapped = self.stack.get(service).wrapped
        wrapped.reload()
        return ((wrapped.attrs.get("State") or {}).get("Health") or {}).get("Status")

    def ready(self, probe: Probe) -> Check:
        def body() -> Outcome:
            done, said, took = self.answers(probe)
            if not done:
                want = "healthy" if probe.healthcheck_only else str(probe.status)
                return (Status.FAILED, f"{said}, not {want} within {self.limits.check:.0f}s",
                        {"seconds": round(took, 3)})
            return Status.PASSED, said, {"seconds": round(took, 3)}
        return self.timed(ids.ready(probe.service), body)

    # --- Prometheus: targets and rules --------------------------------------------------------

    def targets(self) -> Check:
        prom, expected = self.prom, self.topology.monitoring.jobs
        if prom is None:
            return self.timed(ids.TARGETS, self._no_prometheus)
        last: list[dict[str, Any]] = []

        def all_up() -> bool | None:
            nonlocal last
            targets = prom.targets()
            if targets is None:
                return None
            last = targets
            jobs = {t.get("labels", {}).get("job") for t in targets}
            ok = set(expected) <= jobs and all(t.get("health") == "up" for t in targets)
            return True if ok else None

        def body() -> Outcome:
            done, _ = poll(all_up, self.limits.check, self.stop)
            summary = [{"job": t.get("labels", {}).get("job"), "url": t.get("scrapeUrl"),
                        "health": t.get("health"), "error": t.get("lastError")} for t in last]
            if done:
                return Status.PASSED, f"{len(last)} targets up: " + ", ".join(
                    sorted(str(s["job"]) for s in summary)), {"targets": summary}
            seen = {s["job"] for s in summary}
            bad = [f"{s['job']} {s['url']} {s['health']}: {s['error']}" for s in summary
                   if s["health"] != "up"]
            bad += [f"{job}: no target" for job in expected if job not in seen]
            return (Status.FAILED, f"not every target up within {self.limits.check:.0f}s: "
                    + "; ".join(bad), {"targets": summary})
        return self.timed(ids.TARGETS, body)

    def rules(self) -> Check:
        prom, expected = self.prom, self.topology.monitoring.groups
        if prom is None:
            return self.timed(ids.RULES, self._no_prometheus)
        last: list[dict[str, Any]] = []

        def evaluated() -> bool | None:
            nonlocal last
            groups = prom.rule_groups()
            if groups is None:
                return None
            last = groups
            names = {g.get("name") for g in groups}
            rules = [r for g in groups for r in g.get("rules") or []]
            if any(r.get("health") == "err" for r in rules):
                return True  # decided: an evaluation error does not go away by waiting
            ok = set(expected) <= names and all(r.get("health") == "ok" for r in rules)
            return True if ok else None

        def body() -> Outcome:
            done, _ = poll(evaluated, self.limits.check, self.stop)
            rules = [(str(g.get("name")), r) for g in last for r in g.get("rules") or []]
            table = [{"group": g, "rule": r.get("name"), "health": r.get("health"),
                      "error": r.get("lastError", "")} for g, r in rules]
            bad = [f"{t['group']}/{t['rule']} {t['health']}: {t['error']}" for t in table
                   if t["health"] != "ok"]
            missing = [g for g in expected if g not in {t["group"] for t in table}]
            if done and not bad and not missing:
                return (Status.PASSED, f"{len(last)} groups, {len(table)} rules loaded and "
                        "evaluated without error", {"rules": table})
            problems = [f"group {g} not loaded" for g in missing] + bad
            return Status.FAILED, "; ".join(problems) or "rules not evaluated in time", {
                "rules": table}
        return self.timed(ids.RULES, body)

    def _no_prometheus(self) -> Outcome:
        return Status.SKIPPED, f"no Prometheus in the stack: {self.topology.monitoring.absent}", {}

    # --- smoke requests -----------------------------------------------------------------------

    def send(self, request: SmokeRequest) -> tuple[Status, str]:
        """Send one smoke request; PASSED when its status and expectation hold."""
        where = f"{request.method} {request.path}"
        body = self.topology.bodies.get(request.name)
        try:
            response = self.http.request(request.method, request.service, request.port,
                                         request.path,
                                         **({"json": body} if body is not None else {}))
        except requests.RequestException as exc:
            return Status.FAILED, f"{request.service} {where}: no answer: {exc}"
        self.sent[request.service] += 1
        if response.status_code != request.status:
            return (Status.FAILED, f"{request.service} {where}: {response.status_code}, not "
                    f"{request.status}: {response.text[:200]}")
        if request.name not in self.topology.expectations:
            return Status.PASSED, f"{request.service} {where}: {response.status_code}"
        try:
            answer = response.json()
        except ValueError:
            return Status.FAILED, f"{request.service} {where}: the answer is not JSON"
        found = match(answer, self.topology.expectations[request.name], request.tolerance)
        if not found.ok:
            return Status.FAILED, f"{request.service} {where}: {found.problem}"
        return (Status.PASSED, f"{request.service} {where}: {response.status_code}, "
                f"{found.compared} expected values held")

    def smoke(self, request: SmokeRequest) -> Check:
        def body() -> Outcome:
            status, detail = self.send(request)
            return status, detail, {}
        return self.timed(ids.smoke(request.name), body)

    # --- scraping -----------------------------------------------------------------------------

    def metric_sum(self) -> float | None:
        """The scrape metric's sum now (0 when it has no sample yet); None: no answer."""
        scrape, prom = self.topology.settings.scrape, self.prom
        if scrape is None or prom is None:
            return None
        query = f"sum({selector(scrape)}) or vector(0)"
        value, _ = poll(lambda: prom.scalar(query), self.limits.check, self.stop)
        return value

    def scrape(self, before: float | None) -> Check:
        scrape, prom = self.topology.settings.scrape, self.prom
        assert scrape is not None and prom is not None
        metric = selector(scrape)
        sent = self.sent[scrape.service] if scrape.service else sum(self.sent.values())

        def body() -> Outcome:
            if before is None:
                return Status.FAILED, f"Prometheus did not answer the query sum({metric})", {}
            target = before + sent

            def moved() -> float | None:
                count = prom.scalar(f"count({metric})")
                value = prom.scalar(f"sum({metric})")
                ok = count and value is not None and value >= target
                return value if ok else None

            after, took = poll(moved, self.limits.check, self.stop)
            data = {"before": before, "after": after, "requests": sent}
            if after is None:
                return (Status.FAILED, f"{metric} did not reach {target:g} in Prometheus "
                        f"within {self.limits.check:.0f}s (was {before:g}, {sent} smoke "
                        "requests sent)", data)
            return (Status.PASSED, f"{metric} {before:g} -> {after:g}, scraped {took:.1f}s "
                    f"after {sent} smoke requests", data)
        return self.timed(ids.SCRAPE, body)

    # --- when something failed ----------------------------------------------------------------

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
