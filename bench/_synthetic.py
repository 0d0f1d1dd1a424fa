"""Synthetic market data for the benchmarks, importing nothing heavy (a sweep's workers
re-import the benchmark's main module when they start)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from backtestr.model import BarArrays


def make_bars(n: int, seed: int = 1) -> BarArrays:
    """A realistic EURUSD-like M1 random walk (weekdays only)."""
    rng = np.random.default_rng(seed)
    close = 1.1 * np.exp(np.cumsum(rng.normal(0, 0.00012, n)))
    open_ = np.r_[1.1, close[:-1]]
    high = np.maximum(open_, close) + rng.exponential(0.00005, n)
    low = np.minimum(open_, close) - rng.exponential(0.00005, n)
    minutes = np.arange(n, dtype=np.int64)
    # skip weekends: 5 trading days of 1440 minutes per 7 calendar days
    week, rest = np.divmod(minutes, 5 * 1440)
    start = pd.Timestamp("2020-01-06", tz="UTC").value
    ts = start + (week * 7 * 1440 + rest) * 60 * 10**9
    return BarArrays.from_ohlc(ts.astype(np.int64), open_, high, low, close, np.ones(n))
