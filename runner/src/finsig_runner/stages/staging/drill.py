"""The fault drill: for each configured fault, stop a service, see its alert fire in Prometheus
and reach Alertmanager, start the service again and see the alert resolve (`resolved`) — or,
for `recovered`, also every readiness probe answer again from the same processes and the read-only
smoke requests answer as before. Latencies count from the `docker stop` command."""

from __future__ import annotations

import time
from typing import Any

from finsig_runner.containers.stack import Running
from finsig_runner.containers.waits import HealthyOrExited, poll
from finsig_runner.core.config import Fault
from finsig_runner.core.model import Check, Status
from finsig_runner.stages.staging import ids
from finsig_runner.stages.staging.checks import Outcome, StagingProbes
from finsig_runner.stages.staging.topology import http_probes, replayable

STOP_TIMEOUT = 20  # seconds docker stop waits before SIGKILL


class FaultDrill:
    def __init__(self, probes: StagingProbes) -> None:
        self.probes = probes
        self.limits = probes.limits

    def run(self, fault: Fault) -> list[Check]:
        kept = self._started_at(exclude=fault.stop)
        target = self.probes.stack.get(fault.stop)
        recover = self._recovered if fault.recovery == "recovered" else self._resolved
        return [self.probes.timed(ids.alert(fault.alert), lambda: self._fire(fault, target)),
                self.probes.timed(ids.recovery(fault), lambda: recover(fault, target, kept))]

    def _started_at(self, exclude: str) -> dict[str, Any]:
        """When each probed service's process started: a restart changes it."""
        started: dict[str, Any] = {}
        for probe in self.probes.topology.settings.ready:
            if probe.service != exclude:
                wrapped = self.probes.stack.get(probe.service).wrapped
                wrapped.reload()
                started[probe.service] = (wrapped.attrs.get("State") or {}).get("StartedAt")
        return started

    def _alert(self, name: str, since: float) -> tuple[float | None, float | None]:
        """Seconds from `since` until the alert fires in Prometheus, then is active in AM."""
        prom, am = self.probes.prom, self.probes.am
        assert prom is not None
        fired, _ = poll(lambda: True if prom.firing(name) else None, self.limits.alert,
                        self.probes.stop)
        if fired is None:
            return None, None
        at_prom = time.monotonic() - since
        if am is None:
            return at_prom, None
        received, _ = poll(lambda: True if am.active(name) else None, self.limits.alert,
                           self.probes.stop)
        return at_prom, (time.monotonic() - since) if received else None

    def _fire(self, fault: Fault, target: Running) -> Outcome:
        since = time.monotonic()
        target.wrapped.stop(timeout=STOP_TIMEOUT)
        stopped = time.monotonic() - since
        down = [(probe, *self.probes.answers(probe)) for probe in fault.while_down]
        at_prom, at_am = self._alert(fault.alert, since)
        data = {"prometheus_s": at_prom, "alertmanager_s": at_am, "stop_s": round(stopped, 3),
                "while_down": [said for _, _, said, _ in down]}
        problems = [f"{said}, not {probe.status} while {fault.stop} was down"
                    for probe, done, said, _ in down if not done]
        with_am = self.probes.am is not None
        if at_prom is None:
            problems.append(f"{fault.alert} not firing {self.limits.alert:.0f}s after "
                            f"`docker stop` of {fault.stop}")
        elif with_am and at_am is None:
            problems.append(f"{fault.alert} fired after {at_prom:.1f}s but Alertmanager "
                            "never had it")
        if problems:
            return Status.FAILED, "; ".join(problems), data
        assert at_prom is not None
        measure = fault.alert.lower()
        self.probes.report.measure(f"{measure}_firing_s", at_prom)
        detail = (f"firing in Prometheus {at_prom:.1f}s after `docker stop` of {fault.stop} "
                  f"(which took {stopped:.1f}s)")
        if at_am is not None:
            self.probes.report.measure(f"{measure}_alertmanager_s", at_am)
            detail += f", in Alertmanager after {at_am:.1f}s"
        else:
            detail += "; no Alertmanager in Prometheus' alerting configuration"
        return Status.PASSED, "; ".join([detail, *(said for _, _, said, _ in down)]), data

    def _back(self, target: Running) -> None:
        target.wrapped.start()
        HealthyOrExited(target.service.name, self.limits.start,
                        self.probes.stop).wait_until_ready(target.container)

    def _gone(self, alert: str) -> float | None:
        prom = self.probes.prom
        assert prom is not None
        done, took = poll(lambda: True if prom.firing(alert) is False else None,
                          self.limits.alert, self.probes.stop)
        return took if done else None

    def _resolved(self, fault: Fault, target: Running, kept: dict[str, Any]) -> Outcome:
        self._back(target)
        took = self._gone(fault.alert)
        if took is None:
            return (Status.FAILED, f"{fault.alert} still firing after {fault.stop} came back",
                    {})
        return (Status.PASSED, f"{fault.stop} healthy again, {fault.alert} resolved "
                f"{took:.1f}s later", {})

    def _recovered(self, fault: Fault, target: Running, kept: dict[str, Any]) -> Outcome:
        self._back(target)
        t0 = time.monotonic()
        problems = [f"{said}, not {probe.status} after {fault.stop} came back"
                    for probe in http_probes(self.probes.topology.settings)
                    for done, said, _ in [self.probes.answers(probe)] if not done]
        ready_s = time.monotonic() - t0
        now = self._started_at(exclude=fault.stop)
        problems += [f"{name} was restarted (or stopped) meanwhile" for name, started in
                     kept.items() if now.get(name) != started or not self._running(name)]
        if not problems:
            for request in replayable(self.probes.topology.settings):
                status, detail = self.probes.send(request)
                if status is not Status.PASSED:
                    problems.append(f"smoke {request.name} after the outage: {detail}")
        if self._gone(fault.alert) is None:
            problems.append(f"{fault.alert} still firing")
        if problems:
            return Status.FAILED, "; ".join(problems), {}
        return (Status.PASSED, f"ready again {ready_s:.1f}s after {fault.stop} was healthy, "
                f"same processes ({', '.join(kept) or 'none probed'}), read-only smoke "
                f"requests answer as before, {fault.alert} resolved", {})

    def _running(self, service: str) -> bool:
        wrapped = self.probes.stack.get(service).wrapped
        return bool((wrapped.attrs.get("State") or {}).get("Running"))
