"""Core of the bar kernels: the state layout, folding runs, closing and opening bars.

The layout is documented in :mod:`backtestr.bars.kernels`, which re-exports what callers need.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple, TypeVar, cast

import numba
import numpy as np

from backtestr.model.arrays import F64, I64

__all__ = [
    "BarState",
    "advance",
    "close_all",
    "close_until",
    "covered",
    "jit",
    "newest_position",
    "reset_values",
]

_F = TypeVar("_F", bound=Callable[..., object])


def jit(func: _F) -> _F:
    """``numba.njit(cache=True)`` keeping the Python signature visible to mypy."""
    return cast(_F, numba.njit(cache=True)(func))


# slots columns
LABEL, END, TICKS, ITEMS, CLOSED, DURATION = 0, 1, 2, 3, 4, 5
BOUND_OFFSET, BOUND_LEN, BOUND_POS, RING_OFFSET, RING_CAP, RING_MIRROR = 6, 7, 8, 9, 10, 11
N_SLOTS = 12
# values / run columns
OPEN, HIGH, LOW, CLOSE, VOLUME = 0, 1, 2, 3, 4
SPREAD_MIN, SPREAD_SUM, SPREAD_MAX, SPREAD_WEIGHT = 5, 6, 7, 8
N_VALUES = 9
# globals
LAST_TS, MIN_END, RUN_ITEMS, RUN_TICKS = 0, 1, 2, 3
N_GLOBALS = 4
# ring_values rows
R_OPEN, R_HIGH, R_LOW, R_CLOSE, R_VOLUME, R_SPREAD_MIN, R_SPREAD_AVG, R_SPREAD_MAX = range(8)
N_RING_ROWS = 8
# price sides
SIDE_BID, SIDE_ASK, SIDE_MID = 0, 1, 2
# status codes returned by the array kernels
OK, OUT_OF_ORDER, OUT_OF_BOUNDS = 0, 1, 2

NO_BAR = np.iinfo(np.int64).min
NEVER = np.iinfo(np.int64).max


class BarState(NamedTuple):
    """Every array the kernels read and write (see the module docstring for the layout)."""

    slots: I64
    values: F64
    run: F64
    globals: I64
    bounds: I64
    ring_ts: I64
    ring_ticks: I64
    ring_values: F64


@jit
def reset_values(row: F64) -> None:
    row[OPEN] = np.nan
    row[HIGH] = -np.inf
    row[LOW] = np.inf
    row[CLOSE] = np.nan
    row[VOLUME] = 0.0
    row[SPREAD_MIN] = np.inf
    row[SPREAD_SUM] = 0.0
    row[SPREAD_MAX] = -np.inf
    row[SPREAD_WEIGHT] = 0.0


@jit
def _fold_run(state: BarState) -> None:
    """Merge the pending run into every forming bar (the run lies inside all of them)."""
    g = state.globals
    items = g[RUN_ITEMS]
    if items == 0:
        return
    run = state.run
    slots = state.slots
    values = state.values
    for k in range(slots.shape[0]):
        v = values[k]
        if slots[k, ITEMS] == 0:
            v[OPEN] = run[OPEN]
        if run[HIGH] > v[HIGH]:
            v[HIGH] = run[HIGH]
        if run[LOW] < v[LOW]:
            v[LOW] = run[LOW]
        v[CLOSE] = run[CLOSE]
        v[VOLUME] += run[VOLUME]
        if run[SPREAD_MIN] < v[SPREAD_MIN]:
            v[SPREAD_MIN] = run[SPREAD_MIN]
        if run[SPREAD_MAX] > v[SPREAD_MAX]:
            v[SPREAD_MAX] = run[SPREAD_MAX]
        v[SPREAD_SUM] += run[SPREAD_SUM]
        v[SPREAD_WEIGHT] += run[SPREAD_WEIGHT]
        slots[k, ITEMS] += items
        slots[k, TICKS] += g[RUN_TICKS]
    reset_values(run)
    g[RUN_ITEMS] = 0
    g[RUN_TICKS] = 0


@jit
def _emit(state: BarState, k: int) -> None:
    """Append timeframe ``k``'s forming bar to its ring buffer."""
    slots = state.slots
    v = state.values[k]
    n = slots[k, CLOSED]
    cap = slots[k, RING_CAP]
    pos = slots[k, RING_OFFSET] + n % cap
    weight = v[SPREAD_WEIGHT]
    average = v[SPREAD_SUM] / weight if weight > 0 else np.nan
    low_spread = v[SPREAD_MIN] if v[SPREAD_MIN] != np.inf else np.nan
    high_spread = v[SPREAD_MAX] if v[SPREAD_MAX] != -np.inf else np.nan
    rv = state.ring_values
    copies = 2 if slots[k, RING_MIRROR] != 0 else 1
    for c in range(copies):
        p = pos + c * cap
        state.ring_ts[p] = slots[k, LABEL]
        state.ring_ticks[p] = slots[k, TICKS]
        rv[R_OPEN, p] = v[OPEN]
        rv[R_HIGH, p] = v[HIGH]
        rv[R_LOW, p] = v[LOW]
        rv[R_CLOSE, p] = v[CLOSE]
        rv[R_VOLUME, p] = v[VOLUME]
        rv[R_SPREAD_MIN, p] = low_spread
        rv[R_SPREAD_AVG, p] = average
        rv[R_SPREAD_MAX, p] = high_spread
    slots[k, CLOSED] = n + 1


