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
import pandas as pd

from backtestr.model import TradingDay

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
