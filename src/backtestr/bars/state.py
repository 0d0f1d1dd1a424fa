"""Building a :class:`~backtestr.bars.kernels.BarState` and reading bars back out of it."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from backtestr.bars import kernels as kn
from backtestr.bars.calendar import period_starts
from backtestr.bars.core import reset_values
from backtestr.model import BarArrays, Timeframe, TradingDay
from backtestr.model.arrays import I64

__all__ = ["allocate", "closed_bars", "cover", "forming_bar"]


def allocate(
    timeframes: Sequence[Timeframe], capacities: Sequence[int], *, mirror: bool
) -> kn.BarState:
    """A fresh state for ``timeframes`` keeping up to ``capacities[k]`` closed bars each.

    With ``mirror`` every bar is written twice so the newest bars are one contiguous slice (ring
    buffers); without it the buffers are plain arrays that must never fill (batch).
    """
    n = len(timeframes)
    slots = np.zeros((n, kn.N_SLOTS), dtype=np.int64)
    copies = 2 if mirror else 1
    offset = 0
    for k, (timeframe, capacity) in enumerate(zip(timeframes, capacities, strict=True)):
        duration = timeframe.duration_ns
        slots[k, kn.DURATION] = duration if timeframe.is_intraday and duration else 0
        slots[k, kn.END] = kn.NO_BAR
        slots[k, kn.RING_OFFSET] = offset
        slots[k, kn.RING_CAP] = max(int(capacity), 1)
        slots[k, kn.RING_MIRROR] = int(mirror)
        offset += copies * max(int(capacity), 1)
    values = np.zeros((n, kn.N_VALUES))
    for k in range(n):
        reset_values(values[k])
    run = np.zeros(kn.N_VALUES)
    reset_values(run)
    globals_ = np.array([kn.NO_BAR, kn.NO_BAR, 0, 0], dtype=np.int64)
    return kn.BarState(
        slots=slots,
        values=values,
        run=run,
        globals=globals_,
        bounds=np.empty(0, dtype=np.int64),
        ring_ts=np.zeros(offset, dtype=np.int64),
        ring_ticks=np.zeros(offset, dtype=np.int64),
        ring_values=np.full((kn.N_RING_ROWS, offset), np.nan),
    )


def cover(
    state: kn.BarState,
    timeframes: Sequence[Timeframe],
    trading_day: TradingDay,
    start_ns: int,
    end_ns: int,
) -> kn.BarState:
    """Return ``state`` with D/W/MN boundaries covering ``[start_ns, end_ns]``.

    ``start_ns`` must not be later than the first timestamp the state has seen. The pointers into
    the old boundaries are carried over, so this may be called between any two updates.
    """
    parts: list[I64] = []
    slots = state.slots.copy()
    offset = 0
    for k, timeframe in enumerate(timeframes):
        if slots[k, kn.DURATION] != 0:
            continue
        bounds = period_starts(timeframe, trading_day, start_ns, end_ns)
        old_len = int(slots[k, kn.BOUND_LEN])
        if old_len > 0:
            old = state.bounds[slots[k, kn.BOUND_OFFSET] + slots[k, kn.BOUND_POS]]
            position = int(np.searchsorted(bounds, old))
            if position >= len(bounds) or bounds[position] != old:
                raise ValueError("new trading-day boundaries do not extend the old ones")
            slots[k, kn.BOUND_POS] = position
        slots[k, kn.BOUND_OFFSET] = offset
        slots[k, kn.BOUND_LEN] = len(bounds)
        offset += len(bounds)
        parts.append(bounds)
    joined = np.concatenate(parts) if parts else np.empty(0, dtype=np.int64)
    return state._replace(slots=slots, bounds=joined)


def closed_bars(state: kn.BarState, k: int, last: int | None = None) -> BarArrays:
    """Views of the newest ``last`` closed bars of timeframe ``k`` (all that are kept if None).

    The views change as the engine runs on: copy them to keep them.
    """
    slots = state.slots
    total = int(slots[k, kn.CLOSED])
    capacity = int(slots[k, kn.RING_CAP])
    offset = int(slots[k, kn.RING_OFFSET])
    kept = min(total, capacity)
    count = kept if last is None else max(0, min(last, kept))
    stop = offset + total % capacity + capacity if slots[k, kn.RING_MIRROR] else offset + total
    start = stop - count
    rows = state.ring_values[:, start:stop]
    return BarArrays(
        ts_ns=state.ring_ts[start:stop],
        open=rows[kn.R_OPEN],
        high=rows[kn.R_HIGH],
        low=rows[kn.R_LOW],
        close=rows[kn.R_CLOSE],
        volume=rows[kn.R_VOLUME],
        tick_count=state.ring_ticks[start:stop],
        spread_min=rows[kn.R_SPREAD_MIN],
        spread_avg=rows[kn.R_SPREAD_AVG],
        spread_max=rows[kn.R_SPREAD_MAX],
    )


def forming_bar(state: kn.BarState, k: int) -> BarArrays:
    """The forming bar of timeframe ``k`` as 0 or 1 rows (copies), including unfolded ticks."""
    slots = state.slots
    run_items = int(state.globals[kn.RUN_ITEMS])
    if slots[k, kn.END] == kn.NO_BAR or (slots[k, kn.ITEMS] == 0 and run_items == 0):
        return BarArrays.empty()
    v = state.values[k].copy()
    ticks = int(slots[k, kn.TICKS])
    if run_items:
        r = state.run
        if slots[k, kn.ITEMS] == 0:
            v[kn.OPEN] = r[kn.OPEN]
        v[kn.HIGH] = max(v[kn.HIGH], r[kn.HIGH])
        v[kn.LOW] = min(v[kn.LOW], r[kn.LOW])
        v[kn.CLOSE] = r[kn.CLOSE]
        v[kn.VOLUME] += r[kn.VOLUME]
        v[kn.SPREAD_MIN] = min(v[kn.SPREAD_MIN], r[kn.SPREAD_MIN])
        v[kn.SPREAD_MAX] = max(v[kn.SPREAD_MAX], r[kn.SPREAD_MAX])
        v[kn.SPREAD_SUM] += r[kn.SPREAD_SUM]
        v[kn.SPREAD_WEIGHT] += r[kn.SPREAD_WEIGHT]
        ticks += int(state.globals[kn.RUN_TICKS])
    weight = v[kn.SPREAD_WEIGHT]

    def one(x: float) -> np.ndarray[tuple[int], np.dtype[np.float64]]:
        return np.array([x if np.isfinite(x) else np.nan])

    return BarArrays(
        ts_ns=np.array([slots[k, kn.LABEL]], dtype=np.int64),
        open=one(v[kn.OPEN]),
        high=one(v[kn.HIGH]),
        low=one(v[kn.LOW]),
        close=one(v[kn.CLOSE]),
        volume=one(v[kn.VOLUME]),
        tick_count=np.array([ticks], dtype=np.int64),
        spread_min=one(v[kn.SPREAD_MIN]),
        spread_avg=one(v[kn.SPREAD_SUM] / weight if weight > 0 else np.nan),
        spread_max=one(v[kn.SPREAD_MAX]),
    )
