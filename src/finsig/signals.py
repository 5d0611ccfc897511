"""Signals for a stored price series: every indicator, aligned row by row."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
import datetime as dt

from finsig import indicators
from finsig.indicators import Signal


@dataclass(frozen=True)
class PricePoint:
    date: dt.date
    close: float


@dataclass(frozen=True)
class SignalParams:
    short_window: int = 20
    long_window: int = 50
    volatility_window: int = 20
    rsi_period: int = indicators.RSI_PERIOD


@dataclass(frozen=True)
class SignalRow:
    date: dt.date
    close: float
    sma_short: float | None
    sma_long: float | None
    signal: Signal
    rsi: float | None
    volatility: float | None


def compute_signals(prices: Sequence[PricePoint], params: SignalParams) -> list[SignalRow]:
    """Indicator rows for `prices`, which must be ordered by date."""
    closes = [point.close for point in prices]
    short = indicators.sma(closes, params.short_window)
    long = indicators.sma(closes, params.long_window)
    crossings = indicators.crossover(short, long)
    rsi = indicators.rsi(closes, params.rsi_period)
    vol = indicators.volatility(closes, params.volatility_window)
    return [
        SignalRow(point.date, point.close, short[i], long[i], crossings[i], rsi[i], vol[i])
        for i, point in enumerate(prices)
    ]
