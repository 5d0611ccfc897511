"""The run report as Markdown (a CI job summary): the page's content, as text and tables.

Every string from the evidence goes through markup.md, so no test name or finding can make a
link, an image, raw HTML or a table cell of its own. Long lists are cut at LIMIT rows (a job
summary has a size limit); the HTML page has them all.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from finsig_runner.report.markup import md
from finsig_runner.report.model import Run, Signature, Staging, Tests

LIMIT = 50


def _table(head: Sequence[str], rows: Iterable[Sequence[str]]) -> list[str]:
    """`rows` hold cells already escaped by the caller."""
    body = list(rows)
    out = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    out += ["| " + " | ".join(r) + " |" for r in body[:LIMIT]]
    if len(body) > LIMIT:
        out.append(f"\n… and {len(body) - LIMIT} more (see reports/index.html)")
    return out + [""]


def _s(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f}s"


def _signature(sig: Signature) -> list[str]:
    if sig.check is None:
        if sig.signed:
            return ["Signature: signed by the expected signer; not verified here.", ""]
        return [f"Signature: **UNSIGNED**: {md(sig.reason)}", ""]
    state = "verifies" if sig.check.intact else "does **NOT** verify"
    out = [f"Signature: the evidence {state} with the key given ({md(sig.check.trusted)}).", ""]
    return out + _table(("check", "result", "detail"), (
        (md(x.name), md(x.result), md(x.detail)) for x in sig.check.lines))


def _head(run: Run) -> list[str]:
    i, v = run.identity, run.verdict
    out = [f"# FINSIG run: {md(v.status)}", ""]
    out += [f"- **{k}**: {md(val)}" for k, val in (
        ("Run", i.run_id), ("Commit", i.commit + (" (uncommitted changes)" if i.dirty else "")),
        ("Runner", i.runner_version), ("Runner image", i.runner_image or "not in a container"),
        ("Started", i.started), ("Ended", i.ended),
        ("Expected signer", run.signature.expected_signer or "none (unsigned)"))]
    out.append("")
    if v.failures:
        out += ["## Failures", ""] + _table(("check", "status", "reason"), (
            (md(x.id), md(x.status), md(x.reason)) for x in v.failures))
    return out + _signature(run.signature)


def _stages(run: Run) -> list[str]:
    return ["## Stages", ""] + _table(("stage", "status", "start", "duration", "critical path",
                                       "reason"), (
        (md(s.name), md(s.status), _s(s.start), _s(s.duration), "yes" if s.critical else "",
         md(("imported · " if s.imported else "") + s.reason)) for s in run.stages))


def _tests(tests: Tests | None, run: Run) -> list[str]:
    out = ["## Tests", ""]
    if tests is None:
        out += ["No test results.", ""]
    else:
        out += [f"{tests.total} tests: {tests.passed} passed, {tests.failed} failed, "
                f"{tests.errors} errors, {tests.skipped} skipped", ""]
        if tests.failures:
            out += _table(("test", "kind", "message"), (
                (md(t.id), md(t.kind), md(t.message)) for t in tests.failures))
    cov = run.coverage
    if cov is not None:
        total = "—" if cov.percent is None else f"{cov.percent:.2f}%"
        minimum = "" if cov.minimum is None else f" (minimum {cov.minimum:g}%)"
        out += [f"Coverage: **{total}**{minimum}", ""] + _table(
            ("file (worst first)", "covered", "lines"),
            ((md(c.path), f"{c.percent:.1f}%", f"{c.covered}/{c.lines}") for c in cov.files))
    return out


def _findings(run: Run) -> list[str]:
    out = ["## Lint, typing and security findings", ""]
    for g in run.findings:
        out += [f"### {md(g.tool)} ({md(g.stage)} {md(g.status)}): {g.count} finding(s)", ""]
        if g.count:
            out += _table(("file", "line", "code", "severity", "message"), (
                (md(f.path), str(x.line or ""), md(x.code), md(x.severity), md(x.message))
                for f in g.files for x in f.findings))
    db = run.vulndb
    if db is not None:
        age = "unknown age" if db.age_days is None else f"{db.age_days} days old"
        flag = "**OLD** " if db.old else ""
        limit = "" if db.max_age_days is None else f" (policy: at most {db.max_age_days} days)"
        out += [f"Vulnerability database: {flag}{md(db.source)} of {md(db.source_date)}, "
                f"{age}{limit}", ""]
    return out


def _build(run: Run) -> list[str]:
    out = ["## Build and image", ""]
    if run.build is not None:
        rep = run.build.reproducible
        if rep is not None:
            out += [f"Two builds matched: {md(rep.status)}: {md(rep.detail)}", ""]
        out += _table(("file", "sha256"), ((md(b.name), md(b.sha256)) for b in run.build.files))
    img = run.image
    if img is not None:
        size = "—" if img.tar_size is None else f"{img.tar_size / 1e6:.1f} MB"
        out += [f"Image {md(img.image_id)} ({md(img.tag)}), saved tar {size}, sha256 "
                f"{md(img.tar_sha256)}", ""]
        if img.reproducible is not None:
            out += [f"Rebuilt image identical: {md(img.reproducible.status)}: "
                    f"{md(img.reproducible.detail)}", ""]
    return out


def _staging(st: Staging | None) -> list[str]:
    if st is None:
        return []
    out = ["## Staging", "", f"Staging {md(st.status)} {md(st.reason)}", ""]
    out += _table(("service", "image", "healthy after"), (
        (md(u.name), md(u.image), _s(u.ready_after)) for u in st.services))
    out += _table(("alert", "status", "Prometheus", "Alertmanager"), (
        (md(d.alert), md(d.status), _s(d.prometheus_s), _s(d.alertmanager_s))
        for d in st.drills))
    return out + _table(("check", "status", "took", "detail"), (
        (md(c.id), md(c.status), _s(c.seconds), md(c.detail)) for c in st.checks))


def _evidence(run: Run) -> list[str]:
    c = run.chain
    out = ["## Evidence", ""]
    if c.broken:
        out += [f"Event log chain **broken**: {md(c.broken)}", ""]
    elif c.lines is not None:
        out += [f"Event log chain head {md(c.head)} after {c.lines} lines; the seal records "
                f"{md(c.sealed_head or '—')}", ""]
    out += _table(("file", "size", "sha256"), (
        (md(x.path), "—" if x.size is None else str(x.size), md(x.sha256)) for x in run.files))
    if run.problems:
        out += ["Could not be read:", ""] + [f"- {md(p)}" for p in run.problems] + [""]
    return out


def render(run: Run) -> str:
    parts = [*_head(run), *_stages(run), *_tests(run.tests, run), *_findings(run), *_build(run),
             *_staging(run.staging), *_evidence(run)]
    return "\n".join(parts).rstrip() + "\n"
