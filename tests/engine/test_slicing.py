"""slice_market: a run on a window of the data cannot read a price from at or after its end."""

from __future__ import annotations

import pickle

import numpy as np
import pandas as pd
import pytest

from backtestr.engine import MarketData, SymbolFeed, slice_market
from backtestr.errors import ConfigError, NoDataError
from backtestr.model import BarArrays, Timeframe, fx_instrument
from backtestr.optimize import freeze_market
from backtestr.optimize.trial import PreloadedBars
from tests.engine.helpers import bars_from_closes
from tests.helpers import make_ticks

HOUR = 3_600 * 10**9
MINUTE = 60 * 10**9
DAY = 24 * HOUR
START = int(pd.Timestamp("2024-01-01", tz="UTC").value)


def ns(text: str) -> int:
    return int(pd.Timestamp(text, tz="UTC").value)


def hourly(days: int = 10) -> BarArrays:
    return bars_from_closes(1.0 + np.arange(days * 24) * 1e-5, start_ns=START, step_ns=HOUR)


def coarse_loader(symbol: str, timeframe: Timeframe) -> BarArrays:
    step = timeframe.duration_ns or 31 * DAY
    return bars_from_closes(np.ones(40), start_ns=START - 5 * step, step_ns=step)


def test_strategy_bars_execution_bars_and_ticks_are_cut_to_the_window() -> None:
    minutes = bars_from_closes(np.ones(10 * 1440), start_ns=START, step_ns=MINUTE)
    ticks = make_ticks(START + np.arange(0, 10 * DAY, 30 * MINUTE))
    feed = SymbolFeed(fx_instrument("EURUSD"), hourly(), ticks, minutes, Timeframe.parse("M1"))
    market = MarketData(Timeframe.parse("H1"), {"EURUSD": feed}, coarse_loader)
    cut = slice_market(market, ns("2024-01-03"), ns("2024-01-05 12:00"))
    sliced = cut.feeds["EURUSD"]
    assert sliced.bars.ts_ns[0] == ns("2024-01-03")
    assert sliced.bars.ts_ns[-1] == ns("2024-01-05 11:00")
    assert sliced.execution_bars is not None
    assert sliced.execution_bars.ts_ns[[0, -1]].tolist() == [
        ns("2024-01-03"), ns("2024-01-05 11:59")
    ]  # fmt: skip
    assert sliced.ticks is not None
    assert sliced.ticks.ts_ns.max() < ns("2024-01-05 12:00")
    assert sliced.ticks.ts_ns.min() >= ns("2024-01-03")
    # the original is untouched and the slice shares its memory
    assert len(market.feeds["EURUSD"].bars) == 240
    assert np.shares_memory(sliced.bars.close, market.feeds["EURUSD"].bars.close)


def test_a_bar_closing_after_the_window_end_is_left_out() -> None:
    # daily bars at 21:00 UTC (FX trading days) straddle a midnight boundary
    daily = bars_from_closes(np.ones(10), start_ns=ns("2023-12-31 21:00"), step_ns=DAY)
    market = MarketData(
        Timeframe.parse("D1"), {"EURUSD": SymbolFeed(fx_instrument("EURUSD"), daily)}
    )
    cut = slice_market(market, ns("2024-01-01"), ns("2024-01-05"))
    opens = cut.feeds["EURUSD"].bars.ts_ns
    assert opens[0] == ns("2024-01-01 21:00")
    assert opens[-1] == ns("2024-01-03 21:00")  # closes 2024-01-04 21:00; the next one after


def test_other_timeframes_are_cut_by_their_open_time() -> None:
    market = MarketData(
        Timeframe.parse("H1"), {"EURUSD": SymbolFeed(fx_instrument("EURUSD"), hourly())},
        coarse_loader,
    )  # fmt: skip
    cut = slice_market(market, ns("2024-01-03"), ns("2024-01-06"))
    assert cut.bar_loader is not None
    days = cut.bar_loader("EURUSD", Timeframe.parse("D1")).ts_ns
    assert days.tolist() == [ns("2024-01-03"), ns("2024-01-04"), ns("2024-01-05")]
    # a cut of a cut is the intersection, and the windowed loader pickles (for workers)
    again = pickle.loads(pickle.dumps(slice_market(cut, ns("2024-01-02"), ns("2024-01-05"))))
    assert again.bar_loader("EURUSD", Timeframe.parse("D1")).ts_ns.tolist() == days[:2].tolist()


def test_preloaded_bars_cut_themselves_and_keep_their_errors() -> None:
    market = MarketData(
        Timeframe.parse("H1"), {"EURUSD": SymbolFeed(fx_instrument("EURUSD"), hourly())},
        coarse_loader,
    )  # fmt: skip
    frozen = freeze_market(market)
    cut = slice_market(frozen, ns("2024-01-03"), ns("2024-01-06"))
    assert isinstance(cut.bar_loader, PreloadedBars)
    assert cut.bar_loader("EURUSD", Timeframe.parse("H4")).ts_ns[[0, -1]].tolist() == [
        ns("2024-01-03"), ns("2024-01-05 20:00")
    ]  # fmt: skip
    with pytest.raises(NoDataError, match="GBPUSD"):
        cut.bar_loader("GBPUSD", Timeframe.parse("H4"))


def test_a_window_without_a_whole_bar_is_an_error() -> None:
    market = MarketData(
        Timeframe.parse("H1"), {"EURUSD": SymbolFeed(fx_instrument("EURUSD"), hourly(2))}
    )
    with pytest.raises(NoDataError, match="No whole H1 bar of EURUSD between 2024-02-01"):
        slice_market(market, ns("2024-02-01"), ns("2024-03-01"))
    with pytest.raises(ConfigError, match="the end must be after the start"):
        slice_market(market, ns("2024-01-02"), ns("2024-01-01"))
