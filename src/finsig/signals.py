"""Signals for a stored price series: every indicator, aligned row by row, a page at a time."""

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


# Rows read before a page for RSI's Wilder smoothing, which never forgets: its start weighs
# ((period-1)/period)^500, below 1e-16 for period 14, so a page's RSI is the whole series' RSI.
RSI_WARMUP_ROWS = 500


@dataclass(frozen=True)
class SignalParams:
    short_window: int = 20
    long_window: int = 50
    volatility_window: int = 20
    rsi_period: int = indicators.RSI_PERIOD

    @property
    def warmup_rows(self) -> int:
        """Rows before a page's first row that its indicators read (all but RSI exactly)."""
        return max(self.long_window - 1, self.volatility_window, RSI_WARMUP_ROWS)


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


@dataclass(frozen=True)
class SignalPage:
    rows: list[SignalRow]
    previous_end: dt.date | None


def signal_page(prices: Sequence[PricePoint], params: SignalParams, size: int) -> SignalPage:
    """The last `size` rows of `prices` (read with `params.warmup_rows` rows before them)."""
    rows = compute_signals(prices, params)
    earlier = len(rows) - size
    previous_end = rows[earlier - 1].date if earlier > 0 else None
    return SignalPage(rows[max(earlier, 0):], previous_end)
