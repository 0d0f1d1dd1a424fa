"""Shared builders for engine and strategy tests: bars from arrays, real-data loaders."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from backtestr.engine import EngineSettings, MarketData, SymbolFeed
from backtestr.model import BarArrays, Instrument, TickArrays, Timeframe, fx_instrument
from backtestr.strategy.samples import SEED_STRATEGY  # noqa: F401 - shared with the tests

MINUTE_NS = 60 * 10**9
START_NS = int(pd.Timestamp("2024-01-08 00:00", tz="UTC").value)  # a Monday


def real_data_dir() -> Path:
    """The shared real-data folder (env BACKTESTR_REAL_DATA, else next to the repo); skips."""
    env = os.environ.get("BACKTESTR_REAL_DATA")
    root = (
        Path(env)
        if env
        else Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "real"
    )
    if not root.is_dir():
        pytest.skip("real market data not available")
    return root


def to_ns(values: pd.Series | pd.Index) -> np.ndarray:
    index = pd.DatetimeIndex(pd.to_datetime(values, utc=True)).as_unit("ns")
    return index.asi8.astype(np.int64)


def bars_from_closes(
    closes: list[float] | np.ndarray,
    *,
    start_ns: int = START_NS,
    step_ns: int = MINUTE_NS,
    highs: list[float] | np.ndarray | None = None,
    lows: list[float] | np.ndarray | None = None,
    opens: list[float] | np.ndarray | None = None,
) -> BarArrays:
    """Bars whose open is the previous close (unless given) and high/low span open and close."""
    close = np.asarray(closes, dtype=np.float64)
    n = len(close)
    open_ = (
        np.asarray(opens, dtype=np.float64) if opens is not None else np.r_[close[0], close[:-1]]
    )
    high = np.asarray(highs, dtype=np.float64) if highs is not None else np.maximum(open_, close)
    low = np.asarray(lows, dtype=np.float64) if lows is not None else np.minimum(open_, close)
    ts = start_ns + np.arange(n, dtype=np.int64) * step_ns
    return BarArrays.from_ohlc(ts, open_, high, low, close, np.ones(n))


def market(
    bars: BarArrays,
    symbol: str = "EURUSD",
    *,
    instrument: Instrument | None = None,
    timeframe: str = "M1",
    ticks: TickArrays | None = None,
) -> MarketData:
    spec = instrument or fx_instrument(symbol)
    return MarketData(Timeframe.parse(timeframe), {symbol: SymbolFeed(spec, bars, ticks=ticks)})


def share_instrument(symbol: str = "GOOG") -> Instrument:
    """A cash equity: one unit per lot, whole units, no leverage."""
    return Instrument(
        symbol, symbol, "USD", pip_size=0.01, tick_size=0.01, contract_size=1.0,
        min_lot=1.0, lot_step=1.0, margin_rate=1.0,
    )  # fmt: skip


def settings(**changes: object) -> EngineSettings:
    return EngineSettings(**changes)  # type: ignore[arg-type]


def load_m1_bars(root: Path) -> BarArrays:
    frame = pd.read_csv(root / "dukascopy_eurusd" / "EURUSD_M1_BID_20190204-20190205_UTC.csv")
    return BarArrays.from_ohlc(
        to_ns(frame["timestamp_utc"]),
        frame["open"].to_numpy(),
        frame["high"].to_numpy(),
        frame["low"].to_numpy(),
        frame["close"].to_numpy(),
        frame["volume"].to_numpy(),
    )


def load_ticks(root: Path) -> TickArrays:
    frame = pd.read_csv(root / "dukascopy_eurusd" / "EURUSD_ticks_20190204-20190205_UTC.csv")
    return TickArrays(
        to_ns(frame["timestamp_utc"]),
        frame["bid"].to_numpy(),
        frame["ask"].to_numpy(),
        frame["bid_volume"].to_numpy(),
        frame["ask_volume"].to_numpy(),
    )
