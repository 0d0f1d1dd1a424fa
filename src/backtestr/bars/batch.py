"""Batch aggregation: ticks to bars of several timeframes in one pass, and bars to larger bars.

Both run the same kernels as :class:`~backtestr.bars.incremental.MultiTimeframeBars`, so a batch
result is bit-identical to feeding the same data incrementally.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np

from backtestr.bars import kernels as kn
from backtestr.bars.calendar import period_starts
from backtestr.bars.state import allocate, closed_bars, cover
from backtestr.errors import ConfigError, DataError
from backtestr.model import BarArrays, PriceSide, TickArrays, Timeframe, TradingDay
from backtestr.model.arrays import F64, I64

__all__ = ["aggregate_bars", "aggregate_ticks", "side_code"]

_NO_EVENTS = np.empty(0, dtype=np.int64)
_SIDES = {PriceSide.BID: kn.SIDE_BID, PriceSide.ASK: kn.SIDE_ASK, PriceSide.MID: kn.SIDE_MID}


def side_code(side: PriceSide | str) -> int:
    """The kernels' integer code for a price side (``SIDE_BID``, ``SIDE_ASK``, ``SIDE_MID``)."""
    return _SIDES[PriceSide.parse(side)]


def unique_timeframes(timeframes: Iterable[Timeframe | str]) -> list[Timeframe]:
    """Parse and de-duplicate, keeping the caller's order; at least one is required."""
    parsed: list[Timeframe] = []
    for item in timeframes:
        timeframe = Timeframe.parse(item)
        if timeframe not in parsed:
            parsed.append(timeframe)
    if not parsed:
        raise ConfigError("No timeframe given: pass at least one, e.g. ['M1', 'H1'].")
    if len(parsed) > 62:
        raise ConfigError(f"At most 62 timeframes can be built at once, got {len(parsed)}.")
    return parsed


