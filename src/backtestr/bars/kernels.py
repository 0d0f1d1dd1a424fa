"""The numba state machine behind both the batch aggregation and the incremental engine.

All state lives in plain numpy arrays grouped in :class:`BarState`, so a numba-compiled backtest
loop can hold it and call :func:`update_tick` (or :func:`update_ticks` on a block) directly.
Batch and incremental results are identical because both run exactly these kernels.

How it stays fast: ticks are accumulated into one *run* (scalar registers in the array kernel),
shared by every timeframe. Only when a tick reaches the earliest end of any forming bar
(``globals[MIN_END]``) is the run folded into each timeframe's forming bar, due bars closed into
their ring buffers and new bars opened. So the per-tick cost hardly depends on how many
timeframes are built at once.

Layout (``K`` timeframes, index ``k`` in the order given to the engine)

``slots[k, :]`` int64
    ``LABEL`` open time of the forming bar, ``END`` its end (exclusive; ``NO_BAR`` when none),
    ``TICKS`` ticks in it, ``ITEMS`` folded runs (0: nothing yet), ``CLOSED`` bars closed so
    far, ``DURATION`` ns (0 for D/W/MN), ``BOUND_OFFSET``/``BOUND_LEN``/``BOUND_POS`` its slice
    of ``bounds`` and the pointer into it, ``RING_OFFSET``/``RING_CAP``/``RING_MIRROR`` its
    slice of the ring arrays.
``values[k, :]`` float64
    The forming bar: ``OPEN HIGH LOW CLOSE VOLUME SPREAD_MIN SPREAD_SUM SPREAD_MAX
    SPREAD_WEIGHT``.
``run[:]`` float64
    The same fields for the ticks not yet folded.
``globals[:]`` int64
    ``LAST_TS`` (last timestamp seen), ``MIN_END``, ``RUN_ITEMS``, ``RUN_TICKS``.
``bounds`` int64
    Period open times (UTC ns) of the D/W/MN timeframes, each slice sorted.
``ring_ts``, ``ring_ticks`` int64 and ``ring_values[8, :]`` float64
    Closed bars. Bar number ``n`` of timeframe ``k`` sits at ``RING_OFFSET + n % RING_CAP`` and,
    when ``RING_MIRROR`` is 1, also ``RING_CAP`` further on, so that the newest ``m`` bars are
    always one contiguous slice. Rows of ``ring_values``: ``R_OPEN R_HIGH R_LOW R_CLOSE
    R_VOLUME R_SPREAD_MIN R_SPREAD_AVG R_SPREAD_MAX``.
"""

from __future__ import annotations

import numpy as np

from backtestr.bars.core import (
    BOUND_LEN,
    BOUND_OFFSET,
    BOUND_POS,
    CLOSE,
    CLOSED,
    DURATION,
    END,
    HIGH,
    ITEMS,
    LABEL,
    LAST_TS,
    LOW,
    MIN_END,
    N_GLOBALS,
    N_RING_ROWS,
    N_SLOTS,
    N_VALUES,
    NEVER,
    NO_BAR,
    OK,
    OPEN,
    OUT_OF_BOUNDS,
    OUT_OF_ORDER,
    R_CLOSE,
    R_HIGH,
    R_LOW,
    R_OPEN,
    R_SPREAD_AVG,
    R_SPREAD_MAX,
    R_SPREAD_MIN,
    R_VOLUME,
    RING_CAP,
    RING_MIRROR,
    RING_OFFSET,
    RUN_ITEMS,
    RUN_TICKS,
    SIDE_ASK,
    SIDE_BID,
    SIDE_MID,
    SPREAD_MAX,
    SPREAD_MIN,
    SPREAD_SUM,
    SPREAD_WEIGHT,
    TICKS,
    VOLUME,
    BarState,
    advance,
    close_all,
    close_until,
    covered,
    jit,
    newest_position,
)
from backtestr.model.arrays import F64, I64

