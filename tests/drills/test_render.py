"""docs/reliability.md from a synthetic result set: every number counted from the raw files,
the partial set said to be partial, each differing fault written up as a finding."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from drills.fault_run import record
from drills.faults import CATALOGUE, FAULTS
from drills.fuzz import junit_counts, server_answers
from drills.pipeline import Step
from drills.render import render
from drills.store import Store
from drills.summary import Summary

pytestmark = pytest.mark.timeout(60)

MACHINE = {"commit": "c0ffee", "dirty": False, "host": "vm", "kernel": "6.1", "cpus": 2,
           "memory_gib": 23.4, "docker": "20.10.24",
           "images": {"finsig-runner:0.1.0": {"id": "sha256:0123456789abcdef",
                                              "revision": "c0ffee"}}}


def run_step(code: int, stages: dict[str, tuple[str, str]], status: str,
             output: str = "") -> Step:
    return Step("run", ["docker", "run"], code, 100.0, output, "20261205T000000Z-0000abcd",
                {k: {"status": s, "reason": r} for k, (s, r) in stages.items()}, status)


def fault_result(name: str, steps: list[Step], left: list[str] | None = None) -> dict[str, Any]:
    return record(FAULTS[name], steps, {"seen": name}, left=left or [], error=None, seed=7,
                  started="2026-12-05T00:00:00+00:00", seconds=100.0, machine=MACHINE, swept=[])


# One text that every message expectation of the catalogue matches.
SAMPLE = ("PASSED in 1.0s (exit 0); test_drill_failing timed out; problems.py:3 signals.py:4 B602 "
          "pip==23.0.1 finsig.whl differs no-such-file-drill; app unhealthy; app exit; postgres "
          "exit; alert_rules.yml AppDown reports/security-report.json line 3 event log sha256 "
          "docker engine No space left on device; interrupted; removed  run x")


def caught(name: str) -> dict[str, Any]:
    """A result in which every expectation of the fault holds."""
    expect = FAULTS[name].expect
    runs = [e for e in expect if e.step == "run"]
    stages = {("tests" if e.stage == "*" else e.stage): (e.status, SAMPLE)
              for e in runs if e.stage is not None}
    whole = next((e.status for e in runs if e.stage is None and e.status != "*"), "FAILED")
    steps = [run_step(runs[0].exit_code, stages, whole, SAMPLE)] if runs else []
    steps += [Step(e.step, [e.step], e.exit_code, 1.0, SAMPLE) for e in expect
              if e.step != "run"]
    return fault_result(name, steps)


def soak_item(index: int, passed: bool = True) -> dict[str, Any]:
    return {"index": index, "run_id": f"soak-{index}", "status": "PASSED" if passed else "FAILED",
            "reason": "PASSED" if passed else "staging.up: postgres exited (1)",
            "seconds": 50.0 + index, "leftovers": [] if passed else ["volume v"],
            "passed": passed, "machine": MACHINE}


def interrupt_item(index: int) -> dict[str, Any]:
    return {"index": index, "seed": 4242, "signal": "SIGTERM", "moment_s": 12.5,
            "sent": {"sent": True, "running": ["tests", "image"]},
            "run": {"exit_code": 130}, "log_last_event": "run_end",
            "log_run_status": "INTERRUPTED",
            "checks": [{"name": "verify-log", "exit_code": 0}, {"name": "verify", "exit_code": 1}],
            "leftovers": [], "clean": True, "machine": MACHINE}


def durability_item() -> dict[str, Any]:
    """The fields drills/durability.py writes that the renderer reads."""
    return {
        "parameters": {"rate": 20.0, "before": 20.0, "down": 10.0, "after": 30.0},
        "writes": {"sent": 1204, "acknowledged": 1074, "found": 1074, "lost": 0,
                   "answers_by_status": {"200": 1074, "503": 130}},
        "outage": {"unavailable_seconds": 10.085, "server_errors": 0,
                   "every_error_503_with_retry_after": True},
        "readiness": {"detection_seconds": 2.152}, "passed": True, "failures": [],
        "machine": {**MACHINE, "memory_gib": None},
    }


def fuzz_item(tmp_path: Path) -> dict[str, Any]:
    (tmp_path / "base" / "fuzz0").mkdir(parents=True)
    lines = [{"message": "request", "status": 200, "method": "GET", "path": "/healthz"}] * 3
    lines += [{"message": "request", "status": 422, "method": "POST", "path": "/v1/x"}]
    lines += [{"message": "started"}]
    (tmp_path / "base" / "fuzz0" / "app.log").write_text(
        "\n".join(json.dumps(x) for x in lines) + "\nnot json\n")
    (tmp_path / "junit.xml").write_text(
        '<testsuites><testsuite tests="3" failures="0" errors="0" skipped="0" time="12.5">'
        '<testcase classname="t" name="a"/></testsuite></testsuites>')
    return {"examples": 2000, "seed": 99, "seconds": 12.5, "pytest_exit": 0,
            "tests": junit_counts(tmp_path / "junit.xml"),
            "server": server_answers(tmp_path / "base"), "passed": True, "machine": MACHINE}


@pytest.fixture
def results(tmp_path: Path) -> Path:
    root = tmp_path / "results"
    faults = Store("faults", root)
    faults.write("control", caught("control"))
    faults.write("failing-test", caught("failing-test"))
    faults.write("disk-full", fault_result("disk-full", [run_step(
        1, {"image": ("FAILED", "docker save: [Errno 28] No space left on device")}, "FAILED")],
        left=["network finsig-run-x"]))
    for index in (1, 2):
        Store("soak", root).write(f"run-{index:03d}", soak_item(index))
    Store("soak", root).write("run-003", soak_item(3, passed=False))
    Store("interrupts", root).write("run-01", interrupt_item(1))
    Store("durability", root).write("durability", durability_item())
    Store("fuzz", root).write("fuzz", fuzz_item(tmp_path))
    return root


def test_the_compass_is_counted_from_the_files(results: Path) -> None:
    summary = Summary.load(results)
    size = sum(1 for f in CATALOGUE if not f.control)
    assert summary.compass() == (
        f"faults caught 1/2 (of {size} in the catalogue), 2 leftovers, 2/3 soak runs, "
        "1/1 interrupts clean, 0 acknowledged writes lost, 0 server errors under fuzzing")
    assert not summary.all_as_expected()


def test_a_partial_set_says_what_is_missing(results: Path) -> None:
    text = render(Summary.load(results), "2026-12-05 00:00 UTC")
    banner = next(line for line in text.splitlines() if "PARTIAL" in line)
    assert f"faults: 3 of {len(CATALOGUE)} run" in banner
    assert "soak: 3 of 50 runs" in banner and "interrupts: 1 of 20 runs" in banner
    assert "durability" not in banner and "fuzz" not in banner


def test_every_fault_has_a_row_and_a_differing_one_a_finding(results: Path) -> None:
    text = render(Summary.load(results), "2026-12-05 00:00 UTC")
    rows = {line.split(" | ")[0].strip("| `"): line for line in text.splitlines()
            if line.startswith("| `")}
    assert set(rows) == {f.name for f in CATALOGUE}
    assert rows["failing-test"].endswith("| caught |")
    assert rows["control"].endswith("| control passed |")
    assert rows["sigint-random"].endswith("| not run |")
    assert "**DIFFERS**" in rows["disk-full"] and "network finsig-run-x" in rows["disk-full"]
    findings = text.split("## Findings", 1)[1].split("\n## ", 1)[0]
    assert "### `disk-full`" in findings and "### `failing-test`" not in findings
    assert "observed FAILED, exit 1" in findings and "(status, exit code differ)" in findings


def test_the_other_parts_numbers(results: Path) -> None:
    text = render(Summary.load(results), "2026-12-05 00:00 UTC")
    assert "- `run-003` (soak-3): FAILED: staging.up: postgres exited (1); left volume v" in text
    assert "from seed 4242" in text and "| run-01 | SIGTERM | 12.5 s | tests, image | 130 |" in text
    assert "| 1204 | 1074 | 1074 | 0 | 10.085 s |" in text
    assert "4 requests, 0 answered 5xx; by status: 200: 3, 422: 1." in text
    assert "Machine: 2 CPUs, 23.4 GiB memory, kernel 6.1, Docker engine 20.10.24" in text
    assert text.count("Machine:") == 1  # the durability record, without memory, is the same one
    assert ("Image `finsig-runner:0.1.0`: sha256:0123456789ab (revision c0ffee) for 9 item(s)."
            in text)


def test_a_complete_set_is_not_partial(tmp_path: Path) -> None:
    root = tmp_path / "results"
    for fault in CATALOGUE:
        Store("faults", root).write(fault.name, caught(fault.name))
    for index in range(1, 51):
        Store("soak", root).write(f"run-{index:03d}", soak_item(index))
    for index in range(1, 21):
        Store("interrupts", root).write(f"run-{index:02d}", interrupt_item(index))
    Store("durability", root).write("durability", durability_item())
    Store("fuzz", root).write("fuzz", fuzz_item(tmp_path))
    summary = Summary.load(root)
    size = sum(1 for f in CATALOGUE if not f.control)
    assert summary.missing() == []
    assert summary.compass() == (
        f"faults caught {size}/{size}, 0 leftovers, 50/50 soak runs, 20/20 interrupts clean, "
        "0 acknowledged writes lost, 0 server errors under fuzzing")
    assert summary.all_as_expected()
    assert "PARTIAL" not in render(summary, "now")
