"""docs/reliability.md, written from the drills' raw results (drills/results/) and nothing else:
every number in it is counted from those files, none is typed in.

    .venv/bin/python -m drills render
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from drills.faults import CATALOGUE, Fault
from drills.store import RESULTS
from drills.summary import Summary

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "reliability.md"


def cell(text: object, limit: int = 160) -> str:
    """Table-safe: one line, no pipe, backticks kept out, cut at `limit`."""
    flat = " ".join(str(text).split()).replace("|", "\\|").replace("`", "'")
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def table(header: Sequence[str], rows: Iterable[Sequence[object]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return lines


def load_summary(root: Path = RESULTS) -> Summary:
    return Summary.load(root)


def _head(summary: Summary, when: str) -> list[str]:
    lines = ["# Reliability: the drills", "",
             f"Written by `drills/render.py` from the raw results in `drills/results/` on {when}; "
             "do not edit by hand (`make drills` writes it again, `.venv/bin/python -m drills "
             "render` without running anything).", ""]
    missing = summary.missing()
    if missing:
        lines += ["> **PARTIAL — not the full set.** " + "; ".join(missing) + ". The numbers "
                  "below count only what ran.", ""]
    lines += ["**Compass (measured):** " + summary.compass() + ".", ""]
    lines += ["Commits: " + "; ".join(f"`{c}` ({', '.join(p)})"
                                      for c, p in summary.commits().items()) + "."]
    for info in summary.machines():
        memory = "unknown" if info["memory_gib"] is None else f"{info['memory_gib']} GiB"
        lines.append(f"Machine: {info['cpus']} CPUs, {memory} memory, kernel "
                     f"{info['kernel']}, Docker engine {info['docker']} (host {info['host']}).")
    for ref, ids in summary.images().items():
        used = "; ".join(f"{key} for {count} item(s)" for key, count in ids.items())
        lines.append(f"Image `{ref}`: {used}.")
    return lines + [""]


def _expected(fault: Fault) -> str:
    return "; ".join(e.describe() for e in fault.expect)


def _observed(result: dict[str, Any]) -> str:
    if result.get("injection_error"):
        return f"not injected: {result['injection_error']}"
    return "; ".join(
        f"{j['expect']['step']}"
        + (f": {j['expect']['stage']}" if j["expect"]["stage"] else "")
        + f" {j['status']}, exit {j['exit_code']}: {j['message']}"
        for j in result["judgements"])


def _verdict(result: dict[str, Any] | None) -> str:
    if result is None:
        return "not run"
    if result.get("injection_error"):
        return "NOT INJECTED"
    if result["caught"]:
        return "control passed" if result["fault"].get("control") else "caught"
    return "**DIFFERS**"


def _faults(summary: Summary) -> list[str]:
    lines = ["## The fault catalogue", "",
             "Each fault goes into a fresh clone of this repository (`drills/faults.py`); "
             "*image* is the runner image started as `scripts/pipeline.sh` starts it, *host* is "
             "`finsig-runner` on the host. *Expected* comes from docs/runner.md, never from what "
             "ran; a fault is caught when every expectation holds and nothing of its run is left "
             "(containers, networks, volumes, images by the run's labels, its network name and "
             "its image tags).", ""]
    rows = []
    for fault in CATALOGUE:
        result = summary.faults.get(fault.name)
        rows.append([
            f"`{fault.name}`", cell(fault.cause, 90), fault.where, cell(_expected(fault)),
            "–" if result is None else cell(_observed(result), 220),
            "–" if result is None else f"{result['seconds']} s",
            "–" if result is None else (cell(", ".join(result["leftovers"])) or "none"),
            _verdict(result)])
    return lines + table(["fault", "injected", "where", "expected", "observed", "time",
                          "left behind", "result"], rows) + [""]


def _finding(result: dict[str, Any]) -> list[str]:
    name = result["fault"]["name"]
    lines = [f"### `{name}`", "",
             f"Injected: {result['fault']['cause']} ({result['fault']['where']})."]
    if result.get("injection_error"):
        lines.append(f"- The fault could not be injected: {result['injection_error']}")
    for j in result["judgements"]:
        if j["ok"]:
            continue
        wrong = [what for what, ok in (("status", j["status_ok"]), ("exit code", j["exit_ok"]),
                                       ("message", j["message_ok"])) if not ok]
        lines.append(f"- Expected {j['expect']['step']}"
                     + (f" / {j['expect']['stage']}" if j["expect"]["stage"] else "")
                     + f" {j['expect']['status']}, exit {j['expect']['exit_code']}, message "
                     f"matching `{j['expect']['message']}`; observed {j['status']}, exit "
                     f"{j['exit_code']}, message: \"{cell(j['message'], 300)}\" "
                     f"({', '.join(wrong) or 'step not run'} differ).")
    if result["leftovers"]:
        lines.append("- Left behind: " + ", ".join(f"`{x}`" for x in result["leftovers"]) + ".")
    notes = {k: v for k, v in result.get("notes", {}).items() if k != "fingerprint"}
    if notes:
        lines.append(f"- Notes: `{cell(notes, 400)}`")
    return lines + [""]


def _findings(summary: Summary) -> list[str]:
    differing = [summary.faults[f.name] for f in CATALOGUE
                 if f.name in summary.faults and not summary.faults[f.name]["caught"]]
    if not differing:
        return []
    lines = ["## Findings: faults whose observation differs from the expectation", ""]
    for result in differing:
        lines += _finding(result)
    return lines


def _spread(values: list[float]) -> str:
    if not values:
        return "–"
    return (f"median {statistics.median(values):.1f} s, min {min(values):.1f} s, "
            f"max {max(values):.1f} s")


def _soak(summary: Summary) -> list[str]:
    lines = ["## Soak: the staging stage again and again", ""]
    if not summary.soak:
        return lines + ["Not run.", ""]
    runs = list(summary.soak.values())
    lines += [f"{len(runs)} consecutive runs of the staging stage alone (`drills/soak.py`, as "
              f"`benchmarks/staging.py` runs it): {summary.soak_passed()} PASSED with nothing "
              f"left; {sum(len(r['leftovers']) for r in runs)} objects left in all. Time per run: "
              f"{_spread([float(r['seconds']) for r in runs])}.", ""]
    bad = [r for r in runs if not r["passed"]]
    lines += [f"- `{r['item']}` ({r['run_id']}): {r['status']}: {cell(r['reason'], 300)}"
              + (f"; left {', '.join(r['leftovers'])}" if r["leftovers"] else "") for r in bad]
    return lines + ([""] if bad else [])


def _interrupts(summary: Summary) -> list[str]:
    lines = ["## Interrupts: SIGINT or SIGTERM at a random moment", ""]
    if not summary.interrupts:
        return lines + ["Not run.", ""]
    runs = list(summary.interrupts.values())
    seeds = sorted({r["seed"] for r in runs})
    lines += [f"{len(runs)} full pipeline runs (the runner image over a fresh clone), each sent "
              f"a signal at a moment drawn from seed {', '.join(map(str, seeds))} "
              f"(`drills/interrupts.py`; replay: `.venv/bin/python -m drills interrupts --fresh "
              f"--seed {seeds[0]}`): {summary.interrupts_clean()} clean — exit 130, the log "
              "ending with run_end INTERRUPTED, `verify-log` 0, `verify` non-zero (no verdict), "
              "nothing left.", ""]
    rows = []
    for r in runs:
        verify_log, verify = r["checks"]
        rows.append([r["item"], r["signal"], f"{r['moment_s']} s",
                     cell(", ".join(r["sent"].get("running", [])) or "–", 60),
                     r["run"]["exit_code"], f"{r['log_last_event']} {r['log_run_status']}",
                     verify_log["exit_code"], verify["exit_code"],
                     len(r["leftovers"]), "clean" if r["clean"] else "**NOT CLEAN**"])
    return lines + table(["run", "signal", "at", "stages running", "exit", "log ends",
                          "verify-log", "verify", "left", "result"], rows) + [""]


def _durability(summary: Summary) -> list[str]:
    d = summary.durability
    lines = ["## Durability: PostgreSQL killed under load", ""]
    if d is None:
        return lines + ["Not run.", ""]
    w, o, r, p = d["writes"], d["outage"], d["readiness"], d["parameters"]
    lines += [f"`drills/durability.py` ({p['rate']} writes/s, PostgreSQL SIGKILLed after "
              f"{p['before']} s, down {p['down']} s, {p['after']} s of load after): "
              f"{'PASSED' if d['passed'] else 'FAILED: ' + '; '.join(d['failures'])}.", ""]
    lines += table(["sent", "acknowledged", "found", "lost", "unavailable", "answers by status",
                    "server errors (not 503)", "every error 503 + Retry-After",
                    "/readyz not ready after"],
                   [[w["sent"], w["acknowledged"], w["found"], w["lost"],
                     f"{o['unavailable_seconds']} s",
                     cell(", ".join(f"{k}: {v}" for k, v in w["answers_by_status"].items())),
                     o["server_errors"], "yes" if o["every_error_503_with_retry_after"] else "no",
                     f"{r['detection_seconds']} s"]])
    return lines + [""]


def _fuzz(summary: Summary) -> list[str]:
    f = summary.fuzz
    lines = ["## Fuzz: the API under schemathesis", ""]
    if f is None:
        return lines + ["Not run.", ""]
    t, s = f["tests"], f["server"]
    lines += [f"`tests/app/test_fuzz_api.py` with FINSIG_FUZZ_EXAMPLES={f['examples']} and "
              f"FINSIG_FUZZ_SEED={f['seed']} (`drills/fuzz.py`), in {f['seconds']} s: pytest "
              f"exit {f['pytest_exit']}, {t['tests']} tests, {t['failures']} failed, "
              f"{t['errors']} errors. The server's own log: {s['requests']} requests, "
              f"{s['server_errors']} answered 5xx; by status: "
              + ", ".join(f"{k}: {v}" for k, v in s["by_status"].items()) + ".", ""]
    lines += [f"- {cell(x['test'], 120)}: {cell(x['message'], 400)}" for x in t["failed"]]
    lines += [f"- 5xx: {x['method']} {cell(x['path'], 120)} → {x['status']}"
              for x in s["first_server_errors"]]
    return lines + ([""] if t["failed"] or s["first_server_errors"] else [])


def _howto() -> list[str]:
    return ["## Running the drills", "",
            "`make drills` runs every part (about two hours on 2 cores), outside `make test`; "
            "`make drills DRILLS=faults` (or `soak`, `interrupts`, `durability`, `fuzz`) one part. "
            "Each item's raw result is written to `drills/results/<part>/` when the item ends, "
            "so an interrupted part resumes where it stopped; `make drills DRILLS_ARGS=--fresh` "
            "starts over. Faults need root (the full-disk fault mounts a tmpfs).", ""]


def render(summary: Summary, when: str) -> str:
    lines = [*_head(summary, when), *_faults(summary), *_findings(summary), *_soak(summary),
             *_interrupts(summary), *_durability(summary), *_fuzz(summary), *_howto()]
    return "\n".join(lines).rstrip("\n") + "\n"


def write(path: Path = DOC, root: Path = RESULTS) -> Path:
    when = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    path.write_text(render(load_summary(root), when), encoding="utf-8")
    return path
