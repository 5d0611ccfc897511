"""Indicators against hand-computed values, edge cases and properties."""

from __future__ import annotations

import math
import sys
from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from finsig.indicators import Signal, crossover, log_returns, rsi, sma, volatility
from finsig.signals import PricePoint, SignalParams, compute_signals

BUY, SELL, HOLD = Signal.BUY, Signal.SELL, Signal.HOLD

prices = st.floats(min_value=0.01, max_value=1e6, allow_nan=False, allow_infinity=False)
series = st.lists(prices, min_size=0, max_size=80)


# --- simple moving average -------------------------------------------------------------------

def test_sma_hand_computed() -> None:
    assert sma([1.0, 2.0, 3.0, 4.0, 5.0], 3) == [None, None, 2.0, 3.0, 4.0]
    assert sma([10.0, 20.0, 60.0], 2) == [None, 15.0, 40.0]


def test_sma_fewer_rows_than_window_is_all_null() -> None:
    assert sma([1.0, 2.0, 3.0], 4) == [None, None, None]
    assert sma([], 20) == []


def test_sma_rejects_a_window_below_one() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        sma([1.0], 0)


@given(series, st.integers(min_value=1, max_value=30))
def test_sma_stays_within_its_window(closes: list[float], window: int) -> None:
    averages = sma(closes, window)
    assert len(averages) == len(closes)
    for i, value in enumerate(averages):
        if i + 1 < window:
            assert value is None
        else:
            assert value is not None
            chunk = closes[i + 1 - window : i + 1]  # noqa: E203
            assert min(chunk) * (1 - 1e-12) <= value <= max(chunk) * (1 + 1e-12)


@given(series)
def test_sma_of_window_one_is_the_series(closes: list[float]) -> None:
    assert sma(closes, 1) == closes


# --- crossover -------------------------------------------------------------------------------

def test_crossover_buy_and_sell_on_the_crossing_rows() -> None:
    short = [None, 1.0, 1.0, 3.0, 3.0, 1.0]
    long = [None, 2.0, 2.0, 2.0, 2.0, 2.0]
    assert crossover(short, long) == [HOLD, HOLD, HOLD, BUY, HOLD, SELL]


def test_crossover_through_equality_counts_once_and_touching_does_not() -> None:
    #          below  equal  above  equal  above  equal  below
    short = [1.0, 2.0, 3.0, 2.0, 3.0, 2.0, 1.0]
    long = [2.0] * 7
    assert crossover(short, long) == [HOLD, HOLD, BUY, HOLD, HOLD, HOLD, SELL]


def test_no_signal_before_both_averages_exist() -> None:
    # The first defined row has nothing before it to cross from.
    assert crossover([None, 3.0, 1.0], [None, 2.0, 2.0]) == [HOLD, HOLD, SELL]
    assert crossover([1.0, 3.0], [None, 2.0]) == [HOLD, HOLD]


def test_crossover_rejects_series_of_different_length() -> None:
    with pytest.raises(ValueError, match="length"):
        crossover([1.0], [1.0, 2.0])


@given(series)
def test_buys_and_sells_alternate(closes: list[float]) -> None:
    signals = [s for s in crossover(sma(closes, 2), sma(closes, 5)) if s is not HOLD]
    assert all(a is not b for a, b in zip(signals, signals[1:]))


# --- RSI -------------------------------------------------------------------------------------

def test_rsi_hand_computed_with_period_3() -> None:
    # changes +1, -0.5, +1 | -0.5, +1
    # first: gain 2/3, loss 1/6 -> RS 4 -> 80
    # then:  gain 4/9, loss 5/18 -> RS 1.6 -> 61.538...; gain 17/27, loss 5/27 -> RS 3.4 -> 77.27...
    values = rsi([10.0, 11.0, 10.5, 11.5, 11.0, 12.0], period=3)
    assert values[:3] == [None, None, None]
    assert values[3] == pytest.approx(80.0)
    assert values[4] == pytest.approx(100 - 100 / 2.6)
    assert values[5] == pytest.approx(100 - 100 / 4.4)


