"""Technical indicators over a price series, row by row (calendar gaps do not matter).

Each function returns one value per input row, None where the window is not yet full.
docs/app.md states the formulas. Every result is finite for any positive finite closes, however
extreme (subnormal to the largest float): sums that could overflow are scaled, ratios are taken as
differences of logarithms. Closes that are not positive and finite are refused with ValueError.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from enum import Enum

TRADING_DAYS_PER_YEAR = 252
RSI_PERIOD = 14
# Two averages closer than this (relative) are treated as equal, so rounding noise in a flat
# series never reads as a crossover.
_CROSS_TOLERANCE = 1e-9


class Signal(str, Enum):
    BUY = "buy"
    SELL = "sell"
    HOLD = "hold"


def _require_window(window: int, minimum: int = 1) -> None:
    if window < minimum:
        raise ValueError(f"window must be at least {minimum}, got {window}")


def _require_prices(closes: Sequence[float]) -> None:
    for index, close in enumerate(closes):
        if not (close > 0 and math.isfinite(close)):
            raise ValueError(f"closes must be positive finite numbers, row {index} is {close!r}")


def _mean(values: Sequence[float]) -> float:
    """The mean of finite values, also when their sum exceeds the largest float."""
    try:
        return math.fsum(values) / len(values)
    except OverflowError:
        # A power of two below 1/n: exact scaling, and the scaled sum stays below the largest float.
        scale = 2.0 ** -len(values).bit_length()
        return math.fsum(v * scale for v in values) / len(values) / scale


def sma(closes: Sequence[float], window: int) -> list[float | None]:
    """Simple moving average of the last `window` closes."""
    _require_window(window)
    _require_prices(closes)
    averages: list[float | None] = [None] * len(closes)
    for end in range(window, len(closes) + 1):
        averages[end - 1] = _mean(closes[end - window:end])
    return averages


def _side(short: float | None, long: float | None) -> int:
    """+1 when short is above long, -1 below, 0 when equal or undefined."""
    if short is None or long is None:
        return 0
    if abs(short - long) <= _CROSS_TOLERANCE * max(abs(short), abs(long)):
        return 0
    return 1 if short > long else -1


def crossover(short: Sequence[float | None], long: Sequence[float | None]) -> list[Signal]:
    """BUY on the row where short moves above long after last being below; SELL the reverse.

    Rows where the averages are equal (or undefined) keep the last side, so touching without
    crossing signals nothing.
    """
    if len(short) != len(long):
        raise ValueError("short and long series differ in length")
    signals: list[Signal] = []
    last_side = 0
    for s, lg in zip(short, long):
        side = _side(s, lg)
        if side != 0 and last_side != 0 and side != last_side:
            signals.append(Signal.BUY if side > 0 else Signal.SELL)
        else:
            signals.append(Signal.HOLD)
        if side != 0:
            last_side = side
    return signals


def _rsi_value(avg_gain: float, avg_loss: float) -> float:
    """100 − 100 / (1 + G/L), written as 100 / (1 + L/G): an overflowing L/G gives 0, not NaN."""
    if avg_loss == 0:
        return 100.0
    if avg_gain == 0:
        return 0.0
    return 100.0 / (1.0 + avg_loss / avg_gain)


def _wilder(average: float, value: float, period: int) -> float:
    """(average·(period−1) + value) / period, without the product that could overflow."""
    return average + (value - average) / period


def rsi(closes: Sequence[float], period: int = RSI_PERIOD) -> list[float | None]:
    """Wilder's RSI: simple means of the first `period` changes, then Wilder smoothing."""
    _require_window(period)
    _require_prices(closes)
    result: list[float | None] = [None] * len(closes)
    if len(closes) <= period:
        return result
    changes = [closes[i] - closes[i - 1] for i in range(1, len(closes))]
    gains = [max(change, 0.0) for change in changes]
    losses = [max(-change, 0.0) for change in changes]
    avg_gain = _mean(gains[:period])
    avg_loss = _mean(losses[:period])
    result[period] = _rsi_value(avg_gain, avg_loss)
    for i in range(period, len(changes)):
        avg_gain = _wilder(avg_gain, gains[i], period)
        avg_loss = _wilder(avg_loss, losses[i], period)
        result[i + 1] = _rsi_value(avg_gain, avg_loss)
    return result


def log_returns(closes: Sequence[float]) -> list[float]:
    """ln(c_i / c_{i−1}) as ln c_i − ln c_{i−1}: the ratio itself can overflow or reach 0."""
    _require_prices(closes)
    logs = [math.log(close) for close in closes]
    return [logs[i] - logs[i - 1] for i in range(1, len(logs))]


def _sample_stdev(values: Sequence[float]) -> float:
    mean = _mean(values)
    deviations = [(v - mean) * (v - mean) for v in values]
    return math.sqrt(_mean(deviations) * len(values) / (len(values) - 1))


def volatility(closes: Sequence[float], window: int = 20) -> list[float | None]:
    """Annualised rolling volatility: sample stdev of the last `window` log returns × √252."""
    _require_window(window, minimum=2)
    returns = log_returns(closes)
    result: list[float | None] = [None] * len(closes)
    for i in range(window, len(closes)):
        result[i] = _sample_stdev(returns[i - window:i]) * math.sqrt(TRADING_DAYS_PER_YEAR)
    return result
