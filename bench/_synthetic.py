"""Synthetic market data for the benchmarks as BarArrays, importing nothing heavy (a sweep's
workers re-import the benchmark's main module when they start)."""

from __future__ import annotations

import numpy as np

from _synthetic_bars import random_walk_m1
from backtestr.model import BarArrays


def make_bars(n: int, seed: int = 1) -> BarArrays:
    """A realistic EURUSD-like M1 random walk (weekdays only)."""
    ts, open_, high, low, close = random_walk_m1(n, seed)
    return BarArrays.from_ohlc(ts, open_, high, low, close, np.ones(n))
