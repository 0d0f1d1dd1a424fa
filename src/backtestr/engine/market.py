"""What a run trades on: per-symbol bars (and ticks), the clock, and the price paths.

The engine takes in-memory columnar data (:class:`MarketData`); the store, a test or a notebook
are only ways of filling it. From it the engine derives, once per run:

- the **clock**: the union of the strategy-timeframe bar open times of every symbol;
- per symbol a **quote path**: the prices orders are matched against, in time order. Real ticks,
  four synthetic quotes per execution bar (open → nearer extreme → farther extreme → close) or
  only the bar opens, depending on the modelling mode. ``continuous[k]`` says the price moved
  without a gap from quote ``k − 1`` to quote ``k`` (inside one synthetic bar), so a level crossed
  between them was traded exactly; otherwise a level jumped over fills at the quote's price;
- per symbol and step the quote range the step covers, ``[close of step i − 1, close of step i)``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from numba import njit

from backtestr.engine.settings import ModellingMode
from backtestr.errors import ConfigError
from backtestr.model import BarArrays, Instrument, TickArrays, Timeframe
from backtestr.model.arrays import F64, I64

__all__ = ["MarketData", "QuotePath", "SymbolFeed", "bar_close_times", "build_quote_path"]

BOOL = npt.NDArray[np.bool_]


@dataclass(frozen=True, slots=True)
class SymbolFeed:
    """The data of one symbol.

    Parameters
    ----------
    instrument
        Its specification.
    bars
        Bid bars of the strategy timeframe (what ``handle_data`` is called on).
    ticks
        Real ticks, needed for the ``ticks`` modelling mode.
    execution_bars, execution_timeframe
        Finer bars (usually M1) whose synthetic paths model prices in ``ohlc`` mode; by default
        the strategy bars themselves.
    """

    instrument: Instrument
    bars: BarArrays
    ticks: TickArrays | None = None
    execution_bars: BarArrays | None = None
    execution_timeframe: Timeframe | None = None


BarLoader = Callable[[str, Timeframe], BarArrays]


@dataclass(frozen=True, slots=True)
class MarketData:
    """Everything a run trades on. The first symbol is the run's ``context.symbol``.

    ``bar_loader`` supplies other timeframes on demand (``data.history(..., timeframe="H1")``).
    """

    timeframe: Timeframe
    feeds: Mapping[str, SymbolFeed]
    bar_loader: BarLoader | None = None

    def __post_init__(self) -> None:
        if not self.feeds:
            raise ConfigError("MarketData needs at least one symbol")
        for symbol, feed in self.feeds.items():
            if len(feed.bars) == 0:
                raise ConfigError(f"No {self.timeframe} bars for {symbol} in the chosen range")
            if not _strictly_increasing(feed.bars.ts_ns):
                raise ConfigError(f"{symbol} bars are not strictly increasing in time")

    @property
    def symbols(self) -> list[str]:
        return list(self.feeds)


@dataclass(frozen=True, slots=True)
class QuotePath:
    """Prices orders are matched against, in time order (see module docstring)."""

    ts_ns: I64
    bid: F64
    ask: F64
    continuous: BOOL

    def __len__(self) -> int:
        return len(self.ts_ns)


def bar_close_times(bars: BarArrays, timeframe: Timeframe) -> I64:
    """When each bar closes: open + duration; months close at the next bar's open."""
    duration = timeframe.duration_ns
    if duration is not None:
        return bars.ts_ns + np.int64(duration)
    closes = np.empty_like(bars.ts_ns)
    closes[:-1] = bars.ts_ns[1:]
    if len(closes):
        closes[-1] = bars.ts_ns[-1] + np.int64(31 * 86_400 * 10**9)
    return closes


def _bar_spread(bars: BarArrays, default_spread: float) -> F64:
    spread = bars.spread_avg.copy()
    spread[~np.isfinite(spread)] = default_spread
    return spread


def build_quote_path(
    feed: SymbolFeed, mode: ModellingMode, timeframe: Timeframe, spread_pips: float
) -> QuotePath:
    """The quote path of one symbol for a modelling mode."""
    default_spread = spread_pips * feed.instrument.pip_size
    if mode is ModellingMode.TICKS:
        if feed.ticks is None or len(feed.ticks) == 0:
            raise ConfigError(
                f"Modelling mode 'ticks' needs tick data for {feed.instrument.symbol}: import "
                "ticks or use --mode ohlc."
            )
        ticks = feed.ticks
        return QuotePath(ticks.ts_ns, ticks.bid, ticks.ask, np.zeros(len(ticks), dtype=np.bool_))
    if mode is ModellingMode.OPEN:
        bars = feed.bars
        spread = _bar_spread(bars, default_spread)
        return QuotePath(
            bars.ts_ns, bars.open, bars.open + spread, np.zeros(len(bars), dtype=np.bool_)
        )
    bars = feed.execution_bars if feed.execution_bars is not None else feed.bars
    tf = feed.execution_timeframe if feed.execution_bars is not None else timeframe
    if tf is None:
        raise ConfigError("execution_timeframe is required with execution_bars")
    closes = bar_close_times(bars, tf)
    ts, bid, ask, continuous = _ohlc_path(
        bars.ts_ns,
        closes,
        bars.open,
        bars.high,
        bars.low,
        bars.close,
        bars.spread_avg,
        default_spread,
    )
    return QuotePath(ts, bid, ask, continuous)


@njit(cache=True)
def _ohlc_path(
    open_ns: I64,
    close_ns: I64,
    open_: F64,
    high: F64,
    low: F64,
    close: F64,
    spread_avg: F64,
    default_spread: float,
) -> tuple[I64, F64, F64, BOOL]:  # pragma: no cover - compiled
    """Four quotes per bar in one pass: open, nearer extreme, farther extreme, close.

    The extremes sit at one and two thirds of the bar, the close just before the next bar. The
    ask is the bid plus the bar's average spread, ``default_spread`` where that is missing
    (as :func:`_bar_spread`, without building the cleaned column first).
    """
    n = len(open_ns)
    ts = np.empty(4 * n, dtype=np.int64)
    bid = np.empty(4 * n)
    ask = np.empty(4 * n)
    continuous = np.ones(4 * n, dtype=np.bool_)
    for i in range(n):
        j = 4 * i
        duration = close_ns[i] - open_ns[i]
        high_first = (high[i] - open_[i]) < (open_[i] - low[i])
        ts[j] = open_ns[i]
        ts[j + 1] = open_ns[i] + duration // 3
        ts[j + 2] = open_ns[i] + (2 * duration) // 3
        ts[j + 3] = close_ns[i] - 1
        bid[j] = open_[i]
        bid[j + 1] = high[i] if high_first else low[i]
        bid[j + 2] = low[i] if high_first else high[i]
        bid[j + 3] = close[i]
        spread = spread_avg[i] if np.isfinite(spread_avg[i]) else default_spread
        for q in range(j, j + 4):
            ask[q] = bid[q] + spread
        continuous[j] = False
    return ts, bid, ask, continuous


@njit(cache=True)
def _strictly_increasing(values: I64) -> bool:  # pragma: no cover - compiled
    """``not np.any(np.diff(values) <= 0)`` without the difference array (checked per run)."""
    for i in range(1, len(values)):  # noqa: SIM110 - numba compiles a loop, not all(generator)
        if values[i] <= values[i - 1]:
            return False
    return True
