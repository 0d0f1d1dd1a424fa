"""Dukascopy EURUSD, 4-5 February 2019: our bars must match the vendor's own candles."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from backtestr.bars import aggregate_bars, aggregate_ticks
from backtestr.model import BarArrays, TickArrays, Timeframe, TradingDay

pytestmark = pytest.mark.realdata

REPO = Path(__file__).resolve().parents[2]
UTC_DAYS = TradingDay.utc_midnight()


def _folder() -> Path:
    root = os.environ.get("BACKTESTR_REAL_DATA")
    base = Path(root) if root else REPO / ".." / "shared" / "data" / "real"
    folder = base / "dukascopy_eurusd"
    if not folder.is_dir():
        pytest.skip(f"real data not found at {folder}")
    return folder


def _ts_ns(column: pd.Series) -> np.ndarray:
    return (
        pd.to_datetime(column, utc=True, format="ISO8601")
        .to_numpy(dtype="datetime64[ns]")
        .view(np.int64)
    )


def _candles(name: str) -> pd.DataFrame:
    frame = pd.read_csv(_folder() / name)
    frame["ts_ns"] = _ts_ns(frame["timestamp_utc"])
    return frame


@pytest.fixture(scope="module")
def ticks() -> TickArrays:
    frame = pd.read_csv(_folder() / "EURUSD_ticks_20190204-20190205_UTC.csv")
    return TickArrays(
        ts_ns=_ts_ns(frame["timestamp_utc"]),
        bid=frame["bid"].to_numpy(np.float64),
        ask=frame["ask"].to_numpy(np.float64),
        bid_volume=frame["bid_volume"].to_numpy(np.float64),
        ask_volume=frame["ask_volume"].to_numpy(np.float64),
    )


def _assert_matches(bars: BarArrays, candles: pd.DataFrame) -> None:
    np.testing.assert_array_equal(bars.ts_ns, candles["ts_ns"].to_numpy())
    for column in ("open", "high", "low", "close"):
        np.testing.assert_array_equal(getattr(bars, column), candles[column].to_numpy())
    np.testing.assert_allclose(bars.volume, candles["volume"].to_numpy(), rtol=1e-3)


def test_ticks_resample_to_dukascopy_m1_bid_candles(ticks: TickArrays) -> None:
    m1 = aggregate_ticks(ticks, ["M1"], trading_day=UTC_DAYS)[Timeframe.parse("M1")]
    candles = _candles("EURUSD_M1_BID_20190204-20190205_UTC.csv")
    assert len(m1) == len(candles) == 2880
    _assert_matches(m1, candles)
    assert m1.tick_count.sum() == len(ticks)
    assert (m1.spread_min > 0).all()
    assert (m1.spread_max < 6e-4).all()


def test_m1_bars_aggregate_to_dukascopy_h1_and_d1_candles(ticks: TickArrays) -> None:
    built = aggregate_ticks(ticks, ["M1", "H1", "D1"], trading_day=UTC_DAYS)
    m1 = built[Timeframe.parse("M1")]
    h1 = aggregate_bars(m1, "M1", "H1", trading_day=UTC_DAYS)
    hours = _candles("EURUSD_H1_BID_201901-201902_UTC.csv")
    start, end = m1.ts_ns[0], m1.ts_ns[-1]
    _assert_matches(h1, hours[(hours["ts_ns"] >= start) & (hours["ts_ns"] <= end)])
    _assert_matches(built[Timeframe.parse("H1")], hours[hours["ts_ns"].between(start, end)])
    days = _candles("EURUSD_D1_BID_2018-2019_UTC.csv")
    d1 = aggregate_bars(h1, "H1", "D1", trading_day=UTC_DAYS)
    _assert_matches(d1, days[days["ts_ns"].between(start, end)])
