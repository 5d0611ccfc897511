"""The page's charts, drawn as inline SVG by hand: a stage timeline, the stage graph, staging's
time to healthy and the fault drill's alert latencies. No script, no external anything; every
label escaped (markup.esc), colours only from STATUS_COLOURS.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from finsig_runner.report.critical import columns, reduced
from finsig_runner.report.markup import esc
from finsig_runner.report.model import Drill, ServiceUp, StageRow

STATUS_COLOURS = {
    "PASSED": "#2e7d32", "FAILED": "#c62828", "ERROR": "#6a1b9a", "SKIPPED": "#9e9e9e",
    "ABORTED": "#ef6c00", "CACHED": "#1565c0", "PARTIAL": "#546e7a",
}
OTHER = "#607d8b"
CRITICAL = "#111111"
WIDTH = 880
NOTE = 200  # room right of the longest bar for its note
ROW = 24
LABEL_CHARS = 36  # a longer row label is cut


def colour(status: str) -> str:
    return STATUS_COLOURS.get(status, OTHER)


def _step(span: float) -> float:
    """A round tick step giving about five to ten ticks over `span` seconds."""
    raw = max(span, 1e-6) / 6
    power = 10.0 ** math.floor(math.log10(raw))
    return next(m * power for m in (1, 2, 5, 10) if m * power >= raw)


def _short(label: str) -> str:
    return label if len(label) <= LABEL_CHARS else label[:LABEL_CHARS - 1] + "…"


def _axis(span: float, left: float, bottom: int, scale: float) -> list[str]:
    out = []
    step = _step(span)
    ticks = int(span / step) + 1
    for i in range(ticks + 1):
        x = left + i * step * scale
        if x > WIDTH - 10:
            break
        out.append(f'<line x1="{x:.1f}" y1="0" x2="{x:.1f}" y2="{bottom}" stroke="#ddd"/>')
        out.append(f'<text x="{x:.1f}" y="{bottom + 14}" font-size="11" text-anchor="middle" '
                   f'fill="#555">{i * step:g}s</text>')
    return out


def _frame(height: int, label: str, body: Sequence[str]) -> str:
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" '
            f'viewBox="0 0 {WIDTH} {height}" role="img" aria-label="{esc(label)}" '
            f'font-family="sans-serif">' + "".join(body) + "</svg>")


def _bars(rows: Sequence[tuple[str, float | None, float | None, str, str, bool]],
          label: str) -> str:
    """Rows of (label, start, length, colour, note, emphasised) on one time axis."""
    ends = [(s or 0.0) + (d or 0.0) for _, s, d, _, _, _ in rows]
    span = max(ends, default=0.0) or 1.0
    left = 16 + 7 * max((len(_short(r[0])) for r in rows), default=4)
    scale = (WIDTH - left - NOTE) / span
    height = len(rows) * ROW + 30
    body = _axis(span, left, len(rows) * ROW, scale)
    for i, (name, start, length, fill, note, strong) in enumerate(rows):
        y = i * ROW
        body.append(f'<text x="{left - 8}" y="{y + 16}" font-size="12" text-anchor="end" '
                    f'font-weight="{"bold" if strong else "normal"}">{esc(_short(name))}'
                    f'<title>{esc(name)}</title></text>')
        if start is None:
            body.append(f'<text x="{left + 4}" y="{y + 16}" font-size="11" fill="#777">'
                        f'{esc(note)}</text>')
            continue
        x, w = left + start * scale, max((length or 0.0) * scale, 2.0)
        outline = f' stroke="{CRITICAL}" stroke-width="2.5"' if strong else ""
        body.append(f'<rect x="{x:.1f}" y="{y + 4}" width="{w:.1f}" height="{ROW - 8}" rx="3" '
                    f'fill="{fill}"{outline}><title>{esc(name)}: {esc(note)}</title></rect>')
        body.append(f'<text x="{x + w + 5:.1f}" y="{y + 16}" font-size="11" fill="#333">'
                    f'{esc(note)}</text>')
    return _frame(height, label, body)


def timeline(stages: Sequence[StageRow]) -> str:
    rows = []
    for s in stages:
        if s.start is None:
            note = "imported" if s.imported else f"{s.status} (did not start)"
        else:
            note = f"{s.status} {s.duration or 0.0:.1f}s" + (" · critical path" if s.critical
                                                             else "")
        rows.append((s.name, s.start, s.duration, colour(s.status), note, s.critical))
    return _bars(rows, "stage timeline")


def services(ups: Sequence[ServiceUp]) -> str:
    rows = [(u.name, u.start if u.start is not None else 0.0, u.ready_after, colour("PASSED"),
             f"healthy after {u.ready_after:.1f}s" if u.ready_after is not None else "no time",
             False) for u in ups]
    return _bars(rows, "time to healthy per service")


def drills(found: Sequence[Drill]) -> str:
    rows: list[tuple[str, float | None, float | None, str, str, bool]] = []
    for d in found:
        for where, seconds in (("Prometheus", d.prometheus_s), ("Alertmanager", d.alertmanager_s)):
            note = f"{where}: {seconds:.1f}s" if seconds is not None else f"{where}: never"
            rows.append((f"{d.alert} · {where}", 0.0 if seconds is not None else None, seconds,
                         colour(d.status), note, False))
    return _bars(rows, "alert latency after the fault")


def _ordered_columns(stages: Sequence[StageRow], column: dict[str, int],
                     requires: dict[str, tuple[str, ...]]) -> dict[int, list[str]]:
    """Nodes per column, each column after the first ordered by the mean position of the
    nodes' prerequisites (fewer crossing arrows)."""
    by_col: dict[int, list[str]] = {}
    for s in stages:
        by_col.setdefault(column.get(s.name, 0), []).append(s.name)
    place: dict[str, int] = {}
    for col in sorted(by_col):
        def weight(name: str) -> float:
            seen = [place[p] for p in requires[name] if p in place]
            return sum(seen) / len(seen) if seen else float(len(place))  # none: last
        if col:
            by_col[col].sort(key=weight)
        place.update({n: i for i, n in enumerate(by_col[col])})
    return by_col


