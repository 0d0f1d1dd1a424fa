"""Shared builders for tests (one place, per the house style)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
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
