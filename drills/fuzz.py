"""Fuzz: the API fuzz test (tests/app/test_fuzz_api.py: schemathesis against the app's OpenAPI
document, the real server on a real PostgreSQL) with far more examples than `make test` gives it.

The counts come from two independent places: pytest's JUnit report (which tests passed, and the
first lines of any failure) and the server's own log, one JSON line per request with its status
(finsig.app's access log), from which the requests and the 5xx answers are counted.

    .venv/bin/python -m drills fuzz [--examples 2000] [--seed N] [--fresh]
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess  # nosec B404
import sys
import tempfile
import time
# our own pytest's JUnit file, never anyone else's XML
import xml.etree.ElementTree as ElementTree  # nosec B405
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import docker

from drills.machine import ROOT, machine
from drills.project import WORK
from drills.store import Store

PART = "fuzz"
EXAMPLES = 2000
TEST = "tests/app/test_fuzz_api.py"
TIMEOUT = 3 * 3600


def junit_counts(path: Path) -> dict[str, Any]:
    """Tests, failures, errors, skipped and time, and each failing test with its first lines."""
    if not path.is_file():
        return {"tests": 0, "failures": 0, "errors": 0, "skipped": 0, "failed": []}
    root = ElementTree.parse(path).getroot()  # nosec B314
    suites = [root] if root.tag == "testsuite" else list(root.iter("testsuite"))
    counts = {key: sum(int(s.get(key, 0)) for s in suites)
              for key in ("tests", "failures", "errors", "skipped")}
    failed = []
    for case in root.iter("testcase"):
        for problem in [*case.iter("failure"), *case.iter("error")]:
            text = (problem.get("message") or problem.text or "").strip()
            failed.append({"test": f"{case.get('classname')}::{case.get('name')}",
                           "message": text[:800]})
    return {**counts, "time_s": round(sum(float(s.get("time", 0)) for s in suites), 1),
            "failed": failed}


def server_answers(base: Path) -> dict[str, Any]:
    """The app's access log lines (message "request"): answers by status, and the 5xx ones."""
    by_status: dict[str, int] = {}
    server_errors: list[dict[str, Any]] = []
    for log in sorted(base.glob("fuzz*/app.log")):
        for raw in log.read_text(encoding="utf-8", errors="replace").splitlines():
            try:
                record = json.loads(raw)
            except ValueError:
                continue
            if not isinstance(record, dict) or record.get("message") != "request":
                continue
            status = int(record.get("status", 0))
            by_status[str(status)] = by_status.get(str(status), 0) + 1
            if status >= 500 and len(server_errors) < 20:
                server_errors.append({k: record.get(k) for k in ("method", "path", "status")})
    return {"requests": sum(by_status.values()), "by_status": dict(sorted(by_status.items())),
            "server_errors": sum(n for s, n in by_status.items() if int(s) >= 500),
            "first_server_errors": server_errors}


def fuzz_once(examples: int, seed: int) -> dict[str, Any]:
    WORK.mkdir(parents=True, exist_ok=True)
    started = datetime.now(timezone.utc)
    with tempfile.TemporaryDirectory(prefix="fuzz-", dir=WORK) as tmp:
        junit, base = Path(tmp) / "junit.xml", Path(tmp) / "base"
        env = {**os.environ, "FINSIG_FUZZ_EXAMPLES": str(examples),
               "FINSIG_FUZZ_SEED": str(seed)}
        argv = [sys.executable, "-m", "pytest", TEST, "-p", "no:cacheprovider", "-q",
                f"--junitxml={junit}", f"--basetemp={base}"]
        clock = time.monotonic()
        done = subprocess.run(argv, cwd=ROOT, env=env, capture_output=True,  # nosec B603
                              text=True, timeout=TIMEOUT, check=False)
        seconds = time.monotonic() - clock
        tests, answers = junit_counts(junit), server_answers(base)
    return {
        "examples": examples, "seed": seed, "started": started.isoformat(timespec="seconds"),
        "seconds": round(seconds, 1), "pytest_exit": done.returncode,
        "pytest_tail": (done.stdout + done.stderr)[-3000:], "tests": tests, "server": answers,
        "passed": done.returncode == 0 and answers["server_errors"] == 0
        and answers["requests"] > 0,
    }


def run_part(examples: int, fresh: bool, seed: int | None) -> int:
    store = Store(PART)
    if fresh:
        store.fresh()
    if store.done(PART):
        print("fuzz: done before, skipped (--fresh runs it again)", flush=True)
        return 0
    seed = seed if seed is not None else secrets.randbelow(2**31)
    print(f"fuzz: {examples} examples per operation, seed {seed} "
          f"(replay: FINSIG_FUZZ_SEED={seed} FINSIG_FUZZ_EXAMPLES={examples})", flush=True)
    result = fuzz_once(examples, seed)
    client = docker.from_env(timeout=60)
    try:
        result["machine"] = machine(client, images=())
    finally:
        client.close()
    store.write(PART, result)
    server = result["server"]
    print(f"fuzz: pytest exit {result['pytest_exit']}, {server['requests']} requests, "
          f"{server['server_errors']} server errors, in {result['seconds']}s", flush=True)
    return 1
