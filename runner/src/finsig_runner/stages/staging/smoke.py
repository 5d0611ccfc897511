"""The smoke series and the values the app must give back (docs/app.md, Formulas)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

SYMBOL = "SMOKE"
SHORT, LONG = 5, 20


def series(n: int = 60) -> list[dict[str, Any]]:
    """Falling for 30 days then rising: the short average crosses above the long one (a buy)."""
    start = date(2024, 1, 2)
    closes = [100.0 - 1.5 * i for i in range(30)] + [56.5 + 2.0 * i for i in range(n - 30)]
    return [{"date": (start + timedelta(days=i)).isoformat(), "close": round(c, 4)}
            for i, c in enumerate(closes)]


def _sma(closes: list[float], i: int, w: int) -> float | None:
    return None if i < w - 1 else sum(closes[i - w + 1:i + 1]) / w


def expected(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """date, close, sma_short, sma_long and signal of each row, computed here independently."""
    closes = [float(r["close"]) for r in rows]
    out: list[dict[str, Any]] = []
    last_side = 0
    for i, row in enumerate(rows):
        short, long_ = _sma(closes, i, SHORT), _sma(closes, i, LONG)
        side = 0
        if short is not None and long_ is not None and not math.isclose(
                short, long_, rel_tol=1e-9):
            side = 1 if short > long_ else -1
        signal = "hold"
        if side == 1 and last_side == -1:
            signal = "buy"
        elif side == -1 and last_side == 1:
            signal = "sell"
        if side:
            last_side = side
        out.append({"date": row["date"], "close": closes[i], "sma_short": short,
                    "sma_long": long_, "signal": signal})
    return out


@dataclass(frozen=True)
class Verdict:
    ok: bool
    detail: str


def compare(got: list[dict[str, Any]], want: list[dict[str, Any]]) -> Verdict:
    if len(got) != len(want):
        return Verdict(False, f"{len(got)} rows back, {len(want)} sent")
    for i, (g, w) in enumerate(zip(got, want)):
        for key in ("date", "signal"):
            if g.get(key) != w[key]:
                return Verdict(False, f"row {i} {key}: got {g.get(key)!r}, want {w[key]!r}")
        for key in ("close", "sma_short", "sma_long"):
            a, b = g.get(key), w[key]
            if (a is None) != (b is None) or (
                    a is not None and b is not None and not math.isclose(float(a), b,
                                                                         rel_tol=1e-9)):
                return Verdict(False, f"row {i} {key}: got {a!r}, want {b!r}")
    buys = sum(1 for w in want if w["signal"] == "buy")
    return Verdict(True, f"{len(want)} rows, closes, SMA{SHORT}/SMA{LONG} and {buys} buy signal "
                   "as computed independently")
