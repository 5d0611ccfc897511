"""The deploy report: reports/deploy-report.log (timestamped lines) and deploy-report.json."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from finsig_runner.core.model import Check, Status
from finsig_runner.core.outputs import OutputWriter


def _stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


@dataclass(frozen=True)
class TimedCheck:
    check: Check
    started: datetime
    seconds: float
    data: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {**self.check.to_json(), "started": _stamp(self.started),
                "seconds": round(self.seconds, 3), "data": self.data}


class DeployReport:
    """Collects lines and checks while staging runs (thread-safe); written once at the end."""

    def __init__(self, run_id: str) -> None:
        self.run_id = run_id
        self.started = datetime.now(UTC)
        self._t0 = time.monotonic()
        self._lock = threading.Lock()
        self.lines: list[str] = []
        self.checks: list[TimedCheck] = []
        self.measurements: dict[str, float] = {}
        self.services: dict[str, dict[str, Any]] = {}
        self.logs: dict[str, str] = {}  # service -> last log lines, when something went wrong

    def elapsed(self) -> float:
        return time.monotonic() - self._t0

    def log(self, message: str) -> None:
        line = f"{_stamp(datetime.now(UTC))} +{self.elapsed():7.2f}s  {message}"
        with self._lock:
            self.lines.append(line)

    def add(self, check: Check, started: datetime, seconds: float,
            data: dict[str, Any] | None = None) -> Check:
        with self._lock:
            self.checks.append(TimedCheck(check, started, seconds, data or {}))
        self.log(f"{check.id:<32} {check.status.value:<7} {seconds:6.2f}s  {check.detail}")
        return check

    def measure(self, name: str, seconds: float) -> None:
        with self._lock:
            self.measurements[name] = round(seconds, 3)
        self.log(f"measured {name} = {seconds:.2f}s")

    def attach_log(self, service: str, tail: str) -> None:
        with self._lock:
            self.logs[service] = tail
        self.log(f"last log lines of {service}:")
        for line in tail.splitlines():
            self.log(f"  | {service}: {line}")

    def failed(self) -> list[Check]:
        return [t.check for t in self.checks if t.check.status in (Status.FAILED, Status.ERROR)]

    def write(self, writer: OutputWriter, reports: Path, status: Status,
              reason: str) -> tuple[Path, Path]:
        """reports/deploy-report.log and .json, through the run's one writer."""
        text = reports / "deploy-report.log"
        body = [f"FINSIG staging deploy report - run {self.run_id}", *self.lines,
                f"{_stamp(datetime.now(UTC))} result {status.value}"
                + (f": {reason}" if reason else "")]
        writer.text(text, "\n".join(body) + "\n")
        doc = {
            "run_id": self.run_id,
            "started": _stamp(self.started),
            "ended": _stamp(datetime.now(UTC)),
            "status": status.value,
            "reason": reason,
            "checks": [c.to_json() for c in self.checks],
            "measurements": self.measurements,
            "services": self.services,
            "logs": self.logs,
        }
        data = reports / "deploy-report.json"
        writer.json(data, doc)
        return text, data
