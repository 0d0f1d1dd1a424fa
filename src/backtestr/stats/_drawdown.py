"""Drawdowns of an equity curve: depth per point and the peak-to-recovery periods."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

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
    values = equity.to_numpy(dtype=np.float64)
    return pd.Series(_drawdown_values(values), index=equity.index, name="drawdown")


def _drawdown_values(values: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    if len(values) == 0:
        return np.zeros(0)
    peak = np.maximum.accumulate(values)
    out = np.zeros(len(values))
    positive = peak > 0
    out[positive] = 1.0 - values[positive] / peak[positive]
    return out


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
    depth = _drawdown_values(equity.to_numpy(dtype=np.float64))
    index = pd.DatetimeIndex(equity.index)
    under = depth > 0
    if not under.any():
        empty = index[:0]
        return DrawdownPeriods(empty, empty, np.zeros(0), np.zeros(0, dtype=bool))
    # runs of consecutive points under water: +1 where a run starts, -1 after it ends
    edges = np.diff(np.concatenate(([0], under.astype(np.int8), [0])))
    first = np.flatnonzero(edges == 1)
    after = np.flatnonzero(edges == -1)  # one past the last point of each run
    recovered = after < len(depth)
    # a run cannot start at point 0 (the first point is its own peak), so first - 1 is the peak
    peak_at = first - 1
    end_at = np.where(recovered, after, len(depth) - 1)
    depths = np.maximum.reduceat(depth, first)
    return DrawdownPeriods(index[peak_at], index[end_at], depths, recovered)
