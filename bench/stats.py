"""compute_statistics vs backtesting.py 0.6.6's compute_stats on the same equity curve and trades.

Usage: ./dev bench stats [POINTS]   (default 1 000 000 M1 equity points, 5 000 trades)

Both get the same inputs (backtesting.py in its own format) and we print the median time of each
and the ratio, measured in this run: the machine is shared, absolute times are noise.
"""

from __future__ import annotations

import statistics
import sys
import time
import warnings
from collections.abc import Callable

import numpy as np
import pandas as pd
from backtesting._stats import compute_stats

from backtestr.report import plot_equity
from backtestr.stats import TRADE_COLUMNS, compute_statistics


def _median_seconds(function: Callable[[], object], repeat: int = 5) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    points = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    trade_count = max(points // 200, 1)
    rng = np.random.default_rng(42)
    index = pd.date_range("2015-01-05", periods=points * 7 // 5 + 2_000, freq="min", tz="UTC")
    index = index[index.day_of_week < 5][:points]
    equity = 100_000.0 * np.cumprod(1.0 + rng.normal(0.0, 1e-4, points))
    entry_bar = np.sort(rng.choice(points - 100, trade_count, replace=False))
    exit_bar = entry_bar + rng.integers(1, 100, trade_count)
    pnl = rng.normal(5.0, 100.0, trade_count)
    returns = pnl / 100_000.0

    ours_equity = pd.Series(equity, index=index)
    ours_trades = pd.DataFrame(
        {
            "symbol": "EURUSD",
            "side": "long",
            "size_units": 100_000.0,
            "size_lots": 1.0,
            "entry_time": index[entry_bar],
            "exit_time": index[exit_bar],
            "entry_price": 1.1,
            "exit_price": 1.1 + pnl / 100_000.0,
            "gross_pnl": pnl,
            "commission": 0.0,
            "swap": 0.0,
            "pnl": pnl,
            "pnl_pips": pnl / 10.0,
            "return_pct": returns * 100.0,
            "mae_pips": 0.0,
            "mfe_pips": 0.0,
            "duration": index[exit_bar] - index[entry_bar],
        }
    )[list(TRADE_COLUMNS)]
    naive = index.tz_localize(None)
    their_ohlc = pd.DataFrame({"Close": equity}, index=naive)
    their_trades = pd.DataFrame(
        {
            "PnL": pnl,
            "ReturnPct": returns,
            "Duration": naive[exit_bar] - naive[entry_bar],
            "EntryBar": entry_bar,
            "ExitBar": exit_bar,
        }
    )

    def ours() -> object:
        return compute_statistics(ours_equity, ours_trades, initial_cash=100_000.0)

    def theirs() -> object:
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            return compute_stats(their_trades, equity, their_ohlc, None)

    ours()
    theirs()
    our_time = _median_seconds(ours)
    their_time = _median_seconds(theirs)
    plot_time = _median_seconds(lambda: plot_equity(ours_equity).canvas.draw(), repeat=3)
    print(f"{points:,} equity points, {trade_count:,} trades")
    print(f"backtestr compute_statistics     {our_time * 1e3:9.1f} ms")
    print(f"backtesting.py compute_stats     {their_time * 1e3:9.1f} ms")
    print(f"ratio (backtesting.py / ours)    {their_time / our_time:9.2f}x")
    print(f"plot_equity + render (Agg)       {plot_time * 1e3:9.1f} ms")


if __name__ == "__main__":
    main()
