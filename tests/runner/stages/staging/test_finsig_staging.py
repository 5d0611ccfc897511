"""finsig's staging smoke files hold what the formulas give (docs/app.md, Formulas), computed here
independently of the app: 60 closes falling then rising, SMA5/SMA20 and the single buy."""

from __future__ import annotations

import json
import math
from datetime import date, timedelta
from typing import Any

import pytest

from finsig_runner.stages.staging.expect import match
from tests.runner.stages.staging.conftest import FINSIG_STAGING, ROOT

pytestmark = pytest.mark.timeout(30)

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
    """date, close, sma_short, sma_long and signal of each row."""
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


def _smoke(name: str) -> Any:
    return next(r for r in FINSIG_STAGING.smoke if r.name == name)


def test_the_smoke_body_is_the_series() -> None:
    ingest = _smoke("ingest")
    assert ingest.method == "POST" and ingest.expect == {"symbol": "SMOKE", "received": 60}
    assert json.loads((ROOT / ingest.body_file).read_text()) == series()


def test_the_expected_signals_are_the_independent_computation() -> None:
    signals = _smoke("signals")
    assert f"short_window={SHORT}&long_window={LONG}" in signals.path
    doc = json.loads((ROOT / signals.expect_file).read_text())
    want = expected(series())
    assert [r["signal"] for r in want].count("buy") == 1
    assert want[LONG - 2]["sma_long"] is None and want[LONG - 1]["sma_long"] is not None
    assert match(doc["rows"], want, signals.tolerance).ok
    assert match(want, doc["rows"], signals.tolerance).ok
    wrong = [dict(r) for r in want]
    wrong[40]["sma_short"] = float(wrong[40]["sma_short"]) + 0.01
    assert match(wrong, doc["rows"], signals.tolerance).problem.startswith(
        "$[40].sma_short: got")