def test_rsi_14_hand_computed() -> None:
    # 14 changes alternating +1/-1: average gain = average loss = 0.5 -> RSI 50 on row 14.
    closes = [10.0 + (i % 2) for i in range(15)]
    # then +1: gain (0.5*13 + 1)/14, loss 0.5*13/14 -> RS 15/13 -> 100 - 1300/28
    closes.append(closes[-1] + 1.0)
    values = rsi(closes)
    assert values[:14] == [None] * 14
    assert values[14] == pytest.approx(50.0)
    assert values[15] == pytest.approx(100 - 1300 / 28)


def test_rsi_is_100_without_losses_and_0_without_gains() -> None:
    assert rsi([float(i) for i in range(1, 20)])[14:] == [100.0] * 5
    assert rsi([float(i) for i in range(20, 1, -1)])[14:] == pytest.approx([0.0] * 5)


def test_rsi_fewer_rows_than_period_plus_one_is_all_null() -> None:
    assert rsi([1.0] * 14) == [None] * 14
    assert rsi([]) == []


def test_rsi_rejects_period_below_one() -> None:
    with pytest.raises(ValueError):
        rsi([1.0, 2.0], period=0)


@given(series)
def test_rsi_is_between_0_and_100(closes: list[float]) -> None:
    for value in rsi(closes):
        assert value is None or 0.0 <= value <= 100.0


@given(st.lists(prices, min_size=16, max_size=40), st.sampled_from([0.5, 2.0, 4.0]))
def test_rsi_ignores_the_price_scale(closes: list[float], factor: float) -> None:
    scaled = rsi([c * factor for c in closes])
    for a, b in zip(rsi(closes), scaled):
        assert a == pytest.approx(b, abs=1e-6)


# --- volatility ------------------------------------------------------------------------------

def test_volatility_hand_computed_with_window_2() -> None:
    # returns ln 1.1, ln 0.9, 0; the sample stdev of two values is |a - b| / sqrt 2.
    values = volatility([100.0, 110.0, 99.0, 99.0], window=2)
    assert values[:2] == [None, None]
    annualise = math.sqrt(252)
    assert values[2] == pytest.approx(abs(math.log(1.1) - math.log(0.9)) / math.sqrt(2) * annualise)
    assert values[3] == pytest.approx(abs(math.log(0.9)) / math.sqrt(2) * math.sqrt(252))


def test_volatility_of_constant_growth_is_zero() -> None:
    closes = [100.0 * 1.01**i for i in range(30)]
    assert all(v == pytest.approx(0.0, abs=1e-9) for v in volatility(closes)[20:])


def test_volatility_needs_window_plus_one_rows() -> None:
    assert volatility([1.0] * 20) == [None] * 20
    assert volatility([1.0] * 21)[20] == 0.0


def test_volatility_rejects_window_below_two() -> None:
    with pytest.raises(ValueError, match="at least 2"):
        volatility([1.0, 2.0, 3.0], window=1)


def test_log_returns() -> None:
    assert log_returns([1.0, math.e, 1.0]) == pytest.approx([1.0, -1.0])


@given(st.lists(prices, min_size=0, max_size=60), st.integers(min_value=2, max_value=25))
def test_volatility_is_non_negative_and_scale_free(closes: list[float], window: int) -> None:
    values = volatility(closes, window)
    assert len(values) == len(closes)
    for a, b in zip(values, volatility([c * 3.0 for c in closes], window)):
        assert (a is None) == (b is None)
        if a is not None and b is not None:
            assert a >= 0.0
            assert a == pytest.approx(b, rel=1e-6, abs=1e-9)


# --- flat series -----------------------------------------------------------------------------

@given(prices, st.integers(min_value=0, max_value=80))
def test_flat_series(price: float, rows: int) -> None:
    closes = [price] * rows
    short, long = sma(closes, 3), sma(closes, 7)
    assert all(v is None or v == pytest.approx(price) for v in short + long)
    assert crossover(short, long) == [HOLD] * rows
    assert all(v is None or v == 100.0 for v in rsi(closes))  # no loss -> 100
    assert all(v is None or v == 0.0 for v in volatility(closes, 5))


