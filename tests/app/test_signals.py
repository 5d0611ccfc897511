"""Signal rows: indicators aligned to dates; calendar gaps change nothing."""

from __future__ import annotations

from datetime import date, timedelta

from finsig.indicators import Signal
from finsig.signals import (
    RSI_WARMUP_ROWS,
    PricePoint,
    SignalPage,
    SignalParams,
    SignalRow,
    compute_signals,
    signal_page,
)

CLOSES = [10.0, 11.0, 12.0, 11.0, 10.0, 9.0, 10.0, 12.0, 13.0]


def _points(dates: list[date]) -> list[PricePoint]:
    return [PricePoint(d, c) for d, c in zip(dates, CLOSES)]


def test_rows_carry_every_indicator() -> None:
    start = date(2024, 1, 1)
    rows = compute_signals(
        _points([start + timedelta(days=i) for i in range(len(CLOSES))]),
        SignalParams(short_window=2, long_window=3, volatility_window=2, rsi_period=3),
    )
    assert [r.close for r in rows] == CLOSES
    assert rows[0].sma_short is None and rows[1].sma_short == 10.5
    assert rows[1].sma_long is None and rows[2].sma_long == 11.0
    assert [r.signal for r in rows].count(Signal.SELL) == 1
    assert rows[4].signal is Signal.SELL  # short 10.5 drops below long 11.0
    assert rows[7].signal is Signal.BUY  # short 11.0 rises above long 10.33
    assert rows[2].rsi is None and rows[3].rsi is not None
    assert rows[1].volatility is None and rows[2].volatility is not None


def test_gaps_in_dates_do_not_change_the_values() -> None:
    start = date(2024, 1, 1)
    daily = [start + timedelta(days=i) for i in range(len(CLOSES))]
    gapped = [start + timedelta(days=i * i * 3) for i in range(len(CLOSES))]
    params = SignalParams(short_window=2, long_window=4, volatility_window=3, rsi_period=3)
    with_gaps = compute_signals(_points(gapped), params)
    without = compute_signals(_points(daily), params)
    assert [r.date for r in with_gaps] == gapped

    def values(rows: list[SignalRow]) -> list[tuple[object, ...]]:
        return [(r.close, r.sma_short, r.sma_long, r.signal, r.rsi, r.volatility) for r in rows]

    assert values(with_gaps) == values(without)


def test_default_params() -> None:
    assert SignalParams() == SignalParams(20, 50, 20, 14)
    assert compute_signals([], SignalParams()) == []


def test_a_page_is_the_last_rows_and_names_the_date_before_it() -> None:
    start = date(2024, 1, 1)
    points = _points([start + timedelta(days=i) for i in range(len(CLOSES))])
    params = SignalParams(short_window=2, long_window=3, volatility_window=2, rsi_period=3)
    page = signal_page(points, params, 4)
    assert page.rows == compute_signals(points, params)[-4:]
    assert page.previous_end == points[-5].date
    assert signal_page(points, params, len(CLOSES)).previous_end is None
    assert signal_page(points, params, 100).rows == compute_signals(points, params)
    assert signal_page([], params, 10) == SignalPage([], None)


def test_the_warmup_covers_every_window_and_the_rsi_smoothing() -> None:
    assert SignalParams().warmup_rows == RSI_WARMUP_ROWS == 500
    assert SignalParams(short_window=5, long_window=1000).warmup_rows == 999
    assert SignalParams(volatility_window=1000).warmup_rows == 1000
    assert (13 / 14) ** RSI_WARMUP_ROWS < 1e-16