def _capacity(timeframe: Timeframe, trading_day: TradingDay, first: int, last: int, n: int) -> int:
    """An upper bound on the number of bars ``n`` rows spanning ``[first, last]`` can make."""
    duration = timeframe.duration_ns
    if timeframe.is_intraday and duration is not None:
        return min(n, last // duration - first // duration + 1)
    return min(n, len(period_starts(timeframe, trading_day, first, last)))


def _contiguous_f64(values: F64) -> F64:
    return np.ascontiguousarray(values, dtype=np.float64)


def _raise_status(status: int, what: str, index: int, ts_ns: I64) -> None:
    if status == kn.OUT_OF_ORDER:
        raise DataError(
            f"{what} are not in time order: row {index} at {ts_ns[index]} ns is older than "
            "the row before it. Sort the data by time first."
        )
    if status != kn.OK:
        raise RuntimeError(f"bar kernel stopped with status {status} at row {index}")


def _collect(state: kn.BarState, timeframes: Sequence[Timeframe]) -> dict[Timeframe, BarArrays]:
    result: dict[Timeframe, BarArrays] = {}
    for k, timeframe in enumerate(timeframes):
        if state.slots[k, kn.CLOSED] > state.slots[k, kn.RING_CAP]:
            raise RuntimeError(f"bar buffer of {timeframe} overflowed")
        view = closed_bars(state, k)
        result[timeframe] = BarArrays(**{name: col.copy() for name, col in view.columns().items()})
    return result


def aggregate_ticks(
    ticks: TickArrays,
    timeframes: Iterable[Timeframe | str],
    *,
    side: PriceSide | str = PriceSide.BID,
    trading_day: TradingDay | None = None,
) -> dict[Timeframe, BarArrays]:
    """Build bars of several timeframes from ticks in one pass.

    Parameters
    ----------
    ticks
        Quote ticks with non-decreasing timestamps.
    timeframes
        Any mix of intraday (``S30``, ``M1``, ``M3``, ``H4`` …) and D/W/MN timeframes.
    side
        Price the bars are made of: ``bid`` (default), ``ask`` or ``mid``. Volume is that
        side's volume (bid + ask for mid).
    trading_day
        Alignment of D1 and above; FX (17:00 New York) by default.

    Returns
    -------
    dict[Timeframe, BarArrays]
        Per timeframe, bars labelled by open time; periods without ticks have no bar. The last
        bar is included even though no later tick closed it.

    Raises
    ------
    DataError
        When the timestamps go backwards.

    Examples
    --------
    >>> import numpy as np
    >>> from backtestr.model import TickArrays
    >>> ts = np.array([0, 30, 61, 200], dtype=np.int64) * 10**9
    >>> ticks = TickArrays(ts, np.array([1.0, 1.2, 0.9, 1.1]), np.array([1.1, 1.3, 1.0, 1.2]),
    ...                    np.ones(4), np.ones(4))
    >>> bars = aggregate_ticks(ticks, ["M1"])
    >>> bars[Timeframe.parse("M1")].close.tolist()
    [1.2, 0.9, 1.1]
    """
    chosen = unique_timeframes(timeframes)
    day = TradingDay.fx() if trading_day is None else trading_day
    n = len(ticks)
    if n == 0:
        return {timeframe: BarArrays.empty() for timeframe in chosen}
    first, last = int(ticks.ts_ns[0]), int(ticks.ts_ns[-1])
    if last < first:
        _raise_status(kn.OUT_OF_ORDER, "Ticks", n - 1, ticks.ts_ns)
    capacities = [_capacity(tf, day, first, last, n) for tf in chosen]
    state = cover(allocate(chosen, capacities, mirror=False), chosen, day, first, last)
    ts = np.ascontiguousarray(ticks.ts_ns, dtype=np.int64)
    index, _, status = kn.update_ticks(
        state,
        side_code(side),
        ts,
        _contiguous_f64(ticks.bid),
        _contiguous_f64(ticks.ask),
        _contiguous_f64(ticks.bid_volume),
        _contiguous_f64(ticks.ask_volume),
        0,
        n,
        _NO_EVENTS,
        _NO_EVENTS,
        0,
    )
    _raise_status(status, "Ticks", index, ts)
    kn.close_all(state)
    return _collect(state, chosen)


def check_source(source: Timeframe, target: Timeframe, trading_day: TradingDay) -> None:
    """Raise :class:`ConfigError` unless ``target`` bars are whole unions of ``source`` bars."""
    if not source.divides(target):
        raise ConfigError(
            f"Cannot build {target} bars from {source} bars: {target} is not a whole multiple of "
            f"{source}. Use a source timeframe that divides it (e.g. M1 for any of M1 … MN1)."
        )


def check_alignment(
    source: Timeframe, target: Timeframe, trading_day: TradingDay, bounds: I64
) -> None:
    """Raise :class:`ConfigError` when intraday ``source`` bars straddle a trading-day start."""
    duration = source.duration_ns
    if not source.is_intraday or target.is_intraday or duration is None:
        return
    misaligned = bounds[bounds % duration != 0]
    if len(misaligned):
        when = np.datetime64(int(misaligned[0]), "ns")
        raise ConfigError(
            f"Cannot build {target} bars from {source} bars: the trading day ({trading_day}) "
            f"starts at {when} UTC, inside a {source} bar. Build them from a smaller timeframe "
            "such as M1 or H1."
        )


def aggregate_bars(
    bars: BarArrays,
    source: Timeframe | str,
    target: Timeframe | str,
    *,
    trading_day: TradingDay | None = None,
) -> BarArrays:
    """Build bars of a larger timeframe from bars of a smaller one.

    Open is the first open, high the highest high, low the lowest low, close the last close;
    volumes and tick counts add up. Spread minimum and maximum are the extremes of the bars'
    values; the average is weighted by tick counts (by bar count where counts are 0). NaN
    spreads are skipped, so bars without spreads make bars without spreads.

    Parameters
    ----------
    bars
        Source bars labelled by open time, strictly increasing.
    source, target
        Their timeframes; ``target`` must be a whole multiple of ``source``.
    trading_day
        Alignment of D1 and above; FX (17:00 New York) by default.

    Raises
    ------
    ConfigError
        When ``target`` is not a whole multiple of ``source`` or the trading day starts inside a
        source bar (H4 bars cannot make FX D1 bars).
    DataError
        When the bars are not strictly increasing in time.
    """
    src, dst = Timeframe.parse(source), Timeframe.parse(target)
    day = TradingDay.fx() if trading_day is None else trading_day
    check_source(src, dst, day)
    n = len(bars)
    if n == 0:
        return BarArrays.empty()
    first, last = int(bars.ts_ns[0]), int(bars.ts_ns[-1])
    if last < first:
        _raise_status(kn.OUT_OF_ORDER, "Bars", n - 1, bars.ts_ns)
    state = cover(
        allocate([dst], [_capacity(dst, day, first, last, n)], mirror=False),
        [dst],
        day,
        first,
        last,
    )
    check_alignment(src, dst, day, state.bounds)
    ts = np.ascontiguousarray(bars.ts_ns, dtype=np.int64)
    index, _, status = kn.update_bars(
        state,
        ts,
        _contiguous_f64(bars.open),
        _contiguous_f64(bars.high),
        _contiguous_f64(bars.low),
        _contiguous_f64(bars.close),
        _contiguous_f64(bars.volume),
        np.ascontiguousarray(bars.tick_count, dtype=np.int64),
        _contiguous_f64(bars.spread_min),
        _contiguous_f64(bars.spread_avg),
        _contiguous_f64(bars.spread_max),
        0,
        n,
        _NO_EVENTS,
        _NO_EVENTS,
        0,
    )
    _raise_status(status, "Bars", index, ts)
    kn.close_all(state)
    return _collect(state, [dst])[dst]
