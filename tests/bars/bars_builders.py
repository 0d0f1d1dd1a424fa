"""Shared builders for the bar tests: random tick streams and an independent pandas reference."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pandas as pd
from hypothesis import strategies as st

from backtestr.bars import bar_open_times
from backtestr.model import BarArrays, PriceSide, TickArrays, Timeframe, TradingDay

NS = 1_000_000_000
MINUTE = 60 * NS
HOUR = 60 * MINUTE
DAY = 24 * HOUR


def utc_ns(text: str) -> int:
    """``"2019-03-10 21:00"`` (UTC) as int nanoseconds."""
    moment = datetime.fromisoformat(text).replace(tzinfo=UTC)
    return int(moment.timestamp()) * NS


# starts near the awkward places: US DST on/off, month, quarter and year ends, a leap day
ANCHORS = [
    utc_ns("2019-03-08 20:00"),
    utc_ns("2019-03-10 18:00"),
    utc_ns("2019-10-31 19:00"),
    utc_ns("2019-11-01 23:00"),
    utc_ns("2019-12-27 12:00"),
    utc_ns("2020-02-28 20:30"),
    utc_ns("2021-06-30 21:00"),
]


def make_ticks(seed: int, n: int, start_ns: int, *, sparse: bool = False) -> TickArrays:
    """Random quotes from ``start_ns``: mostly sub-minute gaps, some hours, some days.

    Equal timestamps occur (gap 0), as they do in real feeds. ``sparse`` makes long gaps common
    so that a few hundred ticks span weeks.
    """
    rng = np.random.default_rng(seed)
    kind = rng.random(n)
    long_share = 0.25 if sparse else 0.03
    gaps = np.where(
        kind < 0.1,
        0,
        np.where(
            kind < 1 - long_share,
            rng.integers(1, 90 * NS, n),
            rng.integers(HOUR // 2, 3 * DAY, n),
        ),
    ).astype(np.int64)
    gaps[0] = 0
    ts = start_ns + np.cumsum(gaps)
    bid = np.round(1.1 + np.cumsum(rng.normal(0, 3e-4, n)), 5)
    spread = rng.integers(0, 30, n) * 1e-5
    bid_volume = rng.integers(0, 40, n) / 4
    ask_volume = rng.integers(0, 40, n) / 4
    return TickArrays(ts.astype(np.int64), bid, np.round(bid + spread, 5), bid_volume, ask_volume)


@st.composite
def tick_streams(draw: st.DrawFn, max_ticks: int = 400) -> TickArrays:
    """Hypothesis strategy: a random tick stream starting at one of the awkward anchors."""
    seed = draw(st.integers(0, 2**32 - 1))
    n = draw(st.integers(1, max_ticks))
    start = draw(st.sampled_from(ANCHORS)) + draw(st.integers(0, DAY))
    sparse = draw(st.booleans())
    return make_ticks(seed, n, start, sparse=sparse)


def reference_bars(
    ticks: TickArrays, timeframe: Timeframe, side: PriceSide, trading_day: TradingDay
) -> pd.DataFrame:
    """Bars computed the obvious way: label every tick, then group by label with pandas."""
    frame = pd.DataFrame(
        {
            "label": bar_open_times(ticks.ts_ns, timeframe, trading_day),
            "price": ticks.price(side),
            "volume": ticks.volume(side),
            "spread": ticks.ask - ticks.bid,
        }
    )
    grouped = frame.groupby("label", sort=True)
    return pd.DataFrame(
        {
            "open": grouped["price"].first(),
            "high": grouped["price"].max(),
            "low": grouped["price"].min(),
            "close": grouped["price"].last(),
            "volume": grouped["volume"].sum(),
            "tick_count": grouped["price"].size(),
            "spread_min": grouped["spread"].min(),
            "spread_avg": grouped["spread"].mean(),
            "spread_max": grouped["spread"].max(),
        }
    )


def assert_bars_equal(actual: BarArrays, expected: BarArrays) -> None:
    """Bit-identical bars (NaN equal to NaN)."""
    for name, column in expected.columns().items():
        np.testing.assert_array_equal(actual.columns()[name], column, err_msg=name)


def assert_bars_close(actual: BarArrays, expected: BarArrays) -> None:
    """Same labels, prices and counts; sums and averages equal up to rounding order."""
    for name in ("ts_ns", "open", "high", "low", "close", "tick_count", "spread_min", "spread_max"):
        np.testing.assert_array_equal(getattr(actual, name), getattr(expected, name), err_msg=name)
    for name in ("volume", "spread_avg"):
        np.testing.assert_allclose(
            getattr(actual, name), getattr(expected, name), rtol=1e-12, atol=1e-15, err_msg=name
        )
