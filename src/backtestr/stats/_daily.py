"""Daily period returns and their annualisation for compute_statistics, in one compiled pass.

The same numbers as :func:`~backtestr.stats.period_returns` and
:func:`~backtestr.stats.infer_periods_per_year` (``_returns``, the definition), for much less
work on long intraday curves: each point's day label is computed once, as an integer, and one
pass over the points counts weekend labels and picks the last point of each day where the day
number changes. That is pandas' answer whenever the labels never run backwards, which puts each
day's points next to each other. When they do (wall-clock labels in an hour repeated when
daylight saving ends), cannot be held in nanoseconds, or the curve holds a NaN (pandas skips
it), the pandas definition decides.
"""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import numpy.typing as npt
import pandas as pd
from numba import njit

from backtestr.model import TradingDay
from backtestr.model.arrays import F64, I64
from backtestr.stats._returns import (
    _WEEKEND_SHARE,
    _period_code,
    infer_periods_per_year,
    period_returns,
)

__all__ = ["returns_and_periods_per_year"]

_DAY_NS = 86_400 * 10**9
_THURSDAY = 3  # 1970-01-01, day 0 of the epoch, in pandas' numbering (Monday = 0)
_COARSE_PERIODS_PER_YEAR = {"W": 52.0, "ME": 12.0, "YE": 1.0}


def returns_and_periods_per_year(
    equity: pd.Series, trading_day: TradingDay | None = None
) -> tuple[npt.NDArray[np.float64], float]:
    """``period_returns(equity, trading_day)`` as an array, and
    ``infer_periods_per_year(equity, trading_day)``."""
    index = pd.DatetimeIndex(equity.index)
    code = _period_code(index)
    if code != "D":
        return period_returns(equity, trading_day).to_numpy(), _COARSE_PERIODS_PER_YEAR[code]
    try:
        wall_ns, shift_ns = _wall_clock_ns(index, trading_day)
    except pd.errors.OutOfBoundsDatetime:
        return period_returns(equity, trading_day).to_numpy(), infer_periods_per_year(
            equity, trading_day
        )
    values = np.ascontiguousarray(equity.to_numpy(dtype=np.float64))
    closes, weekend_points, backwards = _daily_closes(wall_ns, np.int64(shift_ns), values)
    weekend_share = weekend_points / len(values) if len(values) else 0.0
    if weekend_share > _WEEKEND_SHARE:
        periods_per_year = 365.0
    elif trading_day is not None and trading_day.starts_previous_evening:
        periods_per_year = 260.0
    else:
        periods_per_year = 252.0
    if backwards or np.isnan(values).any():
        return period_returns(equity, trading_day).to_numpy(), periods_per_year
    with np.errstate(divide="ignore", invalid="ignore"):
        returns = closes[1:] / closes[:-1] - 1.0
    return returns, periods_per_year


def _wall_clock_ns(index: pd.DatetimeIndex, trading_day: TradingDay | None) -> tuple[I64, int]:
    """Nanoseconds of each point on the trading day's wall clock, and the shift that turns
    them into ``_returns._day_labels`` (a trading day becomes one calendar day)."""
    utc = index if index.unit == "ns" else index.as_unit("ns")
    if trading_day is None:
        return np.ascontiguousarray(utc.asi8), 0
    wall = utc.tz_convert(trading_day.timezone).tz_localize(None).asi8
    start = timedelta(hours=trading_day.start.hour, minutes=trading_day.start.minute)
    shift = -(start // timedelta(microseconds=1)) * 1_000
    if trading_day.starts_previous_evening:
        shift += _DAY_NS
    return np.ascontiguousarray(wall), shift


@njit(cache=True)
def _daily_closes(
    wall_ns: I64, shift_ns: np.int64, values: F64
) -> tuple[F64, int, bool]:  # pragma: no cover - compiled
    """The last value of each day label's run of points, how many points are labelled on a
    Saturday or Sunday, and whether the labels ever run backwards."""
    n = len(values)
    closes = np.empty(n)  # pages never written are never touched
    days = 0
    weekend = 0
    backwards = False
    previous_label = 0
    previous_day = 0
    for i in range(n):
        label = wall_ns[i] + shift_ns
        day = label // _DAY_NS  # floor, also before 1970
        if (day + _THURSDAY) % 7 >= 5:
            weekend += 1
        if i > 0:
            if label < previous_label:
                backwards = True
            if day != previous_day:
                closes[days] = values[i - 1]
                days += 1
        previous_label = label
        previous_day = day
    if n > 0:
        closes[days] = values[n - 1]
        days += 1
    return closes[:days], weekend, backwards
