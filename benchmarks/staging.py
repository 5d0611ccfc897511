#!/usr/bin/env python3
"""Benchmark the staging stage: time to all-green, teardown, AppDown / PostgresDown firing latency.

Runs the real `staging` stage N times against the project's images (the compose file's default
app image unless --app-image), reads each run's reports/deploy-report.json and writes
docs/performance.md: median and spread of every measurement, every raw run, the commit and the
machine. Not part of the tests (a run takes about a minute).

    .venv/bin/python benchmarks/staging.py --runs 10            # writes docs/performance.md
    .venv/bin/python benchmarks/staging.py --runs 2 --output -  # print only
    .venv/bin/python benchmarks/staging.py --runs 10 --raw /tmp/raw.json --note "..."
    .venv/bin/python benchmarks/staging.py --render /tmp/raw.json   # the doc again, no runs
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "runner" / "src"))

os.environ.setdefault("TESTCONTAINERS_RYUK_DISABLED", "true")
if not os.environ.get("FINSIG_RUNNER_NETWORK"):
    os.environ.setdefault("TESTCONTAINERS_CONNECTION_MODE", "docker_host")
    os.environ.setdefault("TESTCONTAINERS_HOST_OVERRIDE", "127.0.0.1")

from finsig_runner.core.config_loader import load  # noqa: E402
from finsig_runner.core.context import StageContext  # noqa: E402
from finsig_runner.stages.staging.stage import StagingStage  # noqa: E402

METRICS = {
    "all_green_s": "time to all-green (bring-up until every service healthy)",
    "teardown_s": "teardown (every container, the network, the volume removed)",
    "appdown_firing_s": "AppDown firing in Prometheus after `docker stop` of the app",
    "appdown_alertmanager_s": "AppDown received by Alertmanager after `docker stop` of the app",
    "postgresdown_firing_s": "PostgresDown firing in Prometheus after `docker stop` of Postgres",
    "postgresdown_alertmanager_s": "PostgresDown in Alertmanager after `docker stop` of Postgres",
}


def one_run(index: int, app_image: str) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="finsig-bench-") as tmp:
        workspace = Path(tmp)
        shutil.copytree(ROOT / "staging", workspace / "staging")  # the smoke files
        config = replace(load(ROOT, {}), staging_compose=str(ROOT / "docker-compose.staging.yml"),
                         staging_app_image=app_image)
        ctx = StageContext.create(workspace, config, "staging", f"bench-{uuid.uuid4().hex[:8]}")
        ctx.reports.mkdir()
        ctx.artifacts.mkdir()
        started = time.monotonic()
        result = StagingStage.for_config(config).run(ctx)
        total = time.monotonic() - started
        doc = json.loads((ctx.reports / "deploy-report.json").read_text())
    row = {"run": index, "status": result.status.value, "reason": result.reason, "total_s": total,
           **{k: doc["measurements"].get(k) for k in METRICS}}
    print(f"run {index}: {result.status.value} " + " ".join(
        f"{k}={row[k]}" for k in ("total_s", *METRICS) if row[k] is not None), flush=True)
    return row


def _cmd(argv: list[str]) -> str:
    try:
        return subprocess.run(argv, capture_output=True, text=True, check=False,  # noqa: S603
                              cwd=ROOT, timeout=30).stdout.strip()
    except OSError:
        return "unknown"


def machine() -> dict[str, str]:
    mem = "unknown"
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    except OSError:
        pass
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "commit": _cmd(["git", "rev-parse", "HEAD"]) or "unknown",
        "cpus": str(os.cpu_count()),
        "cpu": cpu,
        "memory": mem,
        "kernel": platform.release(),
        "docker": _cmd(["docker", "version", "--format", "{{.Server.Version}}"]) or "unknown",
        "python": platform.python_version(),
    }


def _fmt(value: float | None) -> str:
    return "–" if value is None else f"{value:.2f}"


def render(rows: list[dict[str, Any]], info: dict[str, str], when: str, note: str = "") -> str:
    ok = [r for r in rows if r["status"] == "PASSED"]
    lines = [
        "# Performance: the staging stage",
        "",
        f"Written by `benchmarks/staging.py` on {when} (do not edit by hand; re-run it).",
        f"{len(rows)} runs of the real `staging` stage (six services from "
        "`docker-compose.staging.yml`, the compose file's app image, fault drill on), "
        f"{len(ok)} PASSED.",
        "",
        f"Machine: {info['cpus']} CPUs ({info['cpu']}), {info['memory']} RAM, kernel "
        f"{info['kernel']}, Docker engine {info['docker']}, Python {info['python']}.  ",
        f"Commit: `{info['commit']}`.",
        "",
        *([note, ""] if note else []),
        "## Summary (seconds, PASSED runs)",
        "",
        "| Measurement | median | min | max | stdev | n |",
        "|---|---|---|---|---|---|",
    ]
    for key, label in {"total_s": "whole stage (bring-up, checks, drill, teardown)",
                       **METRICS}.items():
        values = [float(r[key]) for r in ok if r.get(key) is not None]
        if not values:
            lines.append(f"| {label} | – | – | – | – | 0 |")
            continue
        stdev = statistics.stdev(values) if len(values) > 1 else 0.0
        lines.append(f"| {label} | {statistics.median(values):.2f} | {min(values):.2f} | "
                     f"{max(values):.2f} | {stdev:.2f} | {len(values)} |")
    lines += [
        "",
        "AppDown and PostgresDown have `for: 10s` with 2 s scrape and evaluation intervals "
        "(monitoring/prometheus.yml): they cannot fire sooner than 10 s after the fault, and are "
        "expected within about 10–14 s. Latencies are measured from the moment `docker stop` "
        "was issued, by polling Prometheus' and Alertmanager's APIs every 0.5 s.",
        "",
        "## Every run",
        "",
        "| run | status | total | all-green | teardown | AppDown (Prom / AM) | "
        "PostgresDown (Prom / AM) |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['run']} | {r['status']} | {_fmt(r['total_s'])} | {_fmt(r['all_green_s'])} | "
            f"{_fmt(r['teardown_s'])} | {_fmt(r['appdown_firing_s'])} / "
            f"{_fmt(r['appdown_alertmanager_s'])} | {_fmt(r['postgresdown_firing_s'])} / "
            f"{_fmt(r['postgresdown_alertmanager_s'])} |")
    failed = [r for r in rows if r["status"] != "PASSED"]
    if failed:
        lines += ["", "Runs that did not pass:", ""]
        lines += [f"- run {r['run']}: {r['status']}: {r['reason']}" for r in failed]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--app-image", default="", help="default: the compose file's")
    parser.add_argument("--output", default=str(ROOT / "docs" / "performance.md"),
                        help="where to write the Markdown ('-' prints it)")
    parser.add_argument("--note", default="", help="a paragraph for the doc (load, context)")
    parser.add_argument("--raw", help="also write every run's numbers to this JSON file")
    parser.add_argument("--commit", help="with --render: the commit the runs used (default HEAD)")
    parser.add_argument("--render", metavar="RAW",
                        help="do not run: render the doc from a --raw file written before")
    args = parser.parse_args(argv)
    if args.render:
        rows = json.loads(Path(args.render).read_text(encoding="utf-8"))
    else:
        rows = [one_run(i + 1, args.app_image) for i in range(args.runs)]
    if args.raw:
        Path(args.raw).write_text(json.dumps(rows, indent=1) + "\n", encoding="utf-8")
    info = machine()
    if args.commit:
        info["commit"] = args.commit
    text = render(rows, info, datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"), args.note)
    if args.output == "-":
        print(text)
    else:
        Path(args.output).write_text(text, encoding="utf-8")
        print(f"wrote {args.output}")
    return 0 if all(r["status"] == "PASSED" for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
