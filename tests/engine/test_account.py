"""The account: costs, netting and hedging, margin, stop-out, swaps, currency conversion."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from backtestr.engine import (
    EngineSettings,
    MarketData,
    Percent,
    PerLot,
    PerMillion,
    PerTrade,
    PositionMode,
    SymbolFeed,
    parse_commission,
)
from backtestr.errors import ConfigError
from backtestr.model import Instrument, Timeframe, fx_instrument
from backtestr.strategy import Backtest
from tests.engine.helpers import MINUTE_NS, START_NS, bars_from_closes, market
from tests.engine.test_execution import run


def test_commission_models_charge_per_fill_in_account_currency() -> None:
    instrument = fx_instrument("EURUSD")
    assert PerLot(3.5).cost(200_000, 1.1, instrument, 1.0) == pytest.approx(7.0)
    assert PerMillion(25.0).cost(200_000, 1.1, instrument, 1.0) == pytest.approx(5.5)
    assert Percent(0.1).cost(200_000, 1.1, instrument, 1.0) == pytest.approx(220.0)
    assert PerTrade(2.0).cost(200_000, 1.1, instrument, 1.0) == 2.0


def test_commission_text_is_parsed_or_refused_with_the_forms() -> None:
    assert parse_commission("3.5/lot") == PerLot(3.5)
    assert parse_commission("35 /m") == PerMillion(35.0)
    assert parse_commission("0.2%") == Percent(0.2)
    assert parse_commission("1/trade") == PerTrade(1.0)
    with pytest.raises(ConfigError, match="AMOUNT/lot"):
        parse_commission("cheap")


def test_trade_pnl_includes_both_commissions() -> None:
    bars = bars_from_closes([1.1000, 1.1000, 1.1010, 1.1010])
    result = run(
        {0: lambda s: s.order("EURUSD", 100_000), 2: lambda s: s.order("EURUSD", -100_000)},
        bars,
        commission=PerLot(3.5),
    )
    trade = result.trades.iloc[0]
    assert trade["gross_pnl"] == pytest.approx(100.0)
    assert trade["commission"] == pytest.approx(7.0)
    assert trade["pnl"] == pytest.approx(93.0)
    assert result.final_equity == pytest.approx(100_093.0)


def test_netting_reduces_the_oldest_trade_first_and_splits_it() -> None:
    bars = bars_from_closes([1.10, 1.10, 1.11, 1.12, 1.13, 1.13])
    result = run(
        {
            0: lambda s: s.order("EURUSD", 10_000),
            2: lambda s: s.order("EURUSD", 20_000),
            3: lambda s: s.order("EURUSD", -15_000),
        },
        bars,
    )
    trades = result.trades
    # closes all of the first trade (10k) and 5k of the second; the rest closes at the end
    assert trades["size_units"].tolist() == [10_000, 5_000, 15_000]
    assert trades["entry_price"].tolist() == pytest.approx([1.10, 1.11, 1.11])


def test_netting_reverses_a_position_with_one_order() -> None:
    bars = bars_from_closes([1.10, 1.10, 1.11, 1.12])
    result = run(
        {0: lambda s: s.order("EURUSD", 10_000), 1: lambda s: s.order("EURUSD", -30_000)}, bars
    )
    assert result.trades["side"].tolist() == ["long", "short"]
    assert result.trades["size_units"].tolist() == [10_000, 20_000]


def test_hedging_keeps_opposite_trades_open_side_by_side() -> None:
    bars = bars_from_closes([1.10, 1.10, 1.11, 1.12, 1.12])
    seen: list[tuple[float, float]] = []

    def inspect(s: object) -> None:
        position = s.portfolio.positions["EURUSD"]  # type: ignore[attr-defined]
        seen.append((position.long_units, position.short_units))

    result = run(
        {
            0: lambda s: s.order("EURUSD", 10_000),
            1: lambda s: s.order("EURUSD", -10_000),
            3: inspect,
        },
        bars,
        position_mode=PositionMode.HEDGING,
    )
    assert seen == [(10_000.0, 10_000.0)]
    assert sorted(result.trades["side"].tolist()) == ["long", "short"]


def test_order_target_in_hedging_mode_closes_opposite_trades_first() -> None:
    bars = bars_from_closes([1.10, 1.10, 1.11, 1.12, 1.12])
    result = run(
        {
            0: lambda s: s.order("EURUSD", 10_000),
            1: lambda s: s.order("EURUSD", 10_000),
            2: lambda s: s.order_target("EURUSD", 5_000),
        },
        bars,
        position_mode=PositionMode.HEDGING,
    )
    trades = result.trades
    # the oldest long closes, the second is cut to 5k at the order_target fill
    assert trades["side"].tolist() == ["long", "long", "long"]
    assert trades["size_units"].tolist() == [10_000, 5_000, 5_000]
    assert trades["exit_time"].iloc[1] == trades["exit_time"].iloc[0]


def test_order_beyond_free_margin_is_rejected() -> None:
    bars = bars_from_closes([1.10, 1.10, 1.10])
    # 100k cash at 30:1 carries at most ~2.7m EUR; ask for 5m
    result = run({0: lambda s: s.order("EURUSD", 5_000_000)}, bars, leverage=30.0)
    order = result.orders.iloc[0]
    assert order["status"] == "rejected"
    assert "margin" in order["reason"]
    assert result.trades.empty


def test_stop_out_closes_positions_when_the_margin_level_falls_to_the_limit() -> None:
    # 2.5m EUR at 30:1 holds 91 667 margin of 100k; stop-out at 50 % = equity 45 833:
    # a loss of 54 167 = 2.1667 cents on 2.5m -> at about 1.07833
    closes = [1.10, 1.10, 1.095, 1.09, 1.08, 1.07, 1.06]
    bars = bars_from_closes(closes)
    result = run({0: lambda s: s.order("EURUSD", 2_500_000)}, bars, leverage=30.0)
    trade = result.trades.iloc[0]
    level = 1.10 - (100_000 - 0.5 * 2_500_000 * 1.10 / 30) / 2_500_000
    assert trade["exit_price"] == pytest.approx(level, abs=1e-9)
    stop_out = result.orders[result.orders["tag"] == "stop_out"]
    assert len(stop_out) == 1
    assert result.final_equity == pytest.approx(0.5 * 2_500_000 * 1.10 / 30, rel=1e-9)


def _swap_instrument() -> Instrument:
    return Instrument(
        "EURUSD", "EUR", "USD", pip_size=0.0001, tick_size=0.00001,
        swap_long_pips=-1.0, swap_short_pips=0.5,
    )  # fmt: skip


def test_swaps_are_charged_at_each_rollover_and_triple_on_wednesday() -> None:
    # hourly bars from Monday 12:00 UTC to Friday: rollovers Mon, Tue, Wed (x3), Thu at 22:00 UTC
    start = int(pd.Timestamp("2024-01-08 12:00", tz="UTC").value)
    bars = bars_from_closes([1.10] * 90, start_ns=start, step_ns=60 * MINUTE_NS)
    data = MarketData(Timeframe.parse("H1"), {"EURUSD": SymbolFeed(_swap_instrument(), bars)})
    result = run({0: lambda s: s.order("EURUSD", 100_000)}, data)
    trade = result.trades.iloc[0]
    # one lot, 1 pip = 10 USD per day: Mon + Tue + 3 x Wed + Thu = 6 days charged
    assert trade["swap"] == pytest.approx(60.0)
    assert result.stats.swaps_paid == pytest.approx(60.0)
    assert trade["pnl"] == pytest.approx(-60.0)


def test_pnl_in_another_quote_currency_is_converted_to_the_account_currency() -> None:
    bars = bars_from_closes([150.00, 150.00, 151.50, 151.50])
    data = market(bars, "USDJPY")
    result = run(
        {0: lambda s: s.order("USDJPY", 100_000), 2: lambda s: s.order("USDJPY", -100_000)}, data
    )
    trade = result.trades.iloc[0]
    # +1.50 JPY per USD on 100k = 150 000 JPY, converted at the rate known at the fill: the
    # previous bar's close, 151.50
    assert trade["gross_pnl"] == pytest.approx(150_000 / 151.5)
    assert trade["pnl_pips"] == pytest.approx(150.0)


def test_a_cross_needs_a_conversion_pair_loaded() -> None:
    bars = bars_from_closes([0.85, 0.85])
    with pytest.raises(ConfigError, match="GBPUSD"):
        Backtest("def handle_data(c, d):\n    pass\n", market(bars, "EURGBP"))


def test_cross_pnl_is_converted_through_the_loaded_pair() -> None:
    cross = bars_from_closes([0.8500, 0.8500, 0.8600, 0.8600])
    rate = bars_from_closes([1.2500, 1.2500, 1.2600, 1.2600])
    data = MarketData(
        Timeframe.parse("M1"),
        {
            "EURGBP": SymbolFeed(fx_instrument("EURGBP"), cross),
            "GBPUSD": SymbolFeed(fx_instrument("GBPUSD"), rate),
        },
    )
    result = run(
        {0: lambda s: s.order("EURGBP", 100_000), 2: lambda s: s.order("EURGBP", -100_000)}, data
    )
    trade = result.trades.iloc[0]
    # 0.01 GBP x 100k = 1000 GBP, at GBPUSD 1.26 (the close before the fill) = 1260 USD
    assert trade["gross_pnl"] == pytest.approx(1260.0)


def test_history_of_another_symbol_and_staleness() -> None:
    steps = np.array([0, 1, 2, 3, 4], dtype=np.int64)
    main = bars_from_closes([1.0, 1.1, 1.2, 1.3, 1.4])
    other = bars_from_closes([2.0, 2.2], start_ns=START_NS + MINUTE_NS)  # bars 1 and 2 only
    data = MarketData(
        Timeframe.parse("M1"),
        {
            "EURUSD": SymbolFeed(fx_instrument("EURUSD"), main),
            "GBPUSD": SymbolFeed(fx_instrument("GBPUSD"), other),
        },
    )
    seen: list[tuple[bool, float]] = []

    def probe(s: object) -> None:
        d = s.data  # type: ignore[attr-defined]
        seen.append((d.can_trade("GBPUSD"), d.history("GBPUSD", "close", 1)[-1]))

    run({int(i): probe for i in steps}, data)
    assert [fresh for fresh, _ in seen] == [False, True, True, False, False]
    assert seen[2][1] == pytest.approx(2.2)
    assert seen[4][1] == pytest.approx(2.2)  # stale: the last closed bar
    assert np.isnan(seen[0][1])


def test_history_of_a_higher_timeframe_counts_only_closed_bars() -> None:
    minutes = bars_from_closes(np.arange(1.0, 11.0))  # 10 M1 bars, closes 1..10
    m5 = bars_from_closes([5.0, 10.0], step_ns=5 * MINUTE_NS)

    def loader(symbol: str, timeframe: Timeframe) -> object:
        assert timeframe == Timeframe.parse("M5")
        return m5

    data = MarketData(
        Timeframe.parse("M1"),
        {"EURUSD": SymbolFeed(fx_instrument("EURUSD"), minutes)},
        bar_loader=loader,  # type: ignore[arg-type]
    )
    seen: list[float] = []
    run(
        {
            i: (lambda s: seen.append(s.data.history("EURUSD", "close", 1, "M5")[-1]))
            for i in range(10)
        },
        data,
    )
    # the first M5 bar closes with the 5th minute (step 4), the second with the 10th
    assert np.isnan(seen[:4]).all()
    assert seen[4:9] == [5.0] * 5
    assert seen[9] == 10.0


def test_indicator_that_looks_ahead_is_refused() -> None:
    code = """
import numpy as np
def initialize(context):
    context.future = indicator(lambda c: np.r_[c[1:], np.nan])
def handle_data(context, data):
    pass
"""
    with pytest.raises(Exception, match="looks ahead"):
        Backtest(code, market(bars_from_closes(np.linspace(1, 2, 50))))


def test_settings_validate_their_values() -> None:
    with pytest.raises(ConfigError, match="leverage"):
        EngineSettings(leverage=0.5)
    with pytest.raises(ConfigError, match="cash"):
        EngineSettings(cash=0)
