"""How the clock's steps map onto one symbol's bars and quotes, in compiled merge walks.

Both sides are sorted in time, so one pass over the two arrays together answers, for every step
at once, what a binary search per step would (``np.searchsorted``), without its cache misses on
a path of millions of quotes, and without the index arrays and gathers of the vectorised form.

- :func:`quote_step_ends`: where each step's quotes end (the first quote at or after its close);
- :func:`bar_marks`: per step, how many of the symbol's bars have opened by the step's open,
  whether one opened exactly then, and the marks (bid and ask of the latest bar's close).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from numba import njit

from backtestr.model import BarArrays
from backtestr.model.arrays import F64, I64

__all__ = ["BarMarks", "bar_marks", "quote_step_ends"]


@njit(cache=True)
def quote_step_ends(quote_ns: I64, close_ns: I64) -> I64:  # pragma: no cover - compiled
    """Per step, the index of the first quote at or after its close (``len(quote_ns)`` if none).

    ``np.searchsorted(quote_ns, close_ns, side="left")`` for sorted ``close_ns``.
    """
    ends = np.empty(len(close_ns), dtype=np.int64)
    k = 0
    quotes = len(quote_ns)
    for i in range(len(close_ns)):
        while k < quotes and quote_ns[k] < close_ns[i]:
            k += 1
        ends[i] = k
    return ends


@dataclass(frozen=True, slots=True)
class BarMarks:
    """One symbol's bars seen from the clock's steps.

    Attributes
    ----------
    ends
        Per step, how many bars have opened at or before the step's open (0: none yet).
    fresh
        Per step, whether a bar opened exactly at the step's open.
    bid, ask
        Per step, the close of the latest bar and that plus its spread; before the first bar the
        first bar's, and a missing value (NaN) is carried forward from the step before.
    """

    ends: I64
    fresh: npt.NDArray[np.bool_]
    bid: F64
    ask: F64


def bar_marks(bars: BarArrays, step_open_ns: I64, default_spread: float) -> BarMarks:
    """Map a symbol's bars onto the steps (see :class:`BarMarks`).

    ``default_spread`` (price) stands in for a bar whose average spread is missing.
    """
    ends, fresh, bid, ask = _bar_marks(
        bars.ts_ns, step_open_ns, bars.close, bars.spread_avg, default_spread
    )
    return BarMarks(ends, fresh, bid, ask)


@njit(cache=True)
def _bar_marks(
    bar_ns: I64, step_ns: I64, close: F64, spread_avg: F64, default_spread: float
) -> tuple[I64, npt.NDArray[np.bool_], F64, F64]:  # pragma: no cover - compiled
    steps = len(step_ns)
    ends = np.empty(steps, dtype=np.int64)
    fresh = np.empty(steps, dtype=np.bool_)
    bid = np.empty(steps)
    ask = np.empty(steps)
    j = 0  # bars opened so far
    for i in range(steps):
        while j < len(bar_ns) and bar_ns[j] <= step_ns[i]:
            j += 1
        ends[i] = j
        latest = max(j - 1, 0)
        fresh[i] = len(bar_ns) > 0 and bar_ns[latest] == step_ns[i]
        if j == 0:
            bid[i] = np.nan
            ask[i] = np.nan
        else:
            spread = spread_avg[latest]
            if not np.isfinite(spread):
                spread = default_spread
            bid[i] = close[latest]
            ask[i] = close[latest] + spread
    _fill_gaps(bid)
    _fill_gaps(ask)
    return ends, fresh, bid, ask


@njit(cache=True)
def _fill_gaps(values: F64) -> None:  # pragma: no cover - compiled
    """Carry the last value forward over NaNs, then the first value back over leading ones
    (all-NaN stays NaN)."""
    first = -1
    last = np.nan
    for i in range(len(values)):
        if np.isnan(values[i]):
            if first >= 0:
                values[i] = last
        else:
            last = values[i]
            if first < 0:
                first = i
    for i in range(max(first, 0)):
        values[i] = values[first]
