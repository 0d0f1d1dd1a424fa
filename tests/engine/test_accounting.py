"""Accounting identities and point-in-time behaviour, checked over random strategies."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from backtestr.engine import (
    EngineSettings,
    FixedSlippage,
    ModellingMode,
    NoCommission,
    Order,
    Percent,
    PerLot,
    PerMillion,
    PerTrade,
    PositionMode,
    RunResult,
)
from backtestr.model import BarArrays, fx_instrument
from backtestr.model.instrument import Instrument
from backtestr.strategy import Backtest, Strategy
from tests.engine.helpers import MINUTE_NS, START_NS, market


@dataclass(frozen=True)
class Action:
    step: int
    kind: str
    units: int
    offset_pips: float
    stop_loss_pips: float | None
    take_profit_pips: float | None
    trailing_pips: float | None


actions_strategy = st.lists(
    st.builds(
        Action,
        step=st.integers(0, 119),
        kind=st.sampled_from(
            ["market", "limit", "stop", "stop_limit", "target_pct", "close", "cancel", "trade"]
        ),
        units=st.integers(-30, 30).map(lambda x: x * 1000),
        offset_pips=st.floats(0.5, 20),
        stop_loss_pips=st.none() | st.floats(2, 30),
        take_profit_pips=st.none() | st.floats(2, 30),
        trailing_pips=st.none() | st.floats(2, 30),
    ),
    max_size=25,
)


def random_bars(seed: int, n: int = 120, start_ns: int = START_NS) -> BarArrays:
    rng = np.random.default_rng(seed)
    close = 1.1 + np.cumsum(rng.normal(0, 0.0004, n))
    open_ = np.r_[1.1, close[:-1]] + rng.normal(0, 0.0001, n) * (rng.random(n) < 0.2)
    high = np.maximum(open_, close) + rng.exponential(0.0003, n)
    low = np.minimum(open_, close) - rng.exponential(0.0003, n)
    spread = rng.uniform(0.00001, 0.0002, n)
    ts = start_ns + np.arange(n, dtype=np.int64) * MINUTE_NS * 37  # crosses rollovers
    return BarArrays(
        ts, open_, high, low, close, np.ones(n), np.zeros(n, dtype=np.int64), spread, spread, spread
    )


def action_strategy(actions: list[Action]) -> type[Strategy]:
    by_step: dict[int, list[Action]] = {}
    for action in actions:
        by_step.setdefault(action.step, []).append(action)

    class Random(Strategy):
        def initialize(self) -> None:
            self.placed: list[Order] = []

        def on_bar(self) -> None:
            self.record(equity=self.portfolio.equity, balance=self.portfolio.cash)
            for a in by_step.get(self._engine.step, []):
                self.act(a)

        def act(self, a: Action) -> None:
            price = self.data.current(self.symbol, "close")
            pip = 0.0001
            sign = 1 if a.units > 0 else -1
            exits = {
                "stop_loss_pips": a.stop_loss_pips,
                "take_profit_pips": a.take_profit_pips,
                "trailing_stop_pips": a.trailing_pips,
            }
            order: Order | None = None
            if a.kind == "market":
                order = self.order(self.symbol, a.units, **exits)  # type: ignore[arg-type]
            elif a.kind == "limit":
                limit = price - sign * a.offset_pips * pip
                order = self.order(self.symbol, a.units, limit_price=limit)
            elif a.kind == "stop":
                order = self.order(
                    self.symbol, a.units, stop_price=price + sign * a.offset_pips * pip
                )
            elif a.kind == "stop_limit":
                stop = price + sign * a.offset_pips * pip
                order = self.order(
                    self.symbol, a.units, stop_price=stop, limit_price=stop + sign * pip
                )
            elif a.kind == "target_pct":
                order = self.order_target_percent(self.symbol, a.units / 30_000)
            elif a.kind == "close":
                order = self.close_position(self.symbol)
            elif a.kind == "cancel" and self.placed:
                self.cancel_order(self.placed[0])
            elif a.kind == "trade":
                trades = list(self._engine.broker.open_trades)
                if trades:
                    order = self.close_trade(trades[0])
            if order is not None:
                self.placed.append(order)

    return Random


commissions = st.sampled_from(
    [NoCommission(), PerLot(3.5), PerMillion(25.0), Percent(0.002), PerTrade(1.5)]
)


def check_identities(result: RunResult, cash: float) -> None:
    equity = result.equity
    trades = result.trades
    # every trade is closed at the end: the trades explain the whole balance change
    assert trades["pnl"].sum() == pytest.approx(equity["balance"].iloc[-1] - cash, abs=1e-6)
    assert equity["equity"].iloc[-1] == pytest.approx(equity["balance"].iloc[-1], abs=1e-9)
    # per trade: pnl = gross − commission − swap charged
    net = trades["gross_pnl"] - trades["commission"] - trades["swap"]
    np.testing.assert_allclose(trades["pnl"], net, atol=1e-9)
    assert trades["commission"].sum() == pytest.approx(result.stats.commissions_paid, abs=1e-6)
    assert trades["swap"].sum() == pytest.approx(result.stats.swaps_paid, abs=1e-6)
    assert (trades["mae_pips"] <= 1e-9).all()
    assert (trades["mfe_pips"] >= -1e-9).all()


def check_fills_inside_bars(result: RunResult, bars: BarArrays, slip: float) -> None:
    """No fill at a price the market did not trade (bid side, spread and slippage removed)."""
    orders = result.orders[result.orders["status"] == "filled"]
    times = pd.DatetimeIndex(orders["closed_time"]).as_unit("ns").asi8
    index = np.searchsorted(bars.ts_ns, times, side="right") - 1
    buy = (orders["side"] == "buy").to_numpy()
    price = orders["fill_price"].to_numpy()
    bid = np.where(buy, price - bars.spread_avg[index], price)
    # a fill may exceed the bar's range only by the slippage, and only against the trader
    assert (bid <= bars.high[index] + slip + 1e-9).all()
    assert (bid >= bars.low[index] - slip - 1e-9).all()


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 10_000),
    actions=actions_strategy,
    commission=commissions,
    slippage=st.sampled_from([0.0, 0.3]),
    hedging=st.booleans(),
    mode=st.sampled_from([ModellingMode.OHLC, ModellingMode.OPEN]),
    swaps=st.booleans(),
)
def test_accounting_identities_hold_for_random_strategies(
    seed: int,
    actions: list[Action],
    commission: object,
    slippage: float,
    hedging: bool,
    mode: ModellingMode,
    swaps: bool,
) -> None:
    instrument = fx_instrument("EURUSD")
    if swaps:
        instrument = Instrument(
            "EURUSD", "EUR", "USD", pip_size=0.0001, tick_size=0.00001,
            swap_long_pips=-0.7, swap_short_pips=0.2,
        )  # fmt: skip
    bars = random_bars(seed)
    engine_settings = EngineSettings(
        cash=10_000.0,
        commission=commission,  # type: ignore[arg-type]
        slippage=FixedSlippage(slippage),
        position_mode=PositionMode.HEDGING if hedging else PositionMode.NETTING,
        mode=mode,
        leverage=30.0,
    )
    result = Backtest(
        action_strategy(actions), market(bars, instrument=instrument), engine_settings
    ).run()
    check_identities(result, 10_000.0)
    check_fills_inside_bars(result, bars, slippage * 0.0001)
    # the equity and balance the strategy saw at each bar equal the curve rebuilt after the run
    # (all but the last bar, after which the positions left open are closed)
    live = result.records.iloc[:-1]
    curve = result.equity.loc[live.index]
    np.testing.assert_allclose(live["equity"], curve["equity"], rtol=0, atol=1e-6)
    np.testing.assert_allclose(live["balance"], curve["balance"], rtol=0, atol=1e-6)