__all__ = [
    "BOUND_LEN",
    "BOUND_OFFSET",
    "BOUND_POS",
    "CLOSE",
    "CLOSED",
    "DURATION",
    "END",
    "HIGH",
    "ITEMS",
    "LABEL",
    "LAST_TS",
    "LOW",
    "MIN_END",
    "NEVER",
    "NO_BAR",
    "N_GLOBALS",
    "N_RING_ROWS",
    "N_SLOTS",
    "N_VALUES",
    "OK",
    "OPEN",
    "OUT_OF_BOUNDS",
    "OUT_OF_ORDER",
    "RING_CAP",
    "RING_MIRROR",
    "RING_OFFSET",
    "RUN_ITEMS",
    "RUN_TICKS",
    "R_CLOSE",
    "R_HIGH",
    "R_LOW",
    "R_OPEN",
    "R_SPREAD_AVG",
    "R_SPREAD_MAX",
    "R_SPREAD_MIN",
    "R_VOLUME",
    "SIDE_ASK",
    "SIDE_BID",
    "SIDE_MID",
    "SPREAD_MAX",
    "SPREAD_MIN",
    "SPREAD_SUM",
    "SPREAD_WEIGHT",
    "TICKS",
    "VOLUME",
    "BarState",
    "add_tick",
    "close_all",
    "close_due",
    "close_until",
    "newest_position",
    "update_bars",
    "update_tick",
    "update_ticks",
]


@jit
def update_ticks(
    state: BarState,
    side: int,
    ts_ns: I64,
    bid: F64,
    ask: F64,
    bid_volume: F64,
    ask_volume: F64,
    start: int,
    stop: int,
    events_tick: I64,
    events_tf: I64,
    stop_mask: int,
) -> tuple[int, int, int]:
    """Feed ticks ``[start, stop)``; the array path of the incremental engine and of batch.

    Parameters
    ----------
    state
        The engine state.
    side
        ``SIDE_BID``, ``SIDE_ASK`` or ``SIDE_MID``: which price and volume make the bars.
    ts_ns, bid, ask, bid_volume, ask_volume
        Tick columns (non-decreasing timestamps).
    start, stop
        The ticks to process.
    events_tick, events_tf
        Receive, per closed bar, the index of the tick that closed it and the timeframe index.
        Pass empty arrays to record nothing (and never stop early for lack of room).
    stop_mask
        Return right after a bar of a timeframe in this bit mask closes, *before* the closing
        tick is added to the new bar; call again from the returned index to go on.

    Returns
    -------
    tuple[int, int, int]
        The index of the first tick not processed, the number of events recorded and a status:
        ``OK``, ``OUT_OF_ORDER`` (tick at the returned index is older than the one before) or
        ``OUT_OF_BOUNDS`` (D/W/MN boundaries do not cover it; extend them and call again).
    """
    g = state.globals
    run = state.run
    last = g[LAST_TS]
    min_end = g[MIN_END]
    n_timeframes = state.slots.shape[0]
    room = events_tick.shape[0]
    r_open, r_high, r_low, r_close = run[OPEN], run[HIGH], run[LOW], run[CLOSE]
    r_volume, r_smin, r_ssum = run[VOLUME], run[SPREAD_MIN], run[SPREAD_SUM]
    r_smax, r_weight = run[SPREAD_MAX], run[SPREAD_WEIGHT]
    r_items = g[RUN_ITEMS]
    n_events = 0
    status = OK
    i = start
    while i < stop:
        t = ts_ns[i]
        if t < last:
            status = OUT_OF_ORDER
            break
        if t >= min_end:
            if room > 0 and n_events + n_timeframes > room:
                break
            if not covered(state, t):
                status = OUT_OF_BOUNDS
                break
            run[OPEN], run[HIGH], run[LOW], run[CLOSE] = r_open, r_high, r_low, r_close
            run[VOLUME], run[SPREAD_MIN], run[SPREAD_SUM] = r_volume, r_smin, r_ssum
            run[SPREAD_MAX], run[SPREAD_WEIGHT] = r_smax, r_weight
            g[RUN_ITEMS] = r_items
            g[RUN_TICKS] = r_items
            mask, n_events = advance(state, t, i, events_tick, events_tf, n_events)
            r_open, r_high, r_low, r_close = run[OPEN], run[HIGH], run[LOW], run[CLOSE]
            r_volume, r_smin, r_ssum = run[VOLUME], run[SPREAD_MIN], run[SPREAD_SUM]
            r_smax, r_weight = run[SPREAD_MAX], run[SPREAD_WEIGHT]
            r_items = 0
            min_end = g[MIN_END]
            last = t
            if mask & stop_mask:
                break
        last = t
        b = bid[i]
        a = ask[i]
        if side == SIDE_BID:
            price = b
            volume = bid_volume[i]
        elif side == SIDE_ASK:
            price = a
            volume = ask_volume[i]
        else:
            price = (b + a) * 0.5
            volume = bid_volume[i] + ask_volume[i]
        spread = a - b
        if r_items == 0:
            r_open = price
        if price > r_high:
            r_high = price
        if price < r_low:
            r_low = price
        r_close = price
        r_volume += volume
        if spread < r_smin:
            r_smin = spread
        if spread > r_smax:
            r_smax = spread
        if spread == spread:
            r_ssum += spread
            r_weight += 1.0
        r_items += 1
        i += 1
    run[OPEN], run[HIGH], run[LOW], run[CLOSE] = r_open, r_high, r_low, r_close
    run[VOLUME], run[SPREAD_MIN], run[SPREAD_SUM] = r_volume, r_smin, r_ssum
    run[SPREAD_MAX], run[SPREAD_WEIGHT] = r_smax, r_weight
    g[RUN_ITEMS] = r_items
    g[RUN_TICKS] = r_items
    g[LAST_TS] = last
    return i, n_events, status


