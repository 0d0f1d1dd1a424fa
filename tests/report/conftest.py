"""Inputs for the report tests: a small, deterministic equity curve and trade list."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from backtestr.stats import TRADE_COLUMNS, Statistics, compute_statistics


@pytest.fixture
def equity() -> pd.Series:
    steps = np.random.default_rng(7).normal(0.0005, 0.01, 300)
    index = pd.date_range("2024-01-01", periods=301, freq="h", tz="UTC")
    return pd.Series(10_000.0 * np.cumprod(np.r_[1.0, 1.0 + steps]), index=index)


@pytest.fixture
def trades(equity: pd.Series) -> pd.DataFrame:
    entries = equity.index[[10, 60, 150]]
    exits = equity.index[[40, 100, 220]]
    entry_equity = equity.iloc[[10, 60, 150]].to_numpy()
    pnl = equity.iloc[[40, 100, 220]].to_numpy() - entry_equity
    frame = pd.DataFrame(
        {
            "symbol": "EURUSD",
            "side": ["long", "short", "long"],
            "size_units": 100_000.0,
            "size_lots": 1.0,
            "entry_time": entries,
            "exit_time": exits,
            "entry_price": [1.1, 1.2, 1.15],
            "exit_price": [1.1 + pnl[0] / 1e5, 1.2 - pnl[1] / 1e5, 1.15 + pnl[2] / 1e5],
            "gross_pnl": pnl,
            "commission": 0.0,
            "swap": 0.0,
            "pnl": pnl,
            "pnl_pips": pnl / 10.0,
            "return_pct": pnl / 1_100.0,
            "mae_pips": -5.0,
            "mfe_pips": 12.0,
            "duration": exits - entries,
        }
    )
    return frame[list(TRADE_COLUMNS)]


@pytest.fixture
def statistics(equity: pd.Series, trades: pd.DataFrame) -> Statistics:
    return compute_statistics(equity, trades, initial_cash=10_000.0)