# --- extreme finite prices -------------------------------------------------------------------

TINIEST = 5e-324  # the smallest positive (subnormal) float
LARGEST = sys.float_info.max
extreme_prices = st.one_of(
    st.floats(min_value=TINIEST, max_value=LARGEST, allow_nan=False, allow_infinity=False),
    st.sampled_from([TINIEST, sys.float_info.min, 1e-300, 1.0, 1e300, 1.7e308, LARGEST]),
)
extreme_series = st.lists(extreme_prices, min_size=0, max_size=60)
ALTERNATING = [
    [1e-300, 1e300] * 30,
    [1.0, TINIEST] * 30,
    [LARGEST, TINIEST] * 30,
    [LARGEST] * 60,
]


def _all_finite(values: list[float | None]) -> bool:
    return all(v is None or math.isfinite(v) for v in values)


@pytest.mark.parametrize(
    "closes", ALTERNATING, ids=["1e-300|1e300", "1|5e-324", "max|5e-324", "max"]
)
def test_indicators_of_extreme_alternating_closes_are_finite(closes: list[float]) -> None:
    for window in (2, 3, 20):
        assert _all_finite(sma(closes, window))
        assert _all_finite(volatility(closes, window))
        values = volatility(closes, window)
        assert all(v is not None for v in values[window:])
    assert _all_finite(rsi(closes))


def test_volatility_of_1_and_5e_324_is_a_number_not_null() -> None:
    values = volatility([1.0, TINIEST] * 11, window=20)
    # ln(1 / 5e-324) = 744.44..., the returns alternate ±744.44: stdev = 744.44 * sqrt(20/19)
    expected = (math.log(1.0) - math.log(TINIEST)) * math.sqrt(20 / 19) * math.sqrt(252)
    assert values[20] == pytest.approx(expected, rel=1e-12)


@given(extreme_series, st.integers(min_value=1, max_value=25))
def test_sma_of_extreme_prices_is_finite_and_within_its_window(
    closes: list[float], window: int
) -> None:
    for i, value in enumerate(sma(closes, window)):
        if value is not None:
            chunk = closes[i + 1 - window : i + 1]  # noqa: E203
            assert math.isfinite(value)
            assert min(chunk) * (1 - 1e-12) <= value <= max(chunk) * (1 + 1e-12)


@given(extreme_series)
def test_rsi_of_extreme_prices_is_between_0_and_100(closes: list[float]) -> None:
    for value in rsi(closes):
        assert value is None or 0.0 <= value <= 100.0


@given(extreme_series, st.integers(min_value=2, max_value=25))
def test_volatility_of_extreme_prices_is_finite_and_non_negative(
    closes: list[float], window: int
) -> None:
    values = volatility(closes, window)
    assert all(v is None or (math.isfinite(v) and v >= 0.0) for v in values)
    assert all(v is not None for v in values[window:])


@given(extreme_series, st.integers(min_value=2, max_value=20))
def test_signal_rows_of_extreme_prices_are_finite(closes: list[float], long: int) -> None:
    start = date(2000, 1, 1)
    points = [PricePoint(start + timedelta(days=i), c) for i, c in enumerate(closes)]
    params = SignalParams(short_window=1, long_window=long, volatility_window=long)
    for row in compute_signals(points, params):
        assert _all_finite([row.sma_short, row.sma_long, row.rsi, row.volatility])


@pytest.mark.parametrize("bad", [0.0, -1.0, math.nan, math.inf, -math.inf])
def test_indicators_refuse_a_price_that_is_not_positive_and_finite(bad: float) -> None:
    closes = [1.0] * 30
    closes[17] = bad
    for indicator in (lambda: sma(closes, 3), lambda: rsi(closes), lambda: volatility(closes)):
        with pytest.raises(ValueError, match="positive finite"):
            indicator()