@jit
def covered(state: BarState, t: int) -> bool:
    """True when every D/W/MN timeframe that must open a bar at ``t`` has boundaries for it."""
    slots = state.slots
    for k in range(slots.shape[0]):
        if t >= slots[k, END] and slots[k, DURATION] == 0:
            off = slots[k, BOUND_OFFSET]
            n = slots[k, BOUND_LEN]
            if n < 2 or state.bounds[off + slots[k, BOUND_POS]] > t:
                return False
            if state.bounds[off + n - 1] <= t:
                return False
    return True


@jit
def _open(state: BarState, k: int, t: int) -> None:
    """Start an empty forming bar of timeframe ``k`` around time ``t``."""
    slots = state.slots
    duration = slots[k, DURATION]
    if duration > 0:
        label = t - t % duration
        end = label + duration
    else:
        off = slots[k, BOUND_OFFSET]
        last = slots[k, BOUND_LEN] - 1
        p = slots[k, BOUND_POS]
        while p < last and state.bounds[off + p + 1] <= t:
            p += 1
        slots[k, BOUND_POS] = p
        label = state.bounds[off + p]
        end = state.bounds[off + p + 1]
    slots[k, LABEL] = label
    slots[k, END] = end
    slots[k, ITEMS] = 0
    slots[k, TICKS] = 0
    reset_values(state.values[k])


@jit
def advance(
    state: BarState, t: int, tick_index: int, events_tick: I64, events_tf: I64, n_events: int
) -> tuple[int, int]:
    """Close every bar ending at or before ``t``; open bars around ``t`` when ``tick_index >= 0``.

    Returns the mask of timeframes that closed a bar and the new number of recorded events.
    """
    _fold_run(state)
    slots = state.slots
    record = events_tick.shape[0] > 0
    mask = 0
    min_end = NEVER
    for k in range(slots.shape[0]):
        if t >= slots[k, END]:
            if slots[k, ITEMS] > 0:
                _emit(state, k)
                mask |= 1 << k
                if record:
                    events_tick[n_events] = tick_index
                    events_tf[n_events] = k
                    n_events += 1
            if tick_index >= 0:
                _open(state, k, t)
            else:
                slots[k, END] = NO_BAR
                slots[k, ITEMS] = 0
        min_end = min(min_end, slots[k, END])
    state.globals[MIN_END] = min_end
    return mask, n_events


@jit
def close_until(state: BarState, ts_ns: int) -> int:
    """Close every forming bar that ends at or before ``ts_ns`` (e.g. at a session end).

    Later data must not be older than ``ts_ns``. Returns the mask of timeframes that closed.
    """
    g = state.globals
    mask = 0
    if ts_ns >= g[MIN_END]:
        no_events = np.empty(0, dtype=np.int64)
        mask, _ = advance(state, ts_ns, -1, no_events, no_events, 0)
    if ts_ns > g[LAST_TS]:
        g[LAST_TS] = ts_ns
    return mask


@jit
def close_all(state: BarState) -> int:
    """Close every forming bar now (end of data); later data must start after their ends."""
    slots = state.slots
    latest = state.globals[LAST_TS]
    for k in range(slots.shape[0]):
        if slots[k, END] != NO_BAR and (slots[k, ITEMS] > 0 or state.globals[RUN_ITEMS] > 0):
            latest = max(latest, slots[k, END])
    if latest == NO_BAR:
        return 0
    return close_until(state, latest)


@jit
def newest_position(state: BarState, k: int) -> int:
    """Position in the ring arrays of timeframe ``k``'s newest closed bar; -1 when none.

    For numba callers: ``state.ring_values[R_CLOSE, newest_position(state, k)]`` is the close of
    the bar that just closed; the ``m`` newest bars end at that position (inclusive) when the
    ring is mirrored and ``m <= RING_CAP``.
    """
    slots = state.slots
    n = slots[k, CLOSED]
    if n == 0:
        return -1
    cap = slots[k, RING_CAP]
    position = slots[k, RING_OFFSET] + (n - 1) % cap
    if slots[k, RING_MIRROR] != 0:
        position += cap
    return int(position)
