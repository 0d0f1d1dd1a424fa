"""The incremental engine fed blocks of ticks (replay / backtest style), M1 + M5 + H1.

Usage: ``./dev bench bars_incremental [N_TICKS] [BLOCK]`` (defaults 20 million, 1 000). Compared
with the batch peers (pandas resample, polars group_by_dynamic) doing the whole job at once, and
with a pandas peer that has to recompute the bars of every block as it arrives.
"""

from __future__ import annotations

import sys

from _bars_common import best_of, pandas_peer, polars_peer, synthetic_ticks
from backtestr.bars import MultiTimeframeBars
from backtestr.model import TickArrays


def feed(ticks: TickArrays, block: int) -> int:
    engine = MultiTimeframeBars(["M1", "M5", "H1"], history=1_000)
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

    ours = best_of(3, lambda: feed(ticks, block))
    pandas_time = best_of(2, pandas_peer(ticks))
    polars_time = best_of(3, polars_peer(ticks))

    print(f"incremental M1+M5+H1, {n:,} ticks in blocks of {block:,}")
    for name, seconds in (
        ("backtestr", ours),
        ("pandas*", pandas_time),
        ("polars*", polars_time),
    ):
        print(f"  {name:<10} {seconds * 1e3:9.1f} ms  {n / seconds / 1e6:8.1f} M ticks/s")
    print("  (* batch peers: one call over all ticks, no incremental state)")
    print(f"  speed-up vs pandas batch: {pandas_time / ours:6.1f}x")
    print(f"  speed-up vs polars batch: {polars_time / ours:6.1f}x")


if __name__ == "__main__":
    main()
