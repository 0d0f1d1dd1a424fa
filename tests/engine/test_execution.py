"""Fills: when and at what price every order type executes, in each modelling mode."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
import pytest

from backtestr.engine import (
    EngineSettings,
    FixedSlippage,
    ModellingMode,
    OrderStatus,
    RunResult,
)
from backtestr.model import TickArrays
from backtestr.strategy import Backtest, Strategy
from tests.engine.helpers import MINUTE_NS, START_NS, bars_from_closes, market
from tests.engine.test_accounting import random_bars

Action = Callable[[Strategy], object]


def scripted(actions: dict[int, Action]) -> type[Strategy]:
    """A strategy that runs ``actions[step]`` on the bar of that step."""

    class Script(Strategy):
        def on_bar(self) -> None:
            action = actions.get(self._engine.step)
            if action is not None:
                action(self)

    return Script


def run(
    actions: dict[int, Action],
    bars: object,
    **settings: object,
) -> RunResult:
    data = bars if not hasattr(bars, "open") else market(bars)  # type: ignore[arg-type]
    return Backtest(scripted(actions), data, EngineSettings(**settings)).run()  # type: ignore[arg-type]


def fills(result: RunResult) -> pd.DataFrame:
    orders = result.orders
    return orders[orders["status"] == "filled"].reset_index(drop=True)


def test_market_buy_decided_on_close_fills_at_next_open_at_the_ask() -> None:
    bars = bars_from_closes([1.10, 1.11, 1.12, 1.13], opens=[1.10, 1.105, 1.115, 1.125])
    result = run({0: lambda s: s.order("EURUSD", 10_000)}, bars, spread_pips=2.0)
    filled = fills(result)
    assert filled.loc[0, "fill_price"] == pytest.approx(1.105 + 0.0002)
    assert filled.loc[0, "closed_time"] == pd.Timestamp(START_NS + MINUTE_NS, tz="UTC")


def test_market_sell_fills_at_the_bid() -> None:
    bars = bars_from_closes([1.10, 1.11, 1.12], opens=[1.10, 1.105, 1.115])
    result = run({0: lambda s: s.order("EURUSD", -10_000)}, bars, spread_pips=2.0)
    assert fills(result).loc[0, "fill_price"] == pytest.approx(1.105)


def test_trade_on_close_fills_at_the_decision_bar_close() -> None:
    bars = bars_from_closes([1.10, 1.11, 1.12], opens=[1.10, 1.105, 1.115])
    result = run({1: lambda s: s.order("EURUSD", 10_000)}, bars, trade_on_close=True)
    assert fills(result).loc[0, "fill_price"] == pytest.approx(1.11)


def test_limit_buy_fills_at_the_limit_when_crossed_inside_a_bar() -> None:
    bars = bars_from_closes(
        [1.1000, 1.1000, 1.1010], opens=[1.1000, 1.1005, 1.1000],
        highs=[1.1000, 1.1008, 1.1010], lows=[1.1000, 1.0990, 1.1000],
    )  # fmt: skip
    result = run({0: lambda s: s.order("EURUSD", 10_000, limit_price=1.0995)}, bars)
    assert fills(result).loc[0, "fill_price"] == pytest.approx(1.0995)


def test_limit_buy_fills_at_the_better_open_after_a_gap_down() -> None:
    bars = bars_from_closes(
        [1.1000, 1.0985, 1.0990], opens=[1.1000, 1.0980, 1.0985],
        highs=[1.1000, 1.0990, 1.0990], lows=[1.1000, 1.0975, 1.0985],
    )  # fmt: skip
    result = run({0: lambda s: s.order("EURUSD", 10_000, limit_price=1.0995)}, bars)
    assert fills(result).loc[0, "fill_price"] == pytest.approx(1.0980)


def test_stop_buy_gapped_over_fills_at_the_worse_open() -> None:
    bars = bars_from_closes(
        [1.1000, 1.1030, 1.1030], opens=[1.1000, 1.1025, 1.1030],
        highs=[1.1000, 1.1035, 1.1030], lows=[1.1000, 1.1020, 1.1030],
    )  # fmt: skip
    result = run({0: lambda s: s.order("EURUSD", 10_000, stop_price=1.1010)}, bars)
    assert fills(result).loc[0, "fill_price"] == pytest.approx(1.1025)


def test_stop_sell_crossed_inside_a_bar_fills_exactly_at_the_stop() -> None:
    bars = bars_from_closes(
        [1.1000, 1.0990, 1.0990], opens=[1.1000, 1.1000, 1.0990],
        highs=[1.1000, 1.1002, 1.0990], lows=[1.1000, 1.0985, 1.0990],
    )  # fmt: skip
    result = run({0: lambda s: s.order("EURUSD", -10_000, stop_price=1.0995)}, bars)
    assert fills(result).loc[0, "fill_price"] == pytest.approx(1.0995)


def test_stop_limit_becomes_a_limit_when_the_stop_gaps_beyond_the_limit() -> None:
    bars = bars_from_closes(
        [1.1000, 1.1030, 1.1012], opens=[1.1000, 1.1030, 1.1020],
        highs=[1.1000, 1.1032, 1.1020], lows=[1.1000, 1.1028, 1.1008],
    )  # fmt: skip
    result = run(
        {0: lambda s: s.order("EURUSD", 10_000, stop_price=1.1010, limit_price=1.1015)}, bars
    )
    filled = fills(result)
    # bar 1 gaps to 1.1030 (> limit): no fill; bar 2 trades down through 1.1015: limit fill
    filled_at = filled.loc[0, "closed_time"].value
    assert START_NS + 2 * MINUTE_NS <= filled_at < START_NS + 3 * MINUTE_NS
    assert filled.loc[0, "fill_price"] == pytest.approx(1.1015)


def test_stop_loss_in_pips_exits_at_the_stop_price_inside_a_bar() -> None:
    bars = bars_from_closes(
        [1.1000, 1.1000, 1.0990, 1.0990], opens=[1.1000, 1.1000, 1.1000, 1.0990],
        highs=[1.1000, 1.1001, 1.1001, 1.0990], lows=[1.1000, 1.0999, 1.0980, 1.0990],
    )  # fmt: skip
    result = run({0: lambda s: s.order("EURUSD", 10_000, stop_loss_pips=10)}, bars)
    trade = result.trades.iloc[0]
    assert trade["entry_price"] == pytest.approx(1.1000)
    assert trade["exit_price"] == pytest.approx(1.0990)
    assert trade["pnl_pips"] == pytest.approx(-10.0)


def test_stop_loss_gapped_through_exits_at_the_worse_open() -> None:
    bars = bars_from_closes(
        [1.1000, 1.1000, 1.0970, 1.0970], opens=[1.1000, 1.1000, 1.0975, 1.0970],
        highs=[1.1000, 1.1001, 1.0978, 1.0970], lows=[1.1000, 1.0999, 1.0965, 1.0970],
    )  # fmt: skip
    result = run({0: lambda s: s.order("EURUSD", 10_000, stop_loss=1.0990)}, bars)
    assert result.trades.iloc[0]["exit_price"] == pytest.approx(1.0975)


def test_synthetic_path_visits_the_nearer_extreme_first() -> None:
    # open 1.1000, low 1.0995 is nearer than high 1.1010: the stop-loss at 1.0996 hits first
    bars = bars_from_closes(
        [1.1000, 1.1000, 1.1005], opens=[1.1000, 1.1000, 1.1000],
        highs=[1.1000, 1.1001, 1.1010], lows=[1.1000, 1.0999, 1.0995],
    )  # fmt: skip
    result = run(
        {0: lambda s: s.order("EURUSD", 10_000, stop_loss=1.0996, take_profit=1.1008)}, bars
    )
    assert result.trades.iloc[0]["exit_price"] == pytest.approx(1.0996)
    statuses = result.orders.set_index("tag")["status"]
    assert statuses["take_profit"] == "cancelled"


def test_take_profit_exits_at_the_limit() -> None:
    bars = bars_from_closes(
        [1.1000, 1.1000, 1.1010], opens=[1.1000, 1.1000, 1.1000],
        highs=[1.1000, 1.1001, 1.1012], lows=[1.1000, 1.0999, 1.0999],
    )  # fmt: skip
    result = run({0: lambda s: s.order("EURUSD", 10_000, take_profit_pips=8)}, bars)
    assert result.trades.iloc[0]["exit_price"] == pytest.approx(1.1008)


def test_trailing_stop_follows_the_high_and_exits_a_distance_below_it() -> None:
    closes = [1.1000, 1.1000, 1.1020, 1.1040, 1.1020, 1.1000]
    bars = bars_from_closes(closes)
    result = run({0: lambda s: s.order("EURUSD", 10_000, trailing_stop_pips=10)}, bars)
    # highest bid 1.1040, trail 10 pips: out at 1.1030 on the way down
    assert result.trades.iloc[0]["exit_price"] == pytest.approx(1.1030)


def test_replaced_order_fills_at_its_new_price_and_the_old_one_is_cancelled() -> None:
    bars = bars_from_closes(
        [1.1000, 1.1000, 1.0990, 1.0990], opens=[1.1000, 1.1000, 1.1000, 1.0990],
        highs=[1.1000, 1.1000, 1.1000, 1.0990], lows=[1.1000, 1.0996, 1.0985, 1.0990],
    )  # fmt: skip
    placed: list[object] = []
    result = run(
        {
            0: lambda s: placed.append(s.order("EURUSD", 10_000, limit_price=1.0980)),
            1: lambda s: s.replace_order(placed[0], limit_price=1.0988),  # type: ignore[arg-type]
        },
        bars,
    )
    orders = result.orders
    assert orders.loc[0, "status"] == "cancelled"
    assert orders.loc[1, "status"] == "filled"
    assert orders.loc[1, "fill_price"] == pytest.approx(1.0988)


def test_good_till_date_order_expires_unfilled() -> None:
    bars = bars_from_closes([1.1000, 1.1000, 1.1000, 1.0980, 1.0980])
    expiry = pd.Timestamp(START_NS + 3 * MINUTE_NS, tz="UTC")
    result = run(
        {
            0: lambda s: s.order(
                "EURUSD", 10_000, limit_price=1.0990, time_in_force="gtd", expire=expiry
            )
        },
        bars,
    )
    assert result.orders.loc[0, "status"] == OrderStatus.EXPIRED.value
    assert result.trades.empty


def test_day_order_expires_at_the_trading_day_rollover() -> None:
    # 22:00 UTC on a Monday in January is 17:00 New York: the trading day ends
    start = int(pd.Timestamp("2024-01-08 21:50", tz="UTC").value)
    bars = bars_from_closes([1.1] * 20, start_ns=start)
    result = run(
        {0: lambda s: s.order("EURUSD", 10_000, limit_price=1.0, time_in_force="day")}, bars
    )
    order = result.orders.iloc[0]
    assert order["status"] == "expired"
    assert order["closed_time"] == pd.Timestamp("2024-01-08 22:00", tz="UTC")


def test_slippage_moves_market_fills_against_the_trader() -> None:
    bars = bars_from_closes([1.10, 1.10, 1.10])
    result = run(
        {0: lambda s: s.order("EURUSD", 10_000), 1: lambda s: s.order("EURUSD", -10_000)},
        bars,
        slippage=FixedSlippage(0.5),
    )
    trade = result.trades.iloc[0]
    assert trade["entry_price"] == pytest.approx(1.10005)
    assert trade["exit_price"] == pytest.approx(1.09995)
    assert trade["pnl_pips"] == pytest.approx(-1.0)


def _ticks(times_s: list[float], bids: list[float], spread: float = 0.0001) -> TickArrays:
    ts = START_NS + (np.asarray(times_s) * 1e9).astype(np.int64)
    bid = np.asarray(bids, dtype=np.float64)
    ones = np.ones(len(bid))
    return TickArrays(ts, bid, bid + spread, ones, ones)


def test_tick_mode_fills_market_order_on_the_first_tick_after_the_close() -> None:
    ticks = _ticks([1, 30, 59, 61, 90, 125], [1.1000, 1.1002, 1.1004, 1.1010, 1.1011, 1.1012])
    bars = bars_from_closes([1.1004, 1.1011, 1.1012], opens=[1.1000, 1.1010, 1.1012])
    data = market(bars, ticks=ticks)
    result = run({0: lambda s: s.order("EURUSD", 10_000)}, data, mode=ModellingMode.TICKS)
    filled = fills(result)
    assert filled.loc[0, "fill_price"] == pytest.approx(1.1011)  # ask of the tick at 61 s
    assert filled.loc[0, "closed_time"] == pd.Timestamp(START_NS + 61 * 10**9, tz="UTC")


def test_tick_mode_stop_fills_at_the_tick_that_jumps_through_it() -> None:
    ticks = _ticks([1, 61, 70, 80, 125], [1.1000, 1.1000, 1.0996, 1.0990, 1.0990])
    bars = bars_from_closes([1.1000, 1.0990, 1.0990], opens=[1.1000, 1.1000, 1.0990])
    data = market(bars, ticks=ticks)
    result = run(
        {0: lambda s: s.order("EURUSD", -10_000, stop_price=1.0998)}, data, mode=ModellingMode.TICKS
    )
    assert fills(result).loc[0, "fill_price"] == pytest.approx(1.0996)


def test_open_prices_mode_only_sees_bar_opens() -> None:
    # the low of bar 1 touches the limit but its open does not: no fill in open mode
    bars = bars_from_closes(
        [1.1000, 1.1000, 1.1000], opens=[1.1000, 1.1000, 1.1000],
        highs=[1.1000, 1.1000, 1.1000], lows=[1.1000, 1.0980, 1.1000],
    )  # fmt: skip
    action = {0: lambda s: s.order("EURUSD", 10_000, limit_price=1.0990)}
    assert run(action, bars, mode=ModellingMode.OPEN).orders.loc[0, "status"] == "open"
    assert run(action, bars, mode=ModellingMode.OHLC).orders.loc[0, "status"] == "filled"


SWITCHER = """\
import random