@jit
def close_due(state: BarState, ts_ns: int) -> int:
    """Close the bars a tick at ``ts_ns`` ends and open the bars it falls in (not feeding it).

    Only needed when ``ts_ns >= state.globals[MIN_END]``; see :func:`add_tick`.

    Returns
    -------
    int
        Bit mask of the timeframes that closed a bar; ``-1`` when ``ts_ns`` is older than the
        previous tick, ``-2`` when D/W/MN boundaries do not cover it (nothing changed).
    """
    if ts_ns < state.globals[LAST_TS]:
        return -1
    if not covered(state, ts_ns):
        return -2
    no_events = np.empty(0, dtype=np.int64)
    mask, _ = advance(state, ts_ns, 0, no_events, no_events, 0)
    return mask


@jit
def add_tick(
    globals_: I64,
    run: F64,
    side: int,
    ts_ns: int,
    bid: float,
    ask: float,
    bid_volume: float,
    ask_volume: float,
) -> int:
    """Feed one tick that closes no bar (``ts_ns < globals_[MIN_END]``); the per-tick fast path.

    Takes ``state.globals`` and ``state.run`` rather than the whole state because passing the
    whole state on every call costs numba more than the work itself. A compiled loop gets
    them once and calls :func:`close_due` first when a bar may close::

        g, run = state.globals, state.run
        for i in range(n):
            mask = close_due(state, ts[i]) if ts[i] >= g[MIN_END] else 0
            add_tick(g, run, side, ts[i], bid[i], ask[i], bid_volume[i], ask_volume[i])

    Returns 0, or -1 (nothing changed) when the tick is older than the previous one.
    """
    g = globals_
    if ts_ns < g[LAST_TS]:
        return -1
    g[LAST_TS] = ts_ns
    if side == SIDE_BID:
        price = bid
        volume = bid_volume
    elif side == SIDE_ASK:
        price = ask
        volume = ask_volume
    else:
        price = (bid + ask) * 0.5
        volume = bid_volume + ask_volume
    spread = ask - bid
    if g[RUN_ITEMS] == 0:
        run[OPEN] = price
    if price > run[HIGH]:
        run[HIGH] = price
    if price < run[LOW]:
        run[LOW] = price
    run[CLOSE] = price
    run[VOLUME] += volume
    if spread < run[SPREAD_MIN]:
        run[SPREAD_MIN] = spread
    if spread > run[SPREAD_MAX]:
        run[SPREAD_MAX] = spread
    if spread == spread:
        run[SPREAD_SUM] += spread
        run[SPREAD_WEIGHT] += 1.0
    g[RUN_ITEMS] += 1
    g[RUN_TICKS] += 1
    return 0


