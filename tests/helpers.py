"""Shared builders for tests (one place, per the house style)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from backtestr.model import BarArrays, TickArrays

REPO = Path(__file__).resolve().parents[1]


def real_data_dir() -> Path:
    """The shared real-data folder (``BACKTESTR_REAL_DATA`` or ``<repo>/../shared/data/real``)."""
    configured = os.environ.get("BACKTESTR_REAL_DATA")
    return Path(configured) if configured else REPO.parent / "shared" / "data" / "real"


def real_file(relative: str) -> Path:
    """A file of the real-data folder, or skip the test when it is not there."""
    path = real_data_dir() / relative
    if not path.is_file():
        pytest.skip(f"real data not available: {path}")
    return path


def make_ticks(ts_ns: list[int] | np.ndarray, bid: float | list[float] = 1.1) -> TickArrays:
    ts = np.asarray(ts_ns, dtype=np.int64)
    bids = np.broadcast_to(np.asarray(bid, dtype=np.float64), ts.shape).copy()
    return TickArrays(
        ts_ns=ts,
        bid=bids,
        ask=bids + 0.0001,
        bid_volume=np.ones(len(ts)),
        ask_volume=np.ones(len(ts)),
    )


def make_bars(ts_ns: list[int] | np.ndarray, close: float | list[float] = 1.1) -> BarArrays:
    ts = np.asarray(ts_ns, dtype=np.int64)
    closes = np.broadcast_to(np.asarray(close, dtype=np.float64), ts.shape).copy()
    return BarArrays.from_ohlc(ts, closes, closes + 0.001, closes - 0.001, closes, np.ones(len(ts)))


def write_csv(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def trending_m1_csv(path: Path, days: int = 2, start: str = "2019-02-04") -> Path:
    """M1 bid bars of an EURUSD-like series whose drift turns every 90 minutes (so moving
    averages cross), as a generic ``timestamp,open,high,low,close,volume`` CSV."""
    first = pd.Timestamp(start, tz="UTC")
    lines = ["timestamp,open,high,low,close,volume"]
    price = 1.1450
    for minute in range(days * 1440):
        stamp = first + pd.Timedelta(minutes=minute)
        close = price + 0.00002 * ((minute // 90) % 7 - 3)
        high, low = max(price, close) + 0.00008, min(price, close) - 0.00007
        lines.append(
            f"{stamp:%Y-%m-%d %H:%M},{price:.5f},{high:.5f},{low:.5f},{close:.5f},{minute % 50 + 1}"
        )
        price = close
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path