def graph(stages: Sequence[StageRow]) -> str:
    """The stage graph: one column per depth, an arrow from each prerequisite to its stage."""
    names = [s.name for s in stages]
    arrows = reduced({s.name: [p for p in s.requires if p in names] for s in stages})
    column = columns(arrows)
    by_col = _ordered_columns(stages, column, arrows)
    box_w, box_h, gap_x, gap_y = 120, 30, 60, 14
    where = {n: (10 + c * (box_w + gap_x), 10 + i * (box_h + gap_y))
             for c, col in by_col.items() for i, n in enumerate(col)}
    height = 20 + max((len(c) for c in by_col.values()), default=1) * (box_h + gap_y)
    width = 20 + (max(by_col, default=0) + 1) * (box_w + gap_x)
    path = [s.name for s in sorted(stages, key=lambda s: s.start or 0.0) if s.critical]
    hot_edges = set(zip(path, path[1:]))
    body = ['<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" '
            'markerHeight="7" orient="auto"><path d="M0,0 L10,5 L0,10 z" fill="#555"/>'
            '</marker></defs>']
    status = {s.name: s for s in stages}
    for s in stages:
        for p in arrows[s.name]:
            (x1, y1), (x2, y2) = where[p], where[s.name]
            hot = (p, s.name) in hot_edges
            a, b, mid = (x1 + box_w, y1 + box_h / 2), (x2, y2 + box_h / 2), (x2 - gap_x / 2)
            body.append(f'<path d="M{a[0]},{a[1]} C{mid},{a[1]} {mid},{b[1]} {b[0]},{b[1]}" '
                        f'fill="none" stroke="{CRITICAL if hot else "#aaa"}" '
                        f'stroke-width="{2.5 if hot else 1}" marker-end="url(#arrow)"/>')
    for name, (x, y) in where.items():
        s = status[name]
        outline = f'stroke="{CRITICAL}" stroke-width="{3 if s.critical else 0}"'
        body.append(f'<rect x="{x}" y="{y}" width="{box_w}" height="{box_h}" rx="5" '
                    f'fill="{colour(s.status)}" {outline}><title>{esc(name)}: '
                    f'{esc(s.status)}</title></rect>')
        body.append(f'<text x="{x + box_w / 2}" y="{y + 19}" font-size="12" fill="#fff" '
                    f'text-anchor="middle">{esc(name)}</text>')
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
            f'viewBox="0 0 {width} {height}" role="img" aria-label="stage graph" '
            f'font-family="sans-serif">' + "".join(body) + "</svg>")
