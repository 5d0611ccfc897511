"""Soak: the staging stage alone, run again and again (as benchmarks/staging.py runs it: the real
StagingStage on the host, the project's images, the fault drill on), each run into its own file.
Expected: every run PASSED and nothing of any run left in Docker.

    .venv/bin/python -m drills soak [--runs 50] [--fresh]
"""

from __future__ import annotations

import json
import os
import tempfile
import time
import uuid
from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

# The host's testcontainers settings (DESIGN: /.dockerenv exists here; no reaper image).
os.environ.setdefault("TESTCONTAINERS_RYUK_DISABLED", "true")
if not os.environ.get("FINSIG_RUNNER_NETWORK"):
    os.environ.setdefault("TESTCONTAINERS_CONNECTION_MODE", "docker_host")
    os.environ.setdefault("TESTCONTAINERS_HOST_OVERRIDE", "127.0.0.1")

import docker  # noqa: E402

from drills.leftovers import leftovers, sweep  # noqa: E402
from drills.machine import ROOT, image_ref, machine  # noqa: E402
from drills.project import WORK  # noqa: E402
from drills.store import Store, each_item  # noqa: E402
from finsig_runner.core.config import RunnerConfig  # noqa: E402
from finsig_runner.core.context import StageContext  # noqa: E402
from finsig_runner.core.model import Status  # noqa: E402
from finsig_runner.stages.staging.stage import StagingStage  # noqa: E402

PART = "soak"
RUNS = 50


def staging_once(item: str, client: Any) -> dict[str, Any]:
    """One run of the staging stage over a scratch workspace; what it did and what it left."""
    run_id = f"soak-{uuid.uuid4().hex[:8]}"
    app_image = image_ref("app")
    started = datetime.now(timezone.utc)
    WORK.mkdir(parents=True, exist_ok=True)
    try:
        with tempfile.TemporaryDirectory(prefix=f"{item}-", dir=WORK) as tmp:
            workspace = Path(tmp)
            config = replace(RunnerConfig(), staging_app_image=app_image,
                             staging_compose=str(ROOT / "docker-compose.staging.yml"))
            ctx = StageContext.create(workspace, config, "staging", run_id)
            ctx.reports.mkdir()
            ctx.artifacts.mkdir()
            clock = time.monotonic()
            result = StagingStage().run(ctx)
            seconds = time.monotonic() - clock
            report = ctx.reports / "deploy-report.json"
            measurements = (json.loads(report.read_text(encoding="utf-8")).get("measurements", {})
                            if report.is_file() else {})
        left = leftovers(client, [run_id], item)
    finally:
        swept = sweep(client, [run_id], item)
    return {
        "run_id": run_id, "app_image": app_image, "started": started.isoformat(timespec="seconds"),
        "status": result.status.value, "reason": result.reason, "seconds": round(seconds, 1),
        "checks": {c.id: c.status.value for c in result.checks}, "measurements": measurements,
        "leftovers": left, "swept": swept, "machine": machine(client),
        "passed": result.status is Status.PASSED and not left,
    }


def run_part(runs: int, fresh: bool) -> int:
    store = Store(PART)
    if fresh:
        store.fresh()
    client = docker.from_env(timeout=300)
    items = [f"run-{index:03d}" for index in range(1, runs + 1)]
    try:
        return each_item(store, items, lambda item: staging_once(item, client), _say)
    finally:
        client.close()


def _say(result: Mapping[str, Any]) -> str:
    left = f", left {len(result['leftovers'])}" if result["leftovers"] else ""
    reason = "" if result["passed"] else f": {result['reason']}"
    return f"{result['status']} in {result['seconds']}s{left}{reason}"
