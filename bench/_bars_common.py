"""Shared pieces of the bar benchmarks: synthetic ticks and the pandas / polars peers."""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np
import pandas as pd
import polars as pl

from backtestr.model import TickArrays

RULES = {"M1": ("1min", "1m"), "M5": ("5min", "5m"), "H1": ("1h", "1h")}


def synthetic_ticks(n: int, seed: int = 7) -> TickArrays:
    """A random-walk quote stream, about 10 ticks per second with bursts and gaps."""
    rng = np.random.default_rng(seed)
    gaps = rng.exponential(100_000_000, n).astype(np.int64)  # mean 100 ms
    ts = np.int64(1_546_300_800 * 10**9) + np.cumsum(gaps)
    bid = 1.15 + np.cumsum(rng.normal(0.0, 2e-5, n))
    spread = rng.integers(1, 20, n) * 1e-5
    volume = rng.integers(1, 50, n).astype(np.float64) / 10
    return TickArrays(ts, bid, bid + spread, volume, volume * 0.9)


def best_of(repeat: int, func: Callable[[], object]) -> float:
    """Smallest wall time of ``repeat`` runs (the machine is shared: the minimum is steadiest)."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        func()
        times.append(time.perf_counter() - start)
    return min(times)


def pandas_peer(ticks: TickArrays) -> Callable[[], object]:
    frame = pd.DataFrame(
        {"bid": ticks.bid, "volume": ticks.bid_volume}, index=pd.to_datetime(ticks.ts_ns)
    )

    def run() -> object:
        out = {}
        for name, (rule, _) in RULES.items():
            resampled = frame.resample(rule)
            bars = resampled["bid"].ohlc()
            bars["volume"] = resampled["volume"].sum()
            bars["ticks"] = resampled["bid"].count()
            out[name] = bars[bars["ticks"] > 0]
        return out

    return run


def polars_peer(ticks: TickArrays) -> Callable[[], object]:
    frame = pl.DataFrame(
        {
            "ts": pl.Series(ticks.ts_ns).cast(pl.Datetime("ns")),
            "bid": ticks.bid,
            "ask": ticks.ask,
            "volume": ticks.bid_volume,
        }
    ).set_sorted("ts")

    def run() -> object:
        out = {}
        for name, (_, every) in RULES.items():
            out[name] = frame.group_by_dynamic("ts", every=every).agg(
                pl.col("bid").first().alias("open"),
                pl.col("bid").max().alias("high"),
                pl.col("bid").min().alias("low"),
                pl.col("bid").last().alias("close"),
                pl.col("volume").sum(),
                pl.len().alias("ticks"),
                (pl.col("ask") - pl.col("bid")).mean().alias("spread_avg"),
            )
        return out

    return run
