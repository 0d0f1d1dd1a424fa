"""The synthetic M1 bars of the engine benchmarks, as plain numpy arrays.

numpy only, so that peers running in an environment of their own (NautilusTrader, see
engine_peers.py) build exactly the same bars from the same seed.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import numpy.typing as npt

Floats = npt.NDArray[np.float64]

MINUTE_NS = 60 * 10**9
START_NS = int(np.datetime64("2020-01-06T00:00", "ns").astype(np.int64))  # a Monday, UTC


class SyntheticBars(NamedTuple):
    ts_ns: npt.NDArray[np.int64]  # bar open times
    open: Floats
    high: Floats
    low: Floats
    close: Floats


def random_walk_m1(n: int, seed: int = 1) -> SyntheticBars:
    """A realistic EURUSD-like M1 random walk (weekdays only)."""
    rng = np.random.default_rng(seed)
    close = 1.1 * np.exp(np.cumsum(rng.normal(0, 0.00012, n)))
    open_ = np.r_[1.1, close[:-1]]
    high = np.maximum(open_, close) + rng.exponential(0.00005, n)
    low = np.minimum(open_, close) - rng.exponential(0.00005, n)
    minutes = np.arange(n, dtype=np.int64)
    # skip weekends: 5 trading days of 1440 minutes per 7 calendar days
    week, rest = np.divmod(minutes, 5 * 1440)
    ts = START_NS + (week * 7 * 1440 + rest) * MINUTE_NS
    return SyntheticBars(ts.astype(np.int64), open_, high, low, close)
