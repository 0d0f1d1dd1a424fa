"""The OHLC quote path (engine.market.build_quote_path), against its plain definition."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from backtestr.engine import MarketData, ModellingMode, SymbolFeed
from backtestr.engine.market import build_quote_path
from backtestr.errors import ConfigError
from backtestr.model import BarArrays, Timeframe, fx_instrument

MINUTE_NS = 60 * 10**9


@settings(max_examples=100, deadline=None)
@given(st.data(), st.integers(1, 30), st.sampled_from(["M1", "M5", "MN1"]))
def test_ohlc_path_is_open_nearer_extreme_farther_extreme_close(
    data: st.DataObject, n: int, timeframe: str
) -> None:
    prices = st.floats(1.0, 1.2)
    opens = np.asarray(data.draw(st.lists(prices, min_size=n, max_size=n)))
    closes = np.asarray(data.draw(st.lists(prices, min_size=n, max_size=n)))
    high = np.maximum(opens, closes) + np.asarray(
        data.draw(st.lists(st.floats(0.0, 0.01), min_size=n, max_size=n))
    )
    low = np.minimum(opens, closes) - np.asarray(
        data.draw(st.lists(st.floats(0.0, 0.01), min_size=n, max_size=n))
    )
    spread = np.asarray(
        data.draw(
            st.lists(
                st.one_of(st.floats(0.0, 0.001), st.just(np.nan), st.just(np.inf)),
                min_size=n,
                max_size=n,
            )
        )
    )
    tf = Timeframe.parse(timeframe)
    step = tf.duration_ns or 31 * 86_400 * 10**9
    ts = 1_700_000_000 * 10**9 + np.arange(n, dtype=np.int64) * step
    bars = BarArrays.from_ohlc(ts, opens, high, low, closes, np.ones(n))
    bars = BarArrays(**{**bars.columns(), "spread_avg": spread})
    feed = SymbolFeed(fx_instrument("EURUSD"), bars)

    path = build_quote_path(feed, ModellingMode.OHLC, tf, spread_pips=0.5)

    ends = ts + step if tf.duration_ns else np.r_[ts[1:], ts[-1] + 31 * 86_400 * 10**9]
    length = ends - ts
    high_first = (high - opens) < (opens - low)
    expected_bid = np.stack(
        [opens, np.where(high_first, high, low), np.where(high_first, low, high), closes], axis=1
    ).ravel()
    cleaned = np.where(np.isfinite(spread), spread, 0.5 * 0.0001)
    expected_ts = np.stack([ts, ts + length // 3, ts + (2 * length) // 3, ends - 1], axis=1).ravel()
    assert path.ts_ns.tolist() == expected_ts.tolist()
    assert path.bid.tolist() == expected_bid.tolist()
    assert path.ask.tolist() == (expected_bid + np.repeat(cleaned, 4)).tolist()
    assert path.continuous.tolist() == [k % 4 != 0 for k in range(4 * n)]


def test_market_data_rejects_bars_that_do_not_strictly_increase_in_time() -> None:
    ts = np.array([0, MINUTE_NS, MINUTE_NS, 3 * MINUTE_NS], dtype=np.int64)
    prices = np.ones(4)
    bars = BarArrays.from_ohlc(ts, prices, prices, prices, prices, prices)
    with pytest.raises(ConfigError, match="not strictly increasing"):
        MarketData(Timeframe.parse("M1"), {"EURUSD": SymbolFeed(fx_instrument("EURUSD"), bars)})
