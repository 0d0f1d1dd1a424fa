"""Bars from ticks or from smaller bars, in batch and incrementally, for many timeframes at once.

A bar is labelled by its open time and covers ``[open, open + timeframe)``. Intraday bars align
to multiples of their length since the epoch (UTC); D1 and above align to a
:class:`~backtestr.model.TradingDay` (FX: 17:00 New York). Periods without data get no bar.

- :func:`aggregate_ticks` — ticks to several timeframes in one pass.
- :func:`aggregate_bars` — bars to a larger timeframe.
- :class:`MultiTimeframeBars` — the incremental engine (replay, backtests); its numba kernels are
  in :mod:`backtestr.bars.kernels`.
- :func:`bar_open_times` — the bar label of each timestamp.
"""

from backtestr.bars.batch import aggregate_bars, aggregate_ticks
from backtestr.bars.calendar import bar_open_times, period_starts
from backtestr.bars.incremental import BarCloses, MultiTimeframeBars

__all__ = [
    "BarCloses",
    "MultiTimeframeBars",
    "aggregate_bars",
    "aggregate_ticks",
    "bar_open_times",
    "period_starts",
]
