"""The incremental multi-timeframe engine: feed ticks (or lower bars), read closed and forming bars.

Used for replay and by the backtest engine. The Python class wraps a
:class:`~backtestr.bars.kernels.BarState` of plain numpy arrays. A numba-compiled loop takes
:attr:`MultiTimeframeBars.state` (after :meth:`MultiTimeframeBars.prepare` for its whole time
range) and calls the kernels of :mod:`backtestr.bars.kernels` itself. Fastest, from one close of
the strategy's timeframe to the next (a few hundred million ticks/s)::

    no_events = np.empty(0, dtype=np.int64)
    index, _, status = update_ticks(state, side, ts_ns, bid, ask, bid_volume, ask_volume,
                                    index, stop, no_events, no_events, 1 << k)
    # Returns when a bar of timeframe k closed, *before* tick `index` (the first tick of the
    # next bar) is fed: run the broker over the ticks up to `index`, call the strategy, then
    # call again from `index`. index == stop: all fed. status != OK: see update_ticks.

or per tick (simpler; about 10 M ticks/s because every call passes the whole state)::

    mask = update_tick(state, side, ts_ns, bid, ask, bid_volume, ask_volume)
    # bit k set when timeframe k closed a bar (before this tick joined the next one);
    # -1 tick older than the previous one, -2 trading-day boundaries missing.

Inside numba, ``state.ring_values[R_CLOSE, newest_position(state, k)]`` is the close of the
newest closed bar of timeframe ``k``; ``MultiTimeframeBars.index(tf)`` gives ``k`` and
``side_code`` the ``side``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import numpy as np

from backtestr.bars import kernels as kn
from backtestr.bars.batch import (
    check_alignment,
    check_source,
    side_code,
    unique_timeframes,
)
from backtestr.bars.state import allocate, closed_bars, cover, forming_bar
from backtestr.errors import ConfigError, DataError
from backtestr.model import BarArrays, PriceSide, TickArrays, Timeframe, TradingDay
from backtestr.model.arrays import I64

__all__ = ["BarCloses", "MultiTimeframeBars"]

_EVENT_ROOM = 4096
_COVER_AHEAD_NS = 35 * 86_400 * 1_000_000_000
_EMPTY = np.empty(0, dtype=np.int64)
_EMPTY.flags.writeable = False


@dataclass(frozen=True, slots=True)
class BarCloses:
    """The bars one update closed.

    ``tick_index[tf]`` holds, for each bar of ``tf`` closed by the update in closing order, the
    index (within the update's array) of the tick or bar that closed it: the first one of a
    later bar. Bars closed by :meth:`MultiTimeframeBars.close_until` or ``flush`` have -1.
    The closed bars themselves are the newest ``count(tf)`` of ``engine.closed(tf)``.
    """

    tick_index: dict[Timeframe, I64] = field(default_factory=dict)

    def count(self, timeframe: Timeframe | str) -> int:
        """How many bars of ``timeframe`` closed."""
        return len(self.tick_index.get(Timeframe.parse(timeframe), _EMPTY))

    @property
    def timeframes(self) -> tuple[Timeframe, ...]:
        """The timeframes that closed at least one bar."""
        return tuple(tf for tf, index in self.tick_index.items() if len(index))

    def __bool__(self) -> bool:
        return bool(self.timeframes)


class MultiTimeframeBars:
    """Bars of several timeframes kept up to date as ticks (or lower-timeframe bars) arrive.

    A bar closes when the first tick of a later bar arrives, or on :meth:`close_until` /
    :meth:`flush`. Results equal :func:`~backtestr.bars.aggregate_ticks` on the same data however
    it is split into updates.

    Parameters
    ----------
    timeframes
        The timeframes to build; their order fixes the bit of each in kernel masks.
    side
        Price the bars are made of (``bid`` default, ``ask``, ``mid``).
    trading_day
        Alignment of D1 and above; FX (17:00 New York) by default.
    history
        Closed bars kept per timeframe (ring buffer); ``None`` keeps all.
    source
        Feed bars of this timeframe with :meth:`update_bars` instead of ticks.

    Examples
    --------
    >>> import numpy as np
    >>> from backtestr.model import TickArrays
    >>> engine = MultiTimeframeBars(["M1", "M5"], history=100)
    >>> ts = np.array([0, 30, 61, 301], dtype=np.int64) * 10**9
    >>> ticks = TickArrays(ts, np.array([1.0, 1.2, 0.9, 1.1]), np.array([1.1, 1.3, 1.0, 1.2]),
    ...                    np.ones(4), np.ones(4))
    >>> closes = engine.update(ticks)
    >>> closes.tick_index[Timeframe.parse("M1")].tolist(), closes.count("M5")
    ([2, 3], 1)
    >>> engine.closed("M1").close.tolist(), engine.forming("M1").close.tolist()
    ([1.2, 0.9], [1.1])
    """

    def __init__(
        self,
        timeframes: Iterable[Timeframe | str],
        *,
        side: PriceSide | str = PriceSide.BID,
        trading_day: TradingDay | None = None,
        history: int | None = 10_000,
        source: Timeframe | str | None = None,
    ) -> None:
        self.timeframes = tuple(unique_timeframes(timeframes))
        self.side = PriceSide.parse(side)
        self.trading_day = TradingDay.fx() if trading_day is None else trading_day
        if history is not None and history < 1:
            raise ConfigError(f"history must be at least 1 bar (or None for all), got {history}")
        self.history = history
        self.source = None if source is None else Timeframe.parse(source)
        if self.source is not None:
            for timeframe in self.timeframes:
                check_source(self.source, timeframe, self.trading_day)
        capacity = _EVENT_ROOM if history is None else history
        self._state = allocate(self.timeframes, [capacity] * len(self.timeframes), mirror=True)
        self._side = side_code(self.side)
        self._index = {tf: k for k, tf in enumerate(self.timeframes)}
        self._events_tick = np.empty(_EVENT_ROOM, dtype=np.int64)
        self._events_tf = np.empty(_EVENT_ROOM, dtype=np.int64)
        self._span: tuple[int, int] | None = None
        self._drained = [0] * len(self.timeframes)
        self._archive: list[list[BarArrays]] = [[] for _ in self.timeframes]

    # -- the numba-facing side ---------------------------------------------------------------

    @property
    def state(self) -> kn.BarState:
        """The arrays the kernels work on (replaced when :meth:`prepare` extends boundaries)."""
        return self._state

    @property
    def side_code(self) -> int:
        """The ``side`` argument for :func:`~backtestr.bars.kernels.update_tick`."""
        return self._side

    def index(self, timeframe: Timeframe | str) -> int:
        """Position of ``timeframe``: bit ``1 << index`` in kernel masks."""
        parsed = Timeframe.parse(timeframe)
        try:
            return self._index[parsed]
        except KeyError:
            names = ", ".join(tf.name for tf in self.timeframes)
            raise ConfigError(f"{parsed} is not built by this engine (it builds {names})") from None

    def prepare(self, start_ns: int, end_ns: int) -> None:
        """Compute D/W/MN boundaries for ``[start_ns, end_ns]`` before calling kernels directly.

        The feeding methods call this themselves; a numba loop calling
        :func:`~backtestr.bars.kernels.update_tick` must call it for its whole range first and
        then use the (possibly replaced) :attr:`state`.
        """
        if self._span is not None and self._span[0] <= start_ns and end_ns < self._span[1]:
            return
        if self._span is not None:
            start_ns = min(start_ns, self._span[0])
            end_ns = max(end_ns, self._span[1])
        # look ahead so that streaming does not recompute boundaries for every block
        end_ns += _COVER_AHEAD_NS
        self._state = cover(self._state, self.timeframes, self.trading_day, start_ns, end_ns)
        self._span = (start_ns, end_ns)
        if self.source is not None:
            for timeframe in self.timeframes:
                check_alignment(self.source, timeframe, self.trading_day, self._state.bounds)

    # -- feeding -------------------------------------------------------------------------------

    def update(self, ticks: TickArrays) -> BarCloses:
        """Feed a block of ticks; returns the bars it closed."""
        _, closes = self.advance(ticks)
        return closes

    def advance(
        self,
        ticks: TickArrays,
        start: int = 0,
        stop: int | None = None,
        stop_on: Iterable[Timeframe | str] = (),
    ) -> tuple[int, BarCloses]:
        """Feed ticks ``[start, stop)``, pausing when a bar of a ``stop_on`` timeframe closes.

        Returns the index to continue from (``stop`` when all were fed) and the closes. When it
        paused, the bars ending before tick ``index`` are closed but that tick is not fed yet:
        act on the closed bar, then call again from ``index``.
        """
        if self.source is not None:
            raise ConfigError(f"This engine is fed {self.source} bars: call update_bars().")
        arrays = (ticks.bid, ticks.ask, ticks.bid_volume, ticks.ask_volume)
        bid, ask, bid_volume, ask_volume = (np.ascontiguousarray(a, np.float64) for a in arrays)
        ts = np.ascontiguousarray(ticks.ts_ns, dtype=np.int64)

        def run(begin: int, end: int, mask: int) -> tuple[int, int, int]:
            return kn.update_ticks(
                self._state, self._side, ts, bid, ask, bid_volume, ask_volume,
                begin, end, self._events_tick, self._events_tf, mask,
            )  # fmt: skip

        return self._drive(ts, start, len(ts) if stop is None else stop, stop_on, run, "Ticks")

    def update_bars(self, bars: BarArrays) -> BarCloses:
        """Feed a block of ``source`` bars (strictly increasing open times)."""
        _, closes = self.advance_bars(bars)
        return closes

    def advance_bars(
        self,
        bars: BarArrays,
        start: int = 0,
        stop: int | None = None,
        stop_on: Iterable[Timeframe | str] = (),
    ) -> tuple[int, BarCloses]:
        """Feed ``source`` bars ``[start, stop)``, pausing as :meth:`advance` does for ticks."""
        if self.source is None:
            raise ConfigError("This engine is fed ticks: pass source=... to feed it bars.")
        ts = np.ascontiguousarray(bars.ts_ns, dtype=np.int64)
        o, h, lo, c, v, s_min, s_avg, s_max = (
            np.ascontiguousarray(column, np.float64)
            for column in (
                bars.open, bars.high, bars.low, bars.close, bars.volume,
                bars.spread_min, bars.spread_avg, bars.spread_max,
            )
        )  # fmt: skip
        counts = np.ascontiguousarray(bars.tick_count, dtype=np.int64)

        def run(begin: int, end: int, mask: int) -> tuple[int, int, int]:
            return kn.update_bars(
                self._state, ts, o, h, lo, c, v, counts, s_min, s_avg, s_max,
                begin, end, self._events_tick, self._events_tf, mask,
            )  # fmt: skip

        return self._drive(ts, start, len(ts) if stop is None else stop, stop_on, run, "Bars")

    def update_tick(
        self,
        ts_ns: int,
        bid: float,
        ask: float,
        bid_volume: float = 0.0,
        ask_volume: float = 0.0,
    ) -> tuple[Timeframe, ...]:
        """Feed one tick; returns the timeframes whose bar it closed."""
        if self.source is not None:
            raise ConfigError(f"This engine is fed {self.source} bars: call update_bars().")
        self.prepare(ts_ns, ts_ns)
        mask = kn.update_tick(self._state, self._side, ts_ns, bid, ask, bid_volume, ask_volume)
        if mask == -1:
            raise DataError(f"Tick at {ts_ns} ns is older than the tick before it.")
        self._drain()
        return self._timeframes_in(mask)

    def close_until(self, ts_ns: int) -> tuple[Timeframe, ...]:
        """Close the forming bars that end at or before ``ts_ns``; later data must not be older."""
        mask = kn.close_until(self._state, ts_ns)
        self._drain()
        return self._timeframes_in(mask)

    def flush(self) -> tuple[Timeframe, ...]:
        """Close every forming bar (end of data or session)."""
        mask = kn.close_all(self._state)
        self._drain()
        return self._timeframes_in(mask)

    # -- reading -------------------------------------------------------------------------------

    def closed(self, timeframe: Timeframe | str, last: int | None = None) -> BarArrays:
        """The newest ``last`` closed bars (all that are kept when ``None``).

        With a bounded ``history`` these are views into the ring buffer, valid until the next
        update; copy them to keep them.
        """
        k = self.index(timeframe)
        if self.history is not None:
            return closed_bars(self._state, k, last)
        archive = self._archive[k]
        if len(archive) > 1:
            archive[:] = [BarArrays.concat(archive)]
        bars = archive[0] if archive else BarArrays.empty()
        return bars if last is None else bars.slice(max(0, len(bars) - last), len(bars))

    def closed_count(self, timeframe: Timeframe | str) -> int:
        """Bars of ``timeframe`` closed since the start (also those dropped from the history)."""
        return int(self._state.slots[self.index(timeframe), kn.CLOSED])

    def forming(self, timeframe: Timeframe | str) -> BarArrays:
        """The bar still forming (0 or 1 rows, a copy)."""
        return forming_bar(self._state, self.index(timeframe))

    # -- internals -----------------------------------------------------------------------------

    def _timeframes_in(self, mask: int) -> tuple[Timeframe, ...]:
        return tuple(tf for k, tf in enumerate(self.timeframes) if mask >> k & 1)

    def _drive(
        self,
        ts: I64,
        start: int,
        stop: int,
        stop_on: Iterable[Timeframe | str],
        kernel: Callable[[int, int, int], tuple[int, int, int]],
        what: str,
    ) -> tuple[int, BarCloses]:
        mask = 0
        for timeframe in stop_on:
            mask |= 1 << self.index(timeframe)
        found: list[list[I64]] = [[] for _ in self.timeframes]
        index = start
        if stop > start:
            self.prepare(int(ts[start]), int(ts[stop - 1]))
        while index < stop:
            index, n_events, status = kernel(index, stop, mask)
            tfs = self._events_tf[:n_events]
            if n_events:
                ticks = self._events_tick[:n_events]
                for k in np.unique(tfs):
                    found[int(k)].append(ticks[tfs == k].copy())
                self._drain()
            if status == kn.OUT_OF_BOUNDS and int(ts[index]) >= self._last_ns():
                # a tick beyond the block's last one: the block is out of order further on;
                # extend so that the kernel gets there and reports it
                if self._span is not None and self._span[0] <= ts[index] < self._span[1]:
                    raise RuntimeError(f"trading-day boundaries miss {int(ts[index])} ns")
                self.prepare(int(ts[index]), int(ts[index]))
            elif status != kn.OK:
                raise DataError(
                    f"{what} are not in time order: row {index} at {int(ts[index])} ns is older "
                    "than the row before it. Sort the data by time first."
                )
            elif mask and any(mask >> int(k) & 1 for k in tfs):
                break
        closes = {
            tf: (np.concatenate(found[k]) if found[k] else _EMPTY)
            for k, tf in enumerate(self.timeframes)
        }
        return index, BarCloses(closes)

    def _last_ns(self) -> int:
        return int(self._state.globals[kn.LAST_TS])

    def _drain(self) -> None:
        """With unlimited history, move newly closed bars out of the ring before it wraps."""
        if self.history is not None:
            return
        for k in range(len(self.timeframes)):
            total = int(self._state.slots[k, kn.CLOSED])
            new = total - self._drained[k]
            if new:
                view = closed_bars(self._state, k, new)
                copied = BarArrays(**{name: c.copy() for name, c in view.columns().items()})
                self._archive[k].append(copied)
                self._drained[k] = total
