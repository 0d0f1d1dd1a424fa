"""Load the compiled bar kernels while the server starts, not on the first chart.

numba compiles the bar kernels once and caches the machine code on disk, but each new process
still loads that code on first use: about a second on this machine, which would otherwise fall on
the first page of bars a user asks for (the chart's first paint). A background thread builds a few
bars of both kinds the chart uses, intraday and trading-day aligned, as the server starts.
"""

from __future__ import annotations

import threading

import numpy as np

from backtestr.bars import aggregate_bars
from backtestr.model import BarArrays

__all__ = ["start_warm_up", "warm_bar_kernels"]

WARM_TIMEFRAMES = ("H1", "D1")
_MINUTES = 3 * 1_440
_START_NS = 1_577_836_800 * 10**9  # 2020-01-01 00:00 UTC, a Wednesday


def warm_bar_kernels() -> dict[str, int]:
    """Build H1 and D1 bars from three days of synthetic M1 bars; the bars built per timeframe."""
    ts_ns = _START_NS + np.arange(_MINUTES, dtype=np.int64) * 60 * 10**9
    prices = 1.1 + np.sin(np.arange(_MINUTES) / 100.0) / 100.0
    bars = BarArrays.from_ohlc(ts_ns, prices, prices + 1e-4, prices - 1e-4, prices)
    return {frame: len(aggregate_bars(bars, "M1", frame)) for frame in WARM_TIMEFRAMES}


def start_warm_up() -> threading.Thread:
    """Run :func:`warm_bar_kernels` in a daemon thread; the thread (join it before exiting)."""
    thread = threading.Thread(target=warm_bar_kernels, name="backtestr-warm-up", daemon=True)
    thread.start()
    return thread
