"""The incremental engine fed blocks of ticks (replay / backtest style), M1 + M5 + H1.

Usage: ``./dev bench bars_incremental [N_TICKS] [BLOCK]`` (defaults 20 million, 1 000). Compared
with the batch peers (pandas resample, polars group_by_dynamic) doing the whole job at once, and
with a pandas peer that has to recompute the bars of every block as it arrives.
"""

from __future__ import annotations

import sys

import numba
import numpy as np

from _bars_common import best_of, pandas_peer, polars_peer, synthetic_ticks
from backtestr.bars import MultiTimeframeBars
from backtestr.bars.kernels import MIN_END, BarState, add_tick, close_due, update_tick, update_ticks
from backtestr.model import TickArrays

TIMEFRAMES = ["M1", "M5", "H1"]


@numba.njit(cache=True)
def _tick_loop(
    state: BarState,
    side: int,
    ts: np.ndarray,
    bid: np.ndarray,
    ask: np.ndarray,
    bid_volume: np.ndarray,
    ask_volume: np.ndarray,
) -> int:
    closed = 0
    for i in range(len(ts)):
        mask = update_tick(state, side, ts[i], bid[i], ask[i], bid_volume[i], ask_volume[i])
        closed += mask & 1
    return closed


@numba.njit(cache=True)
def _block_loop(
    state: BarState,
    side: int,
    ts: np.ndarray,
    bid: np.ndarray,
    ask: np.ndarray,
    bid_volume: np.ndarray,
    ask_volume: np.ndarray,
) -> int:
    no_events = np.empty(0, dtype=np.int64)
    pauses = 0
    index = 0
    while index < len(ts):
        # stop at every M1 close, as an engine calling an M1 strategy would
        index, _, _ = update_ticks(
            state, side, ts, bid, ask, bid_volume, ask_volume, index, len(ts), no_events,
            no_events, 1,
        )  # fmt: skip
        pauses += 1
    return pauses


def feed_numba_blocks(ticks: TickArrays) -> int:
    """A compiled engine loop driving update_ticks() from one M1 close to the next."""
    engine = MultiTimeframeBars(TIMEFRAMES, history=1_000)
    engine.prepare(int(ticks.ts_ns[0]), int(ticks.ts_ns[-1]))
    columns = (ticks.ts_ns, ticks.bid, ticks.ask, ticks.bid_volume, ticks.ask_volume)
    return int(_block_loop(engine.state, engine.side_code, *columns))


@numba.njit(cache=True)
def _split_loop(
    state: BarState,
    side: int,
    ts: np.ndarray,
    bid: np.ndarray,
    ask: np.ndarray,
    bid_volume: np.ndarray,
    ask_volume: np.ndarray,
) -> int:
    closed = 0
    g, run = state.globals, state.run
    for i in range(len(ts)):
        if ts[i] >= g[MIN_END]:
            closed += close_due(state, ts[i]) & 1
        add_tick(g, run, side, ts[i], bid[i], ask[i], bid_volume[i], ask_volume[i])
    return closed


def feed_numba_split(ticks: TickArrays) -> int:
    """A compiled loop using the per-tick fast path add_tick() and close_due() when due."""
    engine = MultiTimeframeBars(TIMEFRAMES, history=1_000)
    engine.prepare(int(ticks.ts_ns[0]), int(ticks.ts_ns[-1]))
    columns = (ticks.ts_ns, ticks.bid, ticks.ask, ticks.bid_volume, ticks.ask_volume)
    return int(_split_loop(engine.state, engine.side_code, *columns))


def feed_numba_loop(ticks: TickArrays) -> int:
    """How a compiled backtest loop uses the engine: one kernel call per tick."""
    engine = MultiTimeframeBars(TIMEFRAMES, history=1_000)
    engine.prepare(int(ticks.ts_ns[0]), int(ticks.ts_ns[-1]))
    columns = (ticks.ts_ns, ticks.bid, ticks.ask, ticks.bid_volume, ticks.ask_volume)
    return int(_tick_loop(engine.state, engine.side_code, *columns))


def feed(ticks: TickArrays, block: int) -> int:
    engine = MultiTimeframeBars(TIMEFRAMES, history=1_000)
    closed = 0
    for start in range(0, len(ticks), block):
        closes = engine.update(ticks.slice(start, start + block))
        closed += closes.count("M1")
    engine.flush()
    return closed


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 20_000_000
    block = int(sys.argv[2]) if len(sys.argv) > 2 else 1_000
    ticks = synthetic_ticks(n)
    feed(ticks.slice(0, 10_000), block)  # compile / load the cache
    feed_numba_loop(ticks.slice(0, 10_000))
    feed_numba_blocks(ticks.slice(0, 10_000))
    feed_numba_split(ticks.slice(0, 10_000))

    ours = best_of(3, lambda: feed(ticks, block))
    per_tick = best_of(3, lambda: feed_numba_loop(ticks))
    per_close = best_of(3, lambda: feed_numba_blocks(ticks))
    split = best_of(3, lambda: feed_numba_split(ticks))
    pandas_time = best_of(2, pandas_peer(ticks))
    polars_time = best_of(3, polars_peer(ticks))

    print(f"incremental M1+M5+H1, {n:,} ticks in blocks of {block:,}")
    for name, seconds in (
        ("backtestr", ours),
        ("per close", per_close),
        ("add_tick", split),
        ("per tick", per_tick),
        ("pandas*", pandas_time),
        ("polars*", polars_time),
    ):
        print(f"  {name:<10} {seconds * 1e3:9.1f} ms  {n / seconds / 1e6:8.1f} M ticks/s")
    print("  (backtestr: Python update() per block of ticks;")
    print("   per close: numba loop calling update_ticks() up to each M1 close;")
    print("   add_tick: numba loop calling add_tick() per tick, close_due() when due;")
    print("   per tick: numba loop calling update_tick() for every tick)")
    print("  (* batch peers: one call over all ticks, no incremental state)")
    print(f"  speed-up vs pandas batch: {pandas_time / ours:6.1f}x")
    print(f"  speed-up vs polars batch: {polars_time / ours:6.1f}x")
    print(f"  per-close loop vs pandas: {pandas_time / per_close:6.1f}x")
    print(f"  per-close loop vs polars: {polars_time / per_close:6.1f}x")
    print(f"  add_tick loop vs pandas:  {pandas_time / split:6.1f}x")
    print(f"  add_tick loop vs polars:  {polars_time / split:6.1f}x")
    print(f"  per-tick loop vs pandas:  {pandas_time / per_tick:6.1f}x")
    print(f"  per-tick loop vs polars:  {polars_time / per_tick:6.1f}x")


if __name__ == "__main__":
    main()