@jit
def update_tick(
    state: BarState,
    side: int,
    ts_ns: int,
    bid: float,
    ask: float,
    bid_volume: float,
    ask_volume: float,
) -> int:
    """Feed one tick: :func:`close_due` when needed, then :func:`add_tick`.

    Bars ending at or before ``ts_ns`` are closed first, then the tick joins the new bars, so a
    caller that sees a closed bar here may act before processing the tick any further. Simple,
    but passing the whole state per call limits it to about 10 M ticks/s; see :func:`add_tick`
    and :func:`update_ticks` for the fast ways.

    Returns
    -------
    int
        Bit mask of the timeframes (by index) that closed a bar; ``-1`` when the tick is older
        than the previous one, ``-2`` when D/W/MN boundaries do not cover it (nothing changed).
    """
    g = state.globals
    mask = 0
    if ts_ns >= g[MIN_END]:
        mask = close_due(state, ts_ns)
        if mask < 0:
            return mask
    status = add_tick(g, state.run, side, ts_ns, bid, ask, bid_volume, ask_volume)
    return mask if status == 0 else status


@jit
def update_bars(
    state: BarState,
    ts_ns: I64,
    open_: F64,
    high: F64,
    low: F64,
    close: F64,
    volume: F64,
    tick_count: I64,
    spread_min: F64,
    spread_avg: F64,
    spread_max: F64,
    start: int,
    stop: int,
    events_tick: I64,
    events_tf: I64,
    stop_mask: int,
) -> tuple[int, int, int]:
    """Feed lower-timeframe bars ``[start, stop)`` (labelled by open time, strictly increasing).

    Works like :func:`update_ticks`, with bar indices in place of tick indices. The spread
    average is weighted by tick counts (by bar count for bars whose count is 0); NaN spreads are
    left out, so bars without spreads give NaN.
    """
    g = state.globals
    run = state.run
    n_timeframes = state.slots.shape[0]
    room = events_tick.shape[0]
    n_events = 0
    status = OK
    i = start
    while i < stop:
        t = ts_ns[i]
        if t <= g[LAST_TS]:
            status = OUT_OF_ORDER
            break
        if t >= g[MIN_END]:
            if room > 0 and n_events + n_timeframes > room:
                break
            if not covered(state, t):
                status = OUT_OF_BOUNDS
                break
            mask, n_events = advance(state, t, i, events_tick, events_tf, n_events)
            if mask & stop_mask:
                # the bar is re-read on the next call: allow its timestamp once more
                g[LAST_TS] = t - 1
                break
        g[LAST_TS] = t
        if g[RUN_ITEMS] == 0:
            run[OPEN] = open_[i]
        if high[i] > run[HIGH]:
            run[HIGH] = high[i]
        if low[i] < run[LOW]:
            run[LOW] = low[i]
        run[CLOSE] = close[i]
        run[VOLUME] += volume[i]
        count = tick_count[i]
        if spread_min[i] < run[SPREAD_MIN]:
            run[SPREAD_MIN] = spread_min[i]
        if spread_max[i] > run[SPREAD_MAX]:
            run[SPREAD_MAX] = spread_max[i]
        average = spread_avg[i]
        if average == average:
            weight = float(count) if count > 0 else 1.0
            run[SPREAD_SUM] += average * weight
            run[SPREAD_WEIGHT] += weight
        g[RUN_ITEMS] += 1
        g[RUN_TICKS] += count
        i += 1
    return i, n_events, status
