"""Batch ticks -> M1, M5 and H1 in one pass, against pandas resample().ohlc() and polars.

Usage: ``./dev bench bars_batch [N_TICKS]`` (default 20 million). Prints ticks/s and ratios; the
peers build the same three timeframes (OHLC, volume, tick count) from the same ticks.
"""

from __future__ import annotations

import sys

from _bars_common import best_of, pandas_peer, polars_peer, synthetic_ticks
from backtestr.bars import aggregate_ticks
from backtestr.model import Timeframe


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 20_000_000
    ticks = synthetic_ticks(n)
    timeframes = [Timeframe.parse(name) for name in ("M1", "M5", "H1")]
    aggregate_ticks(ticks.slice(0, 1000), timeframes)  # compile / load the cache

    ours = best_of(5, lambda: aggregate_ticks(ticks, timeframes))
    pandas_time = best_of(2, pandas_peer(ticks))
    polars_time = best_of(3, polars_peer(ticks))

    print(f"ticks -> M1+M5+H1, {n:,} ticks")
    for name, seconds in (("backtestr", ours), ("pandas", pandas_time), ("polars", polars_time)):
        print(f"  {name:<10} {seconds * 1e3:9.1f} ms  {n / seconds / 1e6:8.1f} M ticks/s")
    print(f"  speed-up vs pandas: {pandas_time / ours:6.1f}x")
    print(f"  speed-up vs polars: {polars_time / ours:6.1f}x")


if __name__ == "__main__":
    main()