def initialize(context):
    context.rng = random.Random(3)

def handle_data(context, data):
    if context.rng.random() < 0.2:
        units = context.rng.choice([-30000, -10000, 10000, 20000])
        order(context.symbol, units, time_in_force=TIME_IN_FORCE)
    if context.rng.random() < 0.1:
        order_target_percent(context.symbol, context.rng.choice([-1.0, 0.0, 1.0]))
"""


@pytest.mark.parametrize(
    "settings",
    [
        EngineSettings(),
        EngineSettings(trade_on_close=True, spread_pips=0.5),
        EngineSettings(mode=ModellingMode.OPEN, leverage=30.0),
    ],
    ids=["ohlc", "trade_on_close", "open_prices"],
)
def test_plain_market_orders_fill_as_the_general_order_path_does(
    settings: EngineSettings,
) -> None:
    # "gtc" takes the short path for plain market orders, "GTC" the general one (parsed)
    bars = random_bars(11, n=400)
    short = Backtest(SWITCHER.replace("TIME_IN_FORCE", "'gtc'"), market(bars), settings).run()
    general = Backtest(SWITCHER.replace("TIME_IN_FORCE", "'GTC'"), market(bars), settings).run()
    assert len(short.trades) > 20
    pd.testing.assert_frame_equal(short.trades, general.trades, check_exact=True)
    pd.testing.assert_frame_equal(short.equity, general.equity, check_exact=True)
    pd.testing.assert_frame_equal(short.orders, general.orders, check_exact=True)


def test_trade_list_records_the_exit_levels_attached_at_entry() -> None:
    bars = bars_from_closes(
        [1.1000, 1.1000, 1.1010], opens=[1.1000, 1.1000, 1.1000],
        highs=[1.1000, 1.1001, 1.1012], lows=[1.1000, 1.0999, 1.0999],
    )  # fmt: skip
    result = run(
        {0: lambda s: s.order("EURUSD", 10_000, stop_loss_pips=5, take_profit_pips=8)}, bars
    )
    trade = result.trades.iloc[0]
    assert trade["stop_loss"] == pytest.approx(1.0995)
    assert trade["take_profit"] == pytest.approx(1.1008)


def test_trade_without_exits_has_no_levels() -> None:
    bars = bars_from_closes([1.10, 1.11, 1.12], opens=[1.10, 1.105, 1.115])
    result = run({0: lambda s: s.order("EURUSD", 10_000)}, bars)
    assert np.isnan(result.trades.iloc[0]["stop_loss"])
    assert np.isnan(result.trades.iloc[0]["take_profit"])
    assert list(run({}, bars).trades.columns[-2:]) == ["stop_loss", "take_profit"]
