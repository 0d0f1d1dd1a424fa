"""Period returns of an equity curve and the annualisation convention.

Risk and return ratios are computed on *period* returns, not bar returns, so that an M1 run and a
D1 run of the same strategy report comparable numbers. As backtesting.py does, the period is the
trading day for intraday and daily data, and the week, month or year for coarser data (judged from
the median spacing of the last 100 equity points). The equity at a period's last point closes the
period; periods without any equity point are skipped (no flat weekend returns are invented).

Annualisation (when ``periods_per_year`` is not given):

- weekly, monthly, yearly periods: 52, 12, 1;
- daily periods on data that trades at weekends (more than ~17 % of points on a Saturday or
  Sunday, as crypto): 365;
- daily periods cut by an FX trading day (one starting the previous evening, as 17:00 New York):
  260, five trading days in each of 52 weeks;
- other daily periods: 252, the equity-market convention backtesting.py also uses.
"""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import numpy.typing as npt
import pandas as pd

from backtestr.model import TradingDay
from backtestr.model.arrays import I64

__all__ = ["geometric_mean", "infer_periods_per_year", "period_returns"]

_WEEKEND_SHARE = 2 / 7 * 0.6  # backtesting.py's threshold for "this market trades at weekends"


def _median_spacing_days(index: pd.DatetimeIndex) -> int:
    tail = index[-100:]
    if len(tail) < 2:
        return 0
    spacing = pd.Series(tail).diff().dropna().median()
    return int(pd.Timedelta(spacing).days)


def _period_code(index: pd.DatetimeIndex) -> str:
    # backtesting.py matches 7, 31 and 365 days exactly; ranges also catch 30-day or leap spacing
    days = _median_spacing_days(index)
    if 5 <= days <= 8:
        return "W"
    if 28 <= days <= 31:
        return "ME"
    if 365 <= days <= 366:
        return "YE"
    return "D"


def _day_labels(index: pd.DatetimeIndex, trading_day: TradingDay | None) -> pd.DatetimeIndex:
    """Shift times so that each trading day becomes one calendar day (midnight to midnight)."""
    if trading_day is None:
        return index
    local = index.tz_convert(trading_day.timezone).tz_localize(None)
    start = timedelta(hours=trading_day.start.hour, minutes=trading_day.start.minute)
    shifted = local - start
    if trading_day.starts_previous_evening:
        shifted = shifted + timedelta(days=1)
    return pd.DatetimeIndex(shifted).tz_localize("UTC")


def period_returns(equity: pd.Series, trading_day: TradingDay | None = None) -> pd.Series:
    """Return the simple returns between the last equity points of consecutive periods.

    Parameters
    ----------
    equity
        Equity on a tz-aware, increasing DatetimeIndex.
    trading_day
        Where a day starts, for daily periods; ``None`` cuts days at 00:00 UTC.

    Examples
    --------
    >>> index = pd.DatetimeIndex(["2024-01-01 10:00", "2024-01-01 20:00", "2024-01-02 10:00"],
    ...                          tz="UTC")
    >>> period_returns(pd.Series([100.0, 110.0, 121.0], index=index)).round(6).tolist()
    [0.1]
    """
    index = pd.DatetimeIndex(equity.index)
    code = _period_code(index)
    labelled = pd.Series(
        equity.to_numpy(dtype=np.float64),
        index=_day_labels(index, trading_day) if code == "D" else index,
    )
    closes = labelled.resample(code).last().dropna()
    values = closes.to_numpy()
    with np.errstate(divide="ignore", invalid="ignore"):
        returns = values[1:] / values[:-1] - 1.0
    return pd.Series(returns, index=closes.index[1:], name="return")


def infer_periods_per_year(equity: pd.Series, trading_day: TradingDay | None = None) -> float:
    """Return the annualisation factor for :func:`period_returns` (rules in the module doc)."""
    index = pd.DatetimeIndex(equity.index)
    code = _period_code(index)
    if code != "D":
        return {"W": 52.0, "ME": 12.0, "YE": 1.0}[code]
    labels = _day_labels(index, trading_day)
    weekend_share = float(np.mean(labels.day_of_week >= 5)) if len(labels) else 0.0
    if weekend_share > _WEEKEND_SHARE:
        return 365.0
    if trading_day is not None and trading_day.starts_previous_evening:
        return 260.0
    return 252.0


