"""reports/index.html: one self-contained page, no script, nothing loaded from anywhere.

Its Content-Security-Policy allows nothing but its own style block (pinned by hash): no script,
no image, font, frame or connection, inline or remote. Every string from the evidence is escaped
(markup.esc); links are relative paths into the evidence directory only (markup.href).
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterable, Sequence

from finsig_runner.report import svg
from finsig_runner.report.markup import esc, href
from finsig_runner.report.model import (
    Build, Chain, CheckState, Coverage, FindingGroup, Image, Link, Run, Signature, StageRow,
    Staging, Tests, VulnDb,
)

STYLE = """
body{font-family:system-ui,sans-serif;margin:0 auto;max-width:980px;padding:0 16px 40px;
color:#222}
header.verdict{color:#fff;padding:14px 18px;margin:0 -16px 16px}
header h1{margin:0;font-size:28px}
header p{margin:4px 0 0}
h2{border-bottom:2px solid #ddd;padding-bottom:4px;margin-top:32px}
h3{margin:18px 0 6px;font-size:15px;font-family:monospace;word-break:break-all}
table{border-collapse:collapse;width:100%;font-size:13px;margin:6px 0}
th,td{border-bottom:1px solid #e4e4e4;text-align:left;padding:4px 6px;vertical-align:top}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
code,.mono{font-family:monospace;word-break:break-all}
.badge{display:inline-block;color:#fff;border-radius:3px;padding:0 6px;font-size:12px}
.s-passed{background:#2e7d32}.s-failed{background:#c62828}.s-error{background:#6a1b9a}
.s-skipped{background:#9e9e9e}.s-aborted{background:#ef6c00}.s-cached{background:#1565c0}
.s-partial{background:#546e7a}.s-other{background:#607d8b}
.warn{background:#fff3e0;border-left:4px solid #ef6c00;padding:6px 10px}
.bad{background:#ffebee;border-left:4px solid #c62828;padding:6px 10px}
.good{background:#e8f5e9;border-left:4px solid #2e7d32;padding:6px 10px}
dl{display:grid;grid-template-columns:max-content 1fr;gap:4px 14px;font-size:14px}
dt{font-weight:bold}dd{margin:0;word-break:break-all}
meter{width:120px}
svg{max-width:100%;height:auto;display:block;margin:8px 0}
nav{margin:12px 0}nav a{margin-right:10px;font-size:13px}
"""
_KNOWN = ("passed", "failed", "error", "skipped", "aborted", "cached", "partial")


def csp() -> str:
    digest = base64.b64encode(hashlib.sha256(STYLE.encode()).digest()).decode()
    return (f"default-src 'none'; style-src 'sha256-{digest}'; img-src 'none'; "
            "base-uri 'none'; form-action 'none'")


def _cls(status: str) -> str:
    low = status.lower()
    return f"s-{low}" if low in _KNOWN else "s-other"


def badge(status: str) -> str:
    return f'<span class="badge {_cls(status)}">{esc(status or "—")}</span>'


def _table(head: Sequence[str], rows: Iterable[Sequence[str]], nums: Sequence[int] = ()) -> str:
    """`rows` hold markup already escaped by the caller."""
    cells = [f'<th class="num">{esc(h)}</th>' if i in nums else f"<th>{esc(h)}</th>"
             for i, h in enumerate(head)]
    out = ["<table><thead><tr>", *cells, "</tr></thead><tbody>"]
    for row in rows:
        out.append("<tr>" + "".join(
            f'<td class="num">{c}</td>' if i in nums else f"<td>{c}</td>"
            for i, c in enumerate(row)) + "</tr>")
    out.append("</tbody></table>")
    return "".join(out)


def _seconds(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f}s"


def _section(ident: str, title: str, body: str) -> str:
    return f'<section id="{ident}"><h2>{esc(title)}</h2>{body}</section>'


def _header(run: Run) -> str:
    v = run.verdict
    failures = "".join(f"<li><code>{esc(x.id)}</code> {badge(x.status)} {esc(x.reason)}</li>"
                       for x in v.failures)
    said = {"PASSED": "every required check passed", "FAILED": "required checks failed",
            "PARTIAL": "a partial run: no verdict", "UNKNOWN": "no validation document"}
    return (f'<header class="verdict {_cls(v.status)}"><h1>Verdict: {esc(v.status)}</h1>'
            f"<p>{esc(said.get(v.status, ''))} · run <span class=\"mono\">"
            f"{esc(run.identity.run_id)}</span></p></header>"
            + (f'<div class="bad"><strong>Failures</strong><ul>{failures}</ul></div>'
               if failures else ""))


def _summary(run: Run) -> str:
    i = run.identity
    dirty = {True: " (uncommitted changes)", False: "", None: ""}[i.dirty]
    pairs = [("Run", i.run_id), ("Kind", i.kind), ("Commit", i.commit + dirty),
             ("Runner", i.runner_version), ("Runner image", i.runner_image or "not in a container"),
             ("Started", i.started), ("Ended", i.ended),
             ("Expected signer", run.signature.expected_signer or "none (unsigned)")]
    return "<dl>" + "".join(f'<dt>{esc(k)}</dt><dd class="mono">{esc(v)}</dd>'
                            for k, v in pairs) + "</dl>" + _signature(run.signature)


def _signature(sig: Signature) -> str:
    if sig.check is None:
        state = ("sealed; not verified here (render with --pubkey to verify)"
                 if sig.signed else f"UNSIGNED: {sig.reason}")
        return f'<p class="warn">Signature: {esc(state)}</p>'
    c = sig.check
    lines = _table(("check", "result", "detail"),
                   ((esc(x.name), badge(x.result), esc(x.detail)) for x in c.lines))
    if c.intact:
        head = f"The evidence verifies with the key you gave ({c.trusted})."
        return f'<p class="good">{esc(head)}</p>{lines}'
    head = f"The evidence does NOT verify with the key you gave ({c.trusted})."
    return f'<p class="bad">{esc(head)}</p>{lines}'


def _stages(rows: Sequence[StageRow]) -> str:
    if not rows:
        return "<p>No stage is recorded.</p>"
    table = _table(("stage", "status", "start", "duration", "critical path", "reason"), (
        (esc(s.name), badge(s.status), _seconds(s.start), _seconds(s.duration),
         "yes" if s.critical else "", esc(("imported · " if s.imported else "") + s.reason))
        for s in rows), nums=(2, 3))
    edges = any(s.requires for s in rows)
    drawing = svg.graph(rows) if edges else "<p>No stage graph was given.</p>"
    return (f"<h3>Timeline</h3>{svg.timeline(rows)}{table}"
            f"<h3>Graph (an arrow runs from a prerequisite to its stage)</h3>{drawing}")


def _tests(tests: Tests | None, coverage: Coverage | None) -> str:
    out = []
    if tests is None:
        out.append("<p>No test results (reports/test-results.xml).</p>")
    else:
        out.append(f"<p><strong>{tests.total}</strong> tests: <strong>{tests.passed}</strong> "
                   f"passed, <strong>{tests.failed}</strong> failed, <strong>{tests.errors}"
                   f"</strong> errors, <strong>{tests.skipped}</strong> skipped</p>")
        if tests.failures:
            out.append("<h3>Failures</h3>" + _table(("test", "kind", "message"), (
                (f"<code>{esc(t.id)}</code>", esc(t.kind), esc(t.message))
                for t in tests.failures)))
    if coverage is not None:
        total = "—" if coverage.percent is None else f"{coverage.percent:.2f}%"
        minimum = "" if coverage.minimum is None else f" (minimum {coverage.minimum:g}%)"
        out.append(f"<h3>Coverage: {esc(total)}{esc(minimum)}</h3>")
        out.append(_table(("file (worst first)", "covered", "lines", ""), (
            (f"<code>{esc(c.path)}</code>", f"{c.percent:.1f}%", f"{c.covered}/{c.lines}",
             f'<meter min="0" max="100" value="{c.percent:.1f}"></meter>')
            for c in coverage.files), nums=(1, 2)))
    return "".join(out)


def _findings(groups: Sequence[FindingGroup]) -> str:
    if not groups:
        return "<p>No lint, typing or security report.</p>"
    out = []
    for g in groups:
        state = badge(g.status) if g.status else ""
        out.append(f"<h3>{esc(g.tool)} ({esc(g.stage)}) {state}: {g.count} finding(s)</h3>")
        for file in g.files:
            out.append(f"<h3>{esc(file.path or '(no file)')}</h3>" + _table(
                ("line", "code", "severity", "message"),
                ((str(x.line or ""), f"<code>{esc(x.code)}</code>", esc(x.severity),
                  esc(x.message)) for x in file.findings), nums=(0,)))
    return "".join(out)


def _vulndb(db: VulnDb | None) -> str:
    if db is None:
        return "<p>No vulnerability database is recorded.</p>"
    age = "unknown age" if db.age_days is None else f"{db.age_days} days old"
    limit = "" if db.max_age_days is None else f" (policy: at most {db.max_age_days} days)"
    text = f"{db.source} of {db.source_date}: {age}{limit}"
    return f'<p class="{"warn" if db.old else "good"}">{"OLD: " if db.old else ""}{esc(text)}</p>'


def _check_line(label: str, state: CheckState | None) -> str:
    if state is None:
        return ""
    return f"<p>{esc(label)}: {badge(state.status)} {esc(state.detail)}</p>"


def _build(build: Build | None, image: Image | None) -> str:
    out = []
    if build is not None:
        out.append(_check_line("Two builds matched", build.reproducible))
        out.append(_table(("file", "sha256"), ((esc(b.name), f"<code>{esc(b.sha256)}</code>")
                                               for b in build.files)))
    if image is not None:
        size = "—" if image.tar_size is None else f"{image.tar_size / 1e6:.1f} MB"
        out.append("<dl>" + "".join(f'<dt>{esc(k)}</dt><dd class="mono">{esc(v)}</dd>' for k, v in (
            ("Image ID", image.image_id), ("Tag", image.tag), ("Saved tar size", size),
            ("Saved tar sha256", image.tar_sha256))) + "</dl>")
        out.append(_check_line("Rebuilt image identical", image.reproducible))
    return "".join(out) or "<p>No build or image report.</p>"


def _staging(st: Staging | None) -> str:
    if st is None:
        return "<p>No staging report (reports/deploy-report.json).</p>"
    out = [f"<p>Staging {badge(st.status)} {esc(st.reason)}</p>"]
    if st.services:
        unknown = any(u.start is None for u in st.services)
        note = ("<p>This report does not record when each service began: every bar starts "
                "at 0.</p>" if unknown else "")
        out.append("<h3>Time to healthy (from when each service began)</h3>" + note
                   + svg.services(st.services))
    if st.drills:
        out.append("<h3>Fault drill: alert latency after each fault</h3>" + svg.drills(st.drills))
        out.append(_table(("alert", "status", "Prometheus", "Alertmanager", "detail"), (
            (esc(d.alert), badge(d.status), _seconds(d.prometheus_s), _seconds(d.alertmanager_s),
             esc(d.detail)) for d in st.drills), nums=(2, 3)))
    if st.scrape:
        out.append("<h3>Scrape check</h3>" + _table(("check", "status", "detail"), (
            (f"<code>{esc(c.id)}</code>", badge(c.status), esc(c.detail)) for c in st.scrape)))
    out.append("<h3>Every check</h3>" + _table(("check", "status", "took", "detail"), (
        (f"<code>{esc(c.id)}</code>", badge(c.status), _seconds(c.seconds), esc(c.detail))
        for c in st.checks), nums=(2,)))
    return "".join(out)


def _chain(chain: Chain) -> str:
    if chain.lines is None and not chain.broken:
        return "<p>No event log.</p>"
    if chain.broken:
        head = f'<p class="bad">The event log\'s chain is broken: {esc(chain.broken)}</p>'
    else:
        head = (f'<p>Chain head: <code>{esc(chain.head)}</code> after {chain.lines} lines '
                f"(not verified against a key here).</p>")
    rows = [("the document", chain.document_lines, chain.document_head),
            ("the seal", chain.sealed_lines, chain.sealed_head)]
    return head + _table(("recorded by", "line", "chain hash"), (
        (esc(who), "—" if n is None else str(n), f"<code>{esc(h or '—')}</code>")
        for who, n, h in rows), nums=(1,))


def _files(links: Sequence[Link]) -> str:
    def name(link: Link) -> str:
        target = href(link.path)
        label = esc(link.path)
        return f'<a href="{target}">{label}</a>' if target else f"<code>{label}</code>"
    return _table(("file", "size", "sha256"), (
        (name(x), "—" if x.size is None else str(x.size), f"<code>{esc(x.sha256)}</code>")
        for x in links), nums=(1,))


def render(run: Run) -> str:
    sections = [
        ("summary", "Run", _summary(run)),
        ("stages", "Stages", _stages(run.stages)),
        ("tests", "Tests and coverage", _tests(run.tests, run.coverage)),
        ("findings", "Lint, typing and security findings", _findings(run.findings)),
        ("vulndb", "Vulnerability database", _vulndb(run.vulndb)),
        ("build", "Build and image", _build(run.build, run.image)),
        ("staging", "Staging", _staging(run.staging)),
        ("evidence", "Evidence", _chain(run.chain) + _files(run.files)),
    ]
    if run.problems:
        items = "".join(f"<li>{esc(p)}</li>" for p in run.problems)
        sections.append(("problems", "Evidence that could not be read",
                         f'<ul class="bad">{items}</ul>'))
    nav = "".join(f'<a href="#{k}">{esc(t)}</a>' for k, t, _ in sections)
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f'<meta http-equiv="Content-Security-Policy" content="{esc(csp())}">'
            '<meta name="referrer" content="no-referrer">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{esc(f'FINSIG run {run.identity.run_id}: {run.verdict.status}')}</title>"
            f"<style>{STYLE}</style></head><body>{_header(run)}<nav>{nav}</nav>"
            + "".join(_section(k, t, b) for k, t, b in sections) + "</body></html>\n")
