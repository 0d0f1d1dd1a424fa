"""Daily returns: the compiled path compute_statistics takes equals the pandas definition."""

from __future__ import annotations

from datetime import time

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from backtestr.model import TradingDay
from backtestr.stats import infer_periods_per_year, period_returns
from backtestr.stats._daily import returns_and_periods_per_year

MINUTE_NS = 60 * 10**9
# around the US and EU daylight-saving changes of 2024 (spring forward, fall back)
ORIGINS = [
    pd.Timestamp("2024-03-08 12:00", tz="UTC"),
    pd.Timestamp("2024-03-29 12:00", tz="UTC"),
    pd.Timestamp("2024-11-01 12:00", tz="UTC"),
    pd.Timestamp("2024-10-25 12:00", tz="UTC"),
]
TRADING_DAYS = [
    None,
    TradingDay.fx(),
    TradingDay.utc_midnight(),
    TradingDay(time(8, 0), "Europe/London"),
    TradingDay(time(22, 30), "Asia/Kolkata"),
]


@st.composite
def curves(draw: st.DrawFn) -> pd.Series:
    origin = draw(st.sampled_from(ORIGINS))
    # spacings from a minute to a few days: intraday curves, weekend gaps, daily curves
    gaps = draw(
        st.lists(
            st.sampled_from([1, 1, 1, 7, 60, 61, 600, 1440, 3 * 1440]), min_size=0, max_size=400
        )
    )
    ns = origin.value + np.cumsum(np.asarray([0, *gaps], dtype=np.int64)) * MINUTE_NS
    values = np.asarray(
        draw(st.lists(st.floats(1.0, 1e6), min_size=len(ns), max_size=len(ns))), dtype=np.float64
    )
    unit = draw(st.sampled_from(["ns", "us", "s"]))
    index = pd.DatetimeIndex(ns.view("datetime64[ns]"), dtype="datetime64[ns, UTC]")
    return pd.Series(values, index=index.as_unit(unit))


@settings(max_examples=150, deadline=None)
@given(curves(), st.sampled_from(TRADING_DAYS))
def test_fast_returns_and_annualisation_equal_the_pandas_definition(
    curve: pd.Series, trading_day: TradingDay | None
) -> None:
    returns, periods_per_year = returns_and_periods_per_year(curve, trading_day)
    expected = period_returns(curve, trading_day).to_numpy()
    assert returns.dtype == expected.dtype
    assert np.array_equal(returns.view(np.int64), expected.view(np.int64))
    assert periods_per_year == infer_periods_per_year(curve, trading_day)


def test_a_repeated_wall_clock_hour_keeps_the_pandas_choice_of_a_days_last_point() -> None:
    # New York falls back at 06:00 UTC on 2024-11-03: 01:00-02:00 local comes twice, so the
    # wall-clock labels of minute data run backwards there
    index = pd.date_range("2024-11-03 04:00", "2024-11-03 07:30", freq="10min", tz="UTC")
    curve = pd.Series(np.linspace(100.0, 130.0, len(index)), index=index)
    day = TradingDay(time(1, 30), "America/New_York")  # a day starts inside that hour
    returns, _ = returns_and_periods_per_year(curve, day)
    assert np.array_equal(returns, period_returns(curve, day).to_numpy())
