"""Drawdowns of an equity curve: depth per point and the peak-to-recovery periods."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd
from numba import njit

from backtestr.model.arrays import F64, I64

__all__ = ["DrawdownPeriods", "drawdown", "drawdown_periods"]


def drawdown(equity: pd.Series) -> pd.Series:
    """Return the drawdown at every point as a fraction of the running peak, ``>= 0``.

    ``0`` at a new high, ``0.2`` when equity is 20 % below its highest value so far. Points before
    equity first turns positive, or where the running peak is not positive, are ``0``: a fraction
    of a non-positive peak means nothing.

    Examples
    --------
    >>> index = pd.date_range("2024-01-01", periods=4, freq="D", tz="UTC")
    >>> drawdown(pd.Series([100.0, 80.0, 120.0, 90.0], index=index)).round(6).tolist()
    [0.0, 0.2, 0.0, 0.25]
    """
    values = np.ascontiguousarray(equity.to_numpy(dtype=np.float64))
    return pd.Series(_drawdown_values(values), index=equity.index, name="drawdown")


@njit(cache=True)
def _drawdown_values(values: F64) -> F64:  # pragma: no cover - compiled
    """``1 - value / running peak`` where the peak is positive, else 0, in one pass.

    The peak follows ``np.maximum.accumulate``: a NaN becomes the peak and stays it.
    """
    out = np.zeros(len(values))
    if len(values) == 0:
        return out
    peak = values[0]
    for i in range(len(values)):
        value = values[i]
        if peak == peak and (value != value or value > peak):
            peak = value
        if peak > 0:
            out[i] = 1.0 - value / peak
    return out


@njit(cache=True)
def _under_water_runs(depth: F64) -> tuple[I64, I64, F64]:  # pragma: no cover - compiled
    """The runs of consecutive points with ``depth > 0``: first point, one past the last point,
    and the deepest depth of each."""
    n = len(depth)
    capacity = (n + 1) // 2  # runs are separated by at least one point
    first = np.empty(capacity, dtype=np.int64)
    after = np.empty(capacity, dtype=np.int64)
    deepest = np.empty(capacity)
    runs = 0
    i = 0
    while i < n:
        if depth[i] > 0:
            start = i
            worst = depth[i]
            i += 1
            while i < n and depth[i] > 0:
                worst = max(worst, depth[i])
                i += 1
            first[runs] = start
            after[runs] = i
            deepest[runs] = worst
            runs += 1
        else:
            i += 1
    return first[:runs], after[:runs], deepest[:runs]


@dataclass(frozen=True)
class DrawdownPeriods:
    """The drawdown periods of a curve, one row per period, in time order.

    A period begins at the last point at a peak before equity falls and ends at the first point
    back at (or above) that peak — or at the last point when equity never recovered.
    """

    start: pd.DatetimeIndex
    end: pd.DatetimeIndex
    depth: npt.NDArray[np.float64]
    recovered: npt.NDArray[np.bool_]

    @property
    def durations(self) -> pd.TimedeltaIndex:
        """Time from each period's peak to its end."""
        return pd.TimedeltaIndex(self.end - self.start)

    def __len__(self) -> int:
        return len(self.depth)


def drawdown_periods(equity: pd.Series) -> DrawdownPeriods:
    """Split an equity curve into its drawdown periods (see :class:`DrawdownPeriods`).

    Examples
    --------
    >>> index = pd.date_range("2024-01-01", periods=5, freq="D", tz="UTC")
    >>> periods = drawdown_periods(pd.Series([100.0, 90.0, 100.0, 95.0, 97.0], index=index))
    >>> [str(d) for d in periods.durations], periods.depth.round(3).tolist()
    (['2 days 00:00:00', '2 days 00:00:00'], [0.1, 0.05])
    """
    depth = _drawdown_values(np.ascontiguousarray(equity.to_numpy(dtype=np.float64)))
    index = pd.DatetimeIndex(equity.index)
    first, after, depths = _under_water_runs(depth)
    if len(first) == 0:
        empty = index[:0]
        return DrawdownPeriods(empty, empty, np.zeros(0), np.zeros(0, dtype=bool))
    recovered = after < len(depth)
    # a run cannot start at point 0 (the first point is its own peak), so first - 1 is the peak
    peak_at = first - 1
    end_at = np.where(recovered, after, len(depth) - 1)
    return DrawdownPeriods(index[peak_at], index[end_at], depths, recovered)
