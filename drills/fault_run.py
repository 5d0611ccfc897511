"""Running the fault catalogue (drills/faults.py), one fault at a time, each into its own file."""

from __future__ import annotations

import random
import time
from collections.abc import Mapping
from datetime import datetime, timezone
from typing import Any

import docker

from drills.context import Context
from drills.expect import judge
from drills.faults import CATALOGUE, FAULTS, Fault
from drills.leftovers import leftovers, sweep
from drills.machine import machine
from drills.pipeline import ImageRun, Step, finish
from drills.project import InjectionError, project_copy
from drills.store import Store, each_item, part_seed

PART = "faults"


def _pipeline_steps(fault: Fault, ctx: Context) -> list[Step]:
    with project_copy(fault.name, fault.tmpfs) as copy:
        ctx.copy = copy
        args = list(fault.args) + (fault.plant(ctx) if fault.plant else [])
        copy.commit(f"drill: {fault.name}")
        copy.own()
        ctx.run = ImageRun(copy.root, tuple(args), fault.name, socket=fault.socket)
        try:
            if fault.during is not None:
                try:
                    fault.during(ctx)
                except InjectionError as exc:
                    ctx.notes["injection_error"] = str(exc)
            steps = [finish(ctx.run, fault.timeout)]
        finally:
            ctx.run.stop()
        if fault.after is not None and "injection_error" not in ctx.notes:
            steps += fault.after(ctx)
        ctx.notes["leftovers"] = leftovers(ctx.client, _run_ids(steps), fault.name,
                                           [ctx.run.host()])
        return steps


def _run_ids(steps: list[Step]) -> list[str]:
    return [s.run_id for s in steps if s.run_id]


def record(fault: Fault, steps: list[Step], notes: dict[str, Any], *, left: list[str],
           error: str | None, **facts: Any) -> dict[str, Any]:
    """One fault's raw result: the steps, each expectation judged, what was left, the verdict.
    `facts`: seed, started, seconds, machine, swept."""
    judgements = [judge(e, steps) for e in fault.expect]
    return {
        "fault": fault.to_json(), **facts, "steps": [s.to_json() for s in steps],
        "notes": notes, "judgements": [j.to_json() for j in judgements], "leftovers": left,
        "injection_error": error,
        "caught": error is None and not left and all(j.ok for j in judgements),
    }


def run_one(fault: Fault, seed: int, client: Any) -> dict[str, Any]:
    """Inject the fault, run, observe, then sweep. The raw result of one item."""
    ctx = Context(fault.name, client, random.Random(f"{seed}:{fault.name}"))  # nosec B311
    started, info = datetime.now(timezone.utc), machine(client)
    clock = time.monotonic()
    steps: list[Step] = []
    try:
        if fault.pipeline:
            steps = _pipeline_steps(fault, ctx)
        else:
            steps = fault.after(ctx) if fault.after is not None else []
            ctx.notes["leftovers"] = leftovers(client, [], fault.name)
    except InjectionError as exc:
        ctx.notes["injection_error"] = str(exc)
    finally:
        run_ids = _run_ids(steps) or ([ctx.run.run_id()] if ctx.run is not None else [])
        hosts = [ctx.run.host()] if ctx.run is not None else []
        swept = sweep(client, [r for r in run_ids if r], fault.name, hosts)
    left = list(ctx.notes.pop("leftovers", []))
    error = ctx.notes.pop("injection_error", None)
    return record(fault, steps, ctx.notes, left=left, error=error, seed=seed,
                  started=started.isoformat(timespec="seconds"),
                  seconds=round(time.monotonic() - clock, 1), machine=info,
                  swept=swept)


def _summary(result: Mapping[str, Any]) -> str:
    if result["injection_error"]:
        return f"NOT INJECTED: {result['injection_error']}"
    parts = [f"{j['status']}, exit {j['exit_code']}" for j in result["judgements"]]
    verdict = "caught" if result["caught"] else "DIFFERS"
    left = f"; left behind: {', '.join(result['leftovers'])}" if result["leftovers"] else ""
    return f"{verdict} ({'; '.join(parts)}){left} in {result['seconds']}s"


def run_part(only: list[str] | None, fresh: bool, seed: int | None) -> int:
    """Every fault not yet done (of those named, or all); returns how many were run. --fresh
    forgets the named faults' results (all of the part's, with no names) first."""
    store = Store(PART)
    unknown = sorted(set(only or ()) - set(FAULTS))
    if unknown:
        raise SystemExit(f"drills: no such fault: {', '.join(unknown)} "
                         f"(known: {', '.join(FAULTS)})")
    if fresh and only:  # those faults again; the others' results and the seed stay
        for name in only:
            store.forget(name)
    elif fresh:
        store.fresh()
    chosen = [f for f in CATALOGUE if only is None or f.name in only]
    seed = part_seed(store, seed)
    print(f"faults: seed {seed} (replay with --fresh --seed {seed})", flush=True)
    client = docker.from_env(timeout=300)

    def one(name: str) -> dict[str, Any]:
        print(f"faults: {name}: {FAULTS[name].cause}", flush=True)
        return run_one(FAULTS[name], seed, client)

    try:
        return each_item(store, [f.name for f in chosen], one, _summary)
    finally:
        client.close()
