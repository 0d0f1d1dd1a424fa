"""A market restricted to a time window: what a walk-forward training (or test) run may see.

The no-look-ahead guarantee of walk-forward analysis rests here: a run on
``slice_market(market, start_ns, end_ns)`` cannot read a price from at or after ``end_ns``.

- Bars of the run's timeframe are kept when they lie wholly inside ``[start, end)``: open at or
  after ``start`` and close at or before ``end``. (A daily bar opening at 21:00 UTC before a
  midnight boundary closes after it: its close is a later price, so it is dropped.)
- Execution bars and ticks are kept from ``start`` up to the close of the last kept bar.
- Other timeframes (``data.history(..., timeframe=...)``) are kept when they open in
  ``[start, end)``; the engine shows a strategy only bars closed by its current step, and no
  step closes after ``end``, so a coarser bar still forming at ``end`` is never seen.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import numpy as np
import pandas as pd

from backtestr.engine.market import BarLoader, MarketData, SymbolFeed, bar_close_times
from backtestr.errors import ConfigError, NoDataError
from backtestr.model import BarArrays, TickArrays, Timeframe

__all__ = ["RestrictableLoader", "bars_between", "slice_market"]


@runtime_checkable
class RestrictableLoader(Protocol):
    """A bar loader that can restrict itself to a window (e.g. a preloaded, picklable one)."""

    def __call__(self, symbol: str, timeframe: Timeframe, /) -> BarArrays: ...

    def between(self, start_ns: int, end_ns: int) -> BarLoader:
        """The same loader, giving only bars that open in ``[start_ns, end_ns)``."""
        ...


def bars_between(bars: BarArrays, start_ns: int, end_ns: int) -> BarArrays:
    """The bars opening in ``[start_ns, end_ns)`` (views, no copy)."""
    ts = bars.ts_ns
    first, stop = np.searchsorted(ts, [start_ns, end_ns], side="left")
    return bars.slice(int(first), int(stop))


def _ticks_between(ticks: TickArrays, start_ns: int, end_ns: int) -> TickArrays:
    first, stop = np.searchsorted(ticks.ts_ns, [start_ns, end_ns], side="left")
    return ticks.slice(int(first), int(stop))


@dataclass(frozen=True, slots=True)
class _WindowedLoader:
    """Any loader, its bars cut to ``[start_ns, end_ns)`` (picklable when the loader is)."""

    loader: BarLoader
    start_ns: int
    end_ns: int

    def __call__(self, symbol: str, timeframe: Timeframe) -> BarArrays:
        return bars_between(self.loader(symbol, timeframe), self.start_ns, self.end_ns)

    def between(self, start_ns: int, end_ns: int) -> BarLoader:
        return _WindowedLoader(self.loader, max(start_ns, self.start_ns), min(end_ns, self.end_ns))


def slice_market(market: MarketData, start_ns: int, end_ns: int) -> MarketData:
    """``market`` restricted to ``[start_ns, end_ns)`` (see the module docstring for what is
    kept). Arrays are views of the original ones.

    Raises
    ------
    ConfigError
        When ``end_ns`` is not after ``start_ns``.
    NoDataError
        When a symbol has no whole bar of the run's timeframe inside the window.
    """
    if end_ns <= start_ns:
        raise ConfigError(
            f"Empty window: {_utc(start_ns)} to {_utc(end_ns)} (the end must be after the start)."
        )
    feeds: dict[str, SymbolFeed] = {}
    for symbol, feed in market.feeds.items():
        bars = feed.bars
        closes = bar_close_times(bars, market.timeframe)
        inside = (bars.ts_ns >= start_ns) & (closes <= end_ns)
        kept = np.flatnonzero(inside)
        if len(kept) == 0:
            raise NoDataError(
                f"No whole {market.timeframe} bar of {symbol} between {_utc(start_ns)} and "
                f"{_utc(end_ns)}: the window is too short or falls in a gap of the data."
            )
        # kept bars are one contiguous run: opens and closes both increase
        first, last = int(kept[0]), int(kept[-1])
        until = min(end_ns, int(closes[last]))
        feeds[symbol] = dataclasses.replace(
            feed,
            bars=bars.slice(first, last + 1),
            ticks=None if feed.ticks is None else _ticks_between(feed.ticks, start_ns, until),
            execution_bars=None
            if feed.execution_bars is None
            else bars_between(feed.execution_bars, start_ns, until),
        )
    loader = market.bar_loader
    windowed: BarLoader | None
    if loader is None:
        windowed = None
    elif isinstance(loader, RestrictableLoader):
        windowed = loader.between(start_ns, end_ns)
    else:
        windowed = _WindowedLoader(loader, start_ns, end_ns)
    return MarketData(market.timeframe, feeds, windowed)


def _utc(ns: int) -> str:
    return pd.Timestamp(ns, unit="ns", tz="UTC").strftime("%Y-%m-%d %H:%M UTC")
