"""Interrupts: the whole pipeline (the runner image over a fresh copy, as in the fault catalogue)
stopped by SIGINT or SIGTERM at a moment drawn from a seeded generator, again and again.

Each run must exit 130, leave nothing in Docker, and leave an event log whose last line is the
run_end with status INTERRUPTED, which `finsig-runner verify-log` accepts (exit 0) and which
`finsig-runner verify` does not take for a verdict (non-zero). The seed is printed and kept in
drills/results/interrupts/_seed.json: run i draws its signal and moment from (seed, i) alone, so a
resumed part draws what it would have, and `--fresh --seed N` replays a failure.

    .venv/bin/python -m drills interrupts [--runs 20] [--seed N] [--fresh]
"""

from __future__ import annotations

import random
import time
from collections.abc import Mapping
from datetime import datetime, timezone
from typing import Any

import docker

from drills.fault_actions import INTERRUPT_WINDOW, interrupt
from drills.leftovers import leftovers, sweep
from drills.machine import machine
from drills.pipeline import LOG, ImageRun, command, finish, read_log
from drills.project import project_copy
from drills.store import Store, each_item, part_seed

PART = "interrupts"
RUNS = 20
TIMEOUT = 1200.0


def draw(seed: int, index: int) -> tuple[str, float]:
    """Run `index`'s signal and moment (seconds after `docker run`), from the seed alone."""
    rng = random.Random(f"{seed}:{index}")  # nosec B311
    return rng.choice(("SIGINT", "SIGTERM")), round(rng.uniform(*INTERRUPT_WINDOW), 2)


def interrupted_run(item: str, seed: int, index: int, client: Any) -> dict[str, Any]:
    signal_name, moment = draw(seed, index)
    started, info = datetime.now(timezone.utc), machine(client)
    clock = time.monotonic()
    run_ids: list[str] = []
    hosts: list[str] = []
    try:
        with project_copy(item) as copy:
            copy.own()
            run = ImageRun(copy.root, (), item)
            try:
                sent = interrupt(run, moment, signal_name)
                step = finish(run, TIMEOUT)
            finally:
                run.stop()
            run_ids, hosts = ([step.run_id] if step.run_id else []), [run.host()]
            log = read_log(copy.root)
            checks = [command("verify-log", "verify-log", str(copy.root / LOG)),
                      command("verify", "verify", str(copy.root))]
            left = leftovers(client, run_ids, item, hosts)
    finally:
        swept = sweep(client, run_ids, item, hosts)
    verify_log, verify = checks
    clean = {
        "signal sent while the run ran": bool(sent["sent"]),
        "exit 130": step.exit_code == 130,
        "log ends with run_end INTERRUPTED": log.last_event == "run_end"
        and log.run_status == "INTERRUPTED",
        "verify-log exit 0": verify_log.exit_code == 0,
        "verify: no verdict (non-zero)": verify.exit_code not in (0, None),
        "nothing left": not left,
    }
    return {
        "index": index, "seed": seed, "signal": signal_name, "moment_s": moment, "sent": sent,
        "started": started.isoformat(timespec="seconds"),
        "seconds": round(time.monotonic() - clock, 1), "run": step.to_json(),
        "log_last_event": log.last_event, "log_run_status": log.run_status,
        "checks": [c.to_json() for c in checks], "leftovers": left, "swept": swept,
        "machine": info, "conditions": clean, "clean": all(clean.values()),
    }


def run_part(runs: int, fresh: bool, seed: int | None) -> int:
    store = Store(PART)
    if fresh:
        store.fresh()
    seed = part_seed(store, seed)
    print(f"interrupts: seed {seed} (replay with --fresh --seed {seed})", flush=True)
    client = docker.from_env(timeout=300)
    items = [f"run-{index:02d}" for index in range(1, runs + 1)]
    try:
        return each_item(store, items,
                         lambda item: interrupted_run(item, seed, int(item[4:]), client), _say)
    finally:
        client.close()


def _say(result: Mapping[str, Any]) -> str:
    failed = [name for name, ok in result["conditions"].items() if not ok]
    verdict = "clean" if result["clean"] else "NOT CLEAN: " + "; ".join(failed)
    return (f"{result['signal']} at {result['moment_s']}s (running: "
            f"{', '.join(result['sent'].get('running', [])) or '-'}): exit "
            f"{result['run']['exit_code']}, {verdict}")
