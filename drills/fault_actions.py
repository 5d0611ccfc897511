"""Faults injected while the run runs, from the host: a container killed, a signal sent."""

from __future__ import annotations

import json
import signal
import time
from typing import Any

from drills.context import Context
from drills.leftovers import leftovers
from drills.pipeline import LOG, ImageRun, Step, command, read_log, until
from drills.project import InjectionError
from finsig_runner.containers.resources import RUN_LABEL, STAGE_LABEL

SERVICE_LABEL = "finsig.service"  # the compose file's label on each staging service
INTERRUPT_WINDOW = (5.0, 100.0)  # seconds after `docker run`: a full run takes about 120 s


def staging_containers(client: Any, run_id: str, service: str | None = None) -> list[Any]:
    labels = [f"{RUN_LABEL}={run_id}", f"{STAGE_LABEL}=staging"]
    if service:
        labels.append(f"{SERVICE_LABEL}={service}")
    return list(client.containers.list(all=True, filters={"label": labels}))


def _healthy(client: Any, run_id: str, service: str) -> bool:
    found = staging_containers(client, run_id, service)
    return bool(found) and found[0].attrs.get("State", {}).get("Health", {}).get(
        "Status") == "healthy"


def _run_id(run: ImageRun) -> str:
    if not until(lambda: bool(run.run_id()), run, 120):
        raise InjectionError("the run never said its run id")
    return run.run_id()


def kill_postgres_mid_staging(ctx: Context) -> None:
    """SIGKILL the staging PostgreSQL as soon as the app is healthy (staging's checks begin)."""
    run = ctx.image_run
    run_id = _run_id(run)
    if not until(lambda: _healthy(ctx.client, run_id, "app"), run, 900):
        raise InjectionError("the staging app never got healthy while the run ran")
    postgres = staging_containers(ctx.client, run_id, "postgres")[0]
    postgres.kill()
    ctx.notes["killed"] = {"container": postgres.name, "signal": "SIGKILL",
                           "at_s": round(run.elapsed(), 1)}


def running_stages(run: ImageRun) -> list[str]:
    """Stages started and not yet ended, as the event log says."""
    path = run.workspace / LOG
    started: list[str] = []
    if path.is_file():
        for raw in path.read_bytes().splitlines():
            record = json.loads(raw)
            if record.get("event") == "stage_start":
                started.append(str(record.get("stage")))
    ended = read_log(run.workspace).stages
    return [stage for stage in started if stage not in ended]


def interrupt(run: ImageRun, moment: float, signal_name: str) -> dict[str, Any]:
    """Send `signal_name` to the docker client at `moment` s after it started (as Ctrl-C or a
    SIGTERM to pipeline.sh would; the client passes it on to the runner)."""
    while run.running() and run.elapsed() < moment:
        time.sleep(min(0.2, max(0.0, moment - run.elapsed())))
    if not run.running():
        return {"signal": signal_name, "moment_s": round(moment, 2), "sent": False,
                "why": f"the run had ended at {run.elapsed():.1f}s"}
    stages = running_stages(run)
    run.signal_client(getattr(signal, signal_name))
    return {"signal": signal_name, "moment_s": round(moment, 2), "sent": True,
            "sent_at_s": round(run.elapsed(), 2), "running": stages}


def sigint_at_random(ctx: Context) -> None:
    moment = ctx.rng.uniform(*INTERRUPT_WINDOW)
    ctx.notes["interrupt"] = interrupt(ctx.image_run, moment, "SIGINT")
    if not ctx.notes["interrupt"]["sent"]:
        raise InjectionError(ctx.notes["interrupt"]["why"])


def sigkill_in_staging(ctx: Context) -> None:
    """`docker kill --signal KILL` the runner container once the staging stack is up."""
    run = ctx.image_run
    run_id = _run_id(run)
    if not until(lambda: len(staging_containers(ctx.client, run_id)) >= 3, run, 900):
        raise InjectionError("no staging stack appeared while the run ran")
    time.sleep(2.0)
    run.docker_kill("KILL")
    ctx.notes["killed"] = {"container": run.name, "signal": "SIGKILL",
                           "at_s": round(run.elapsed(), 1),
                           "staging_containers": len(staging_containers(ctx.client, run_id))}


def clean_after_kill(ctx: Context) -> list[Step]:
    """What the killed run left, then `finsig-runner clean --run ID` on the host."""
    run_id = ctx.image_run.run_id()
    ctx.notes["left_before_clean"] = leftovers(ctx.client, [run_id], ctx.item,
                                               [ctx.image_run.host()])
    if not ctx.notes["left_before_clean"]:
        raise InjectionError("the killed run left nothing: the kill came too late to test clean")
    return [command("clean", "clean", "--run", run_id)]
