"""Builders shared by the stats tests: equity curves and trade lists in the engine's format."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from backtestr.stats import TRADE_COLUMNS


def equity_curve(
    values: Sequence[float], *, start: str = "2024-01-01", freq: str = "D"
) -> pd.Series:
    """An equity Series on a regular UTC index."""
    index = pd.date_range(start, periods=len(values), freq=freq, tz="UTC")
    return pd.Series(np.asarray(values, dtype=np.float64), index=index)


def trade_list(
    pnls: Sequence[float],
    *,
    notional: float = 10_000.0,
    start: str = "2024-01-01",
    hold: str = "1D",
    commission: float = 0.0,
    swap: float = 0.0,
) -> pd.DataFrame:
    """Long EURUSD trades, one per day, with the given net P&L each and a fixed entry notional."""
    count = len(pnls)
    pnl = np.asarray(pnls, dtype=np.float64)
    entry_time = pd.date_range(start, periods=count, freq="D", tz="UTC")
    exit_time = entry_time + pd.Timedelta(hold)
    entry_price = np.full(count, 1.1)
    size_units = np.full(count, notional / 1.1)
    gross = pnl + commission + swap
    exit_price = entry_price + gross / size_units
    pips = (exit_price - entry_price) / 0.0001
    frame = pd.DataFrame(
        {
            "symbol": ["EURUSD"] * count,
            "side": ["long"] * count,
            "size_units": size_units,
            "size_lots": size_units / 100_000,
            "entry_time": entry_time,
            "exit_time": exit_time,
            "entry_price": entry_price,
            "exit_price": exit_price,
            "gross_pnl": gross,
            "commission": np.full(count, commission),
            "swap": np.full(count, swap),
            "pnl": pnl,
            "pnl_pips": pips,
            "return_pct": pnl / notional * 100,
            "mae_pips": np.minimum(pips, 0.0),
            "mfe_pips": np.maximum(pips, 0.0),
            "duration": exit_time - entry_time,
        }
    )
    return frame[list(TRADE_COLUMNS)]
