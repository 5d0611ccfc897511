"""Durability drill: no acknowledged write is lost when PostgreSQL is killed under load.

Starts PostgreSQL (on a labelled volume) and the app as containers, posts single-row writes at a
steady rate, each with its own (symbol, date) and close, kills PostgreSQL (SIGKILL) mid-load,
starts the same container again, and keeps the load on. Then it reads every stored row and checks
that each acknowledged (200) write is there with its value; it also checks that every error answer
was 503 with Retry-After (a 500 fails the drill) and that /readyz said not ready during the outage
and ready after it, without restarting the app. Raw results:
drills/results/durability/durability.json (`make drills DRILLS=durability` keeps them there).

    .venv/bin/python -m drills.durability [--rate 20] [--before 20] [--down 10] [--after 30]

Exit status: 0 passed, 1 failed (the JSON says why), 2 bad arguments, 3 the drill itself could not
run (e.g. an image is missing), 130 interrupted. Containers, network and volume are removed in
every case.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import time
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path
from types import FrameType
from typing import Any

import docker
import psycopg

from drills.load import Answer, Clock, Load, Probe, Prober
from drills.machine import machine as drill_machine
from drills.stack import Stack
from finsig import __version__

RESULTS = Path(__file__).resolve().parent / "results" / "durability" / "durability.json"


@dataclass(frozen=True)
class Timeline:
    """Seconds since the load started."""

    killed_at: float
    restarted_at: float
    postgres_accepting_at: float
    load_stopped_at: float


@dataclass(frozen=True)
class Writes:
    sent: int
    acknowledged: int
    found: int
    lost: int
    lost_keys: list[str]
    # Not acknowledged (503, cut off while committing) yet stored: outcome unknown to the client.
    unacknowledged_found: int
    answers_by_status: dict[str, int]


@dataclass(frozen=True)
class Outage:
    error_answers: int
    every_error_503_with_retry_after: bool
    server_errors: int
    no_answer: int
    first_503_at: float | None
    first_success_after_at: float | None
    unavailable_seconds: float | None


@dataclass(frozen=True)
class Readiness:
    """Times are those of the answers."""

    probes: int
    not_ready_at: float | None
    ready_again_at: float | None
    detection_seconds: float | None
    ready_answers_during_outage: int
    not_ready_answers_all_503: bool


def _key(symbol: str, day: Any) -> str:
    return f"{symbol}/{day}"


def stored_rows(database_url: str) -> dict[str, float]:
    with psycopg.connect(database_url) as conn:
        rows = conn.execute("SELECT symbol, date, close FROM prices").fetchall()
    return {_key(symbol, day): close for symbol, day, close in rows}


def count_writes(answers: list[Answer], stored: dict[str, float]) -> Writes:
    acknowledged = [a for a in answers if a.status == 200]
    lost = [a for a in acknowledged
            if stored.get(_key(a.write.symbol, a.write.date)) != a.write.close]
    unacknowledged_found = sum(
        1 for a in answers
        if a.status != 200 and stored.get(_key(a.write.symbol, a.write.date)) == a.write.close
    )
    by_status: dict[str, int] = {}
    for answer in answers:
        name = str(answer.status) if answer.status is not None else f"no answer ({answer.error})"
        by_status[name] = by_status.get(name, 0) + 1
    return Writes(
        sent=len(answers),
        acknowledged=len(acknowledged),
        found=len(acknowledged) - len(lost),
        lost=len(lost),
        lost_keys=[_key(a.write.symbol, a.write.date) for a in lost[:100]],
        unacknowledged_found=unacknowledged_found,
        answers_by_status=dict(sorted(by_status.items())),
    )


def measure_outage(answers: list[Answer]) -> Outage:
    errors = [a for a in answers if a.status != 200]
    first_503 = min((a.answered_at for a in answers if a.status == 503), default=None)
    first_success = None
    if first_503 is not None:
        first_success = min(
            (a.answered_at for a in answers if a.status == 200 and a.answered_at > first_503),
            default=None,
        )
    window = None
    if first_503 is not None and first_success is not None:
        window = round(first_success - first_503, 3)
    return Outage(
        error_answers=len(errors),
        every_error_503_with_retry_after=all(a.status == 503 and a.retry_after for a in errors),
        server_errors=sum(1 for a in errors if a.status is not None and a.status >= 500
                          and a.status != 503),
        no_answer=sum(1 for a in errors if a.status is None),
        first_503_at=first_503,
        first_success_after_at=first_success,
        unavailable_seconds=window,
    )


def follow_readiness(probes: list[Probe], timeline: Timeline) -> Readiness:
    not_ready = next((p.at for p in probes if p.at >= timeline.killed_at and p.status != 200),
                     None)
    ready_again = next((p.at for p in probes if p.at >= timeline.restarted_at
                        and p.status == 200), None)
    outage_end = ready_again if ready_again is not None else float("inf")
    during = [p for p in probes if not_ready is not None and not_ready <= p.at < outage_end]
    return Readiness(
        probes=len(probes),
        not_ready_at=not_ready,
        ready_again_at=ready_again,
        detection_seconds=None if not_ready is None else round(not_ready - timeline.killed_at, 3),
        ready_answers_during_outage=sum(1 for p in during if p.status == 200),
        not_ready_answers_all_503=all(p.status == 503 for p in probes if p.status != 200),
    )


@dataclass(frozen=True)
class AppLog:
    lines_by_level: dict[str, int]
    errors: list[str]  # ERROR and CRITICAL lines (an exception would be here), the first 20


def read_app_log(lines: list[str]) -> AppLog:
    levels: dict[str, int] = {}
    errors: list[str] = []
    for line in lines:
        try:
            level = str(json.loads(line).get("level", "?"))
        except (ValueError, AttributeError):
            level = "not JSON"
        levels[level] = levels.get(level, 0) + 1
        if level in ("ERROR", "CRITICAL", "not JSON") and len(errors) < 20:
            errors.append(line[:500])
    return AppLog(dict(sorted(levels.items())), errors)


@dataclass(frozen=True)
class Result:
    started: str
    seconds: float
    machine: dict[str, Any]
    parameters: dict[str, Any]
    timeline: Timeline
    writes: Writes
    outage: Outage
    readiness: Readiness
    app_log: AppLog


def failures(result: Result, leftovers: list[str]) -> list[str]:
    writes, outage, readiness = result.writes, result.outage, result.readiness
    checks = {
        f"{writes.lost} acknowledged writes lost": writes.lost == 0,
        f"{outage.server_errors} server errors other than 503": outage.server_errors == 0,
        "an error answer was not 503 with Retry-After": outage.every_error_503_with_retry_after,
        "no 503 during the outage (was the database killed?)": outage.first_503_at is not None,
        "no successful write after the restart": outage.first_success_after_at is not None,
        "/readyz never said not ready": readiness.not_ready_at is not None,
        "/readyz never ready again": readiness.ready_again_at is not None,
        "/readyz said ready during the outage": readiness.ready_answers_during_outage == 0,
        "/readyz answered not ready with other than 503": readiness.not_ready_answers_all_503,
        f"the app logged {len(result.app_log.errors)} errors": not result.app_log.errors,
        f"left behind: {', '.join(leftovers)}": not leftovers,
    }
    return [message for message, ok in checks.items() if not ok]


def machine(stack: Stack) -> dict[str, Any]:
    return {
        **drill_machine(stack.client, images=()),
        "app_image": {"tag": stack.app_image, "id": stack.app.image.id},
        "postgres_image": {"tag": stack.postgres_image, "id": stack.postgres.image.id},
    }


def run(options: argparse.Namespace, stack: Stack) -> Result:
    started = datetime.now(timezone.utc)
    stack.start()
    clock = Clock()
    load = Load(stack.app_url, options.rate, options.workers, clock)
    prober = Prober(stack.app_url, 0.25, clock)
    load.start()
    prober.start()
    try:
        time.sleep(options.before)
        killed_at = clock.now()
        stack.kill_postgres()
        time.sleep(options.down)
        restarted_at = clock.now()
        stack.start_postgres()
        stack.wait_postgres(120)
        accepting_at = clock.now()
        time.sleep(max(0.0, restarted_at + options.after - clock.now()))
        stopped_at = clock.now()
        answers = load.stop()
        probes = prober.stop()
    except BaseException:
        load.abandon()
        prober.stopping.set()
        raise
    timeline = Timeline(killed_at, restarted_at, accepting_at, stopped_at)
    return Result(
        started=started.isoformat(timespec="seconds"),
        seconds=round((datetime.now(timezone.utc) - started).total_seconds(), 1),
        machine=machine(stack),
        parameters={k: v for k, v in vars(options).items() if k != "output"},
        timeline=timeline,
        writes=count_writes(answers, stored_rows(stack.database_url)),
        outage=measure_outage(answers),
        readiness=follow_readiness(probes, timeline),
        app_log=read_app_log(stack.app_log()),
    )


def _interrupted(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m drills.durability", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rate", type=float, default=20.0, help="writes a second (20)")
    parser.add_argument("--before", type=float, default=20.0,
                        help="seconds of load before the kill (20)")
    parser.add_argument("--down", type=float, default=10.0,
                        help="seconds PostgreSQL stays down (10)")
    parser.add_argument("--after", type=float, default=30.0,
                        help="seconds of load after the restart (30)")
    parser.add_argument("--workers", type=int, default=64, help="writes in flight at most (64)")
    parser.add_argument("--app-image", default=f"finsig/app:{__version__}")
    parser.add_argument("--postgres-image", default=f"finsig/postgres:{__version__}")
    parser.add_argument("--output", type=Path, default=RESULTS)
    options = parser.parse_args(argv)
    durations = (options.before, options.down, options.after)
    if options.rate <= 0 or options.workers < 1 or min(durations) < 0:
        parser.error("--rate and --workers must be positive, durations not negative")
    return options


def main(argv: list[str] | None = None) -> int:
    options = parse(sys.argv[1:] if argv is None else argv)
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, _interrupted)
    stack = Stack(options.postgres_image, options.app_image)
    try:
        result = run(options, stack)
    except KeyboardInterrupt:
        print("durability: interrupted; its containers are removed", file=sys.stderr)
        return 130
    except (TimeoutError, docker.errors.DockerException, psycopg.Error) as exc:
        print(f"durability: ERROR: the drill could not run: {exc}", file=sys.stderr)
        return 3
    finally:
        stack.remove()
    problems = failures(result, stack.leftovers())
    document = {"drill": "durability", **asdict(result), "passed": not problems,
                "failures": problems}
    options.output.parent.mkdir(parents=True, exist_ok=True)
    options.output.write_text(json.dumps(document, indent=2) + "\n")
    writes, outage = result.writes, result.outage
    verdict = "PASSED" if not problems else "FAILED: " + "; ".join(problems)
    print(
        f"durability: {verdict}: sent {writes.sent}, acknowledged {writes.acknowledged}, "
        f"found {writes.found}, lost {writes.lost}, unavailable {outage.unavailable_seconds} s "
        f"({options.output})"
    )
    return 0 if not problems else 1


if __name__ == "__main__":
    sys.exit(main())