_DAY_NS = 86_400 * 10**9
_THURSDAY = 3  # 1970-01-01, day 0 of the epoch, in pandas' numbering (Monday = 0)
_COARSE_PERIODS_PER_YEAR = {"W": 52.0, "ME": 12.0, "YE": 1.0}


def returns_and_periods_per_year(
    equity: pd.Series, trading_day: TradingDay | None = None
) -> tuple[npt.NDArray[np.float64], float]:
    """:func:`period_returns` (values only) and :func:`infer_periods_per_year`, together.

    The same numbers, for less work on long intraday curves: the day labels are computed once,
    as integers, and the last point of each day is found by where the day number changes
    (labels that never run backwards put each day's points next to each other). When they do
    run backwards (wall-clock labels in an hour repeated when daylight saving ends), cannot be
    held in nanoseconds or the curve holds a NaN, the pandas path above decides.
    """
    index = pd.DatetimeIndex(equity.index)
    code = _period_code(index)
    if code != "D":
        return period_returns(equity, trading_day).to_numpy(), _COARSE_PERIODS_PER_YEAR[code]
    try:
        labels = _day_label_ns(index, trading_day)
    except pd.errors.OutOfBoundsDatetime:
        return period_returns(equity, trading_day).to_numpy(), infer_periods_per_year(
            equity, trading_day
        )
    days = labels // _DAY_NS
    periods_per_year = _daily_periods_per_year(days, trading_day)
    values = equity.to_numpy(dtype=np.float64)
    # pandas skips NaN when it takes a day's last value
    if np.any(labels[1:] < labels[:-1]) or np.isnan(values).any():
        return period_returns(equity, trading_day).to_numpy(), periods_per_year
    last_of_day = np.flatnonzero(days[1:] != days[:-1])
    closes = np.append(values[last_of_day], values[-1:])
    with np.errstate(divide="ignore", invalid="ignore"):
        returns = closes[1:] / closes[:-1] - 1.0
    return returns, periods_per_year


def _day_label_ns(index: pd.DatetimeIndex, trading_day: TradingDay | None) -> I64:
    """:func:`_day_labels` as nanoseconds since the epoch (same instants, no index built)."""
    utc = index.as_unit("ns")
    if trading_day is None:
        return utc.asi8
    local = utc.tz_convert(trading_day.timezone).tz_localize(None).asi8
    start = timedelta(hours=trading_day.start.hour, minutes=trading_day.start.minute)
    shift = -(start // timedelta(microseconds=1)) * 1_000
    if trading_day.starts_previous_evening:
        shift += _DAY_NS
    return local + np.int64(shift)


def _daily_periods_per_year(days: I64, trading_day: TradingDay | None) -> float:
    """:func:`infer_periods_per_year` for daily periods, from the label of each point's day."""
    weekend_share = float(np.mean((days + _THURSDAY) % 7 >= 5)) if len(days) else 0.0
    if weekend_share > _WEEKEND_SHARE:
        return 365.0
    if trading_day is not None and trading_day.starts_previous_evening:
        return 260.0
    return 252.0


def geometric_mean(returns: np.ndarray) -> float:
    """Return the per-period geometric mean of simple returns; ``NaN`` if empty or any <= -100 %.

    Examples
    --------
    >>> round(geometric_mean(np.array([0.1, -0.1])), 6)
    -0.005013
    """
    values = np.nan_to_num(np.asarray(returns, dtype=np.float64))
    if len(values) == 0 or np.any(values <= -1.0):
        return float("nan")
    mean = float(np.expm1(np.log1p(values).sum() / len(values)))
    # a mean lies between the extremes; rounding must not push it outside
    return min(max(mean, float(values.min())), float(values.max()))
