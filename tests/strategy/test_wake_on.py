"""``wake_on``: handle_data only on the bars a precomputed signal picks, with the same results
as calling it on every bar when it would do nothing on the others."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from backtestr.engine import (
    EngineEvent,
    EngineSettings,
    MarketData,
    ModellingMode,
    PerLot,
    RunResult,
)
from backtestr.errors import StrategyError
from backtestr.model import BarArrays
from backtestr.strategy import Backtest, Strategy
from backtestr.strategy.api import Indicator, crosses
from tests.engine.helpers import MINUTE_NS, START_NS, bars_from_closes, market, real_data_dir
from tests.helpers import REPO

SMA_CROSS = """\
import numpy as np

def sma(close, n):
    out = np.full(len(close), np.nan)
    c = np.cumsum(np.r_[0.0, close])
    out[n - 1:] = (c[n:] - c[:-n]) / n
    return out

def initialize(context):
    context.fast = indicator(sma, "close", n=10)
    context.slow = indicator(sma, "close", n=20)
    WAKE

def handle_data(context, data):
    fast = context.fast[-1]
    slow = context.slow[-1]
    if fast > slow and not context.portfolio.positions[context.symbol]:
        order_target_percent(context.symbol, 1.0)
    elif fast < slow and context.portfolio.positions[context.symbol]:
        order_target_percent(context.symbol, 0.0)
"""
EVERY_BAR = SMA_CROSS.replace("WAKE", "pass")
ON_CROSSES = SMA_CROSS.replace("WAKE", "wake_on(crosses(context.fast, context.slow))")


def random_walk(n: int, seed: int, volatility: float = 0.0004) -> BarArrays:
    rng = np.random.default_rng(seed)
    close = 1.1 * np.exp(np.cumsum(rng.normal(0.0, volatility, n)))
    open_ = np.r_[1.1, close[:-1]]
    high = np.maximum(open_, close) + rng.exponential(volatility / 3, n)
    low = np.minimum(open_, close) - rng.exponential(volatility / 3, n)
    ts = START_NS + np.arange(n, dtype=np.int64) * MINUTE_NS
    return BarArrays.from_ohlc(ts, open_, high, low, close, np.ones(n))


def assert_same_run(a: RunResult, b: RunResult) -> None:
    pd.testing.assert_frame_equal(a.equity, b.equity)
    pd.testing.assert_frame_equal(a.trades, b.trades)
    pd.testing.assert_frame_equal(a.orders, b.orders)
    pd.testing.assert_frame_equal(a.records, b.records)
    assert a.stats.to_dict() == b.stats.to_dict()


def test_a_crossover_strategy_trades_the_same_woken_only_on_crosses() -> None:
    data = market(random_walk(20_000, seed=3))
    every = Backtest(EVERY_BAR, data).run()
    woken = Backtest(ON_CROSSES, data).run()
    assert every.stats.total_trades > 100
    assert_same_run(every, woken)


def test_a_crossover_strategy_trades_the_same_on_real_gbpusd_minutes() -> None:
    path = real_data_dir() / "nautilus_fx" / "fxcm_gbpusd-m1-bid-2012.csv"
    if not path.exists():
        pytest.skip("FXCM GBPUSD minutes not available")
    frame = pd.read_csv(path)
    n = len(frame)
    bars = BarArrays.from_ohlc(
        START_NS + np.arange(n, dtype=np.int64) * MINUTE_NS,
        *(frame[c].to_numpy(np.float64) for c in ("open", "high", "low", "close")),
        np.ones(n),
    )
    every = Backtest(EVERY_BAR, market(bars), EngineSettings(commission=PerLot(3.5))).run()
    woken = Backtest(ON_CROSSES, market(bars), EngineSettings(commission=PerLot(3.5))).run()
    assert every.stats.total_trades > 100
    assert_same_run(every, woken)


def event_strategy(signal: np.ndarray, wake: bool) -> type[Strategy]:
    """Acts only on the bars ``signal`` marks: positions with exits, limit orders, cancels,
    records; scheduled daily records run on their own bars. Exits and limits fill on bars
    where the strategy is not called."""

    class Events(Strategy):
        def initialize(self) -> None:
            self.signal = self.indicator(lambda close: signal[: len(close)])
            if wake:
                self.wake_on(self.signal)
            self.schedule_function(lambda: self.record(day_equity=self.portfolio.equity))

        def on_bar(self) -> None:
            if not self.signal[-1] > 0:  # NaN: false, as wake_on reads it
                return
            step = self._engine.step
            price = self.data.current(self.symbol, "close")
            action = step % 6
            if action == 0:
                self.order_target_percent(self.symbol, 0.5 if step % 12 else -0.5)
            elif action == 1:
                self.order(self.symbol, 10_000, stop_loss_pips=4, take_profit_pips=6)
            elif action == 2:
                self.order(self.symbol, -20_000, limit_price=price * 1.0008, tag="limit")
            elif action == 3:
                for order in self.get_open_orders(self.symbol):
                    self.cancel_order(order)
            elif action == 4:
                self.order(self.symbol, 5_000, trailing_stop_pips=3)
            else:
                self.close_position(self.symbol)
            self.record(price=price, equity=self.portfolio.equity)

    return Events


@settings(max_examples=30, deadline=None)
@given(
    flags=st.lists(st.booleans(), min_size=300, max_size=300),
    density=st.sampled_from([0.02, 0.1, 0.5, 1.0]),
    seed=st.integers(0, 1000),
    trade_on_close=st.booleans(),
    mode=st.sampled_from([ModellingMode.OHLC, ModellingMode.OPEN]),
)
def test_waking_on_a_signal_is_calling_every_bar_that_ignores_the_others(
    flags: list[bool], density: float, seed: int, trade_on_close: bool, mode: ModellingMode
) -> None:
    rng = np.random.default_rng(seed)
    signal = (np.asarray(flags) & (rng.random(len(flags)) < density)).astype(np.float64)
    signal[rng.random(len(flags)) < 0.05] = np.nan  # undefined values never wake
    data = market(random_walk(len(flags), seed, volatility=0.0008))
    options = EngineSettings(trade_on_close=trade_on_close, mode=mode, leverage=50.0)
    every = Backtest(event_strategy(signal, wake=False), data, options).run()
    woken = Backtest(event_strategy(signal, wake=True), data, options).run()
    assert_same_run(every, woken)


def test_stepping_and_observing_a_woken_run_give_the_same_result() -> None:
    rng = np.random.default_rng(7)
    signal = (rng.random(2_000) < 0.05).astype(np.float64)
    data = market(random_walk(2_000, 7, volatility=0.0008))
    whole = Backtest(event_strategy(signal, wake=True), data).run()

    stepped = Backtest(event_strategy(signal, wake=True), data)
    events: list[EngineEvent] = []
    stepped.subscribe(events.append)
    stepped.step(333)
    stepped.step(1)
    assert_same_run(whole, stepped.run())
    assert events  # the observed loop ran too

    chunked = Backtest(event_strategy(signal, wake=True), data)
    for _ in range(7):
        chunked.step(250)
    assert_same_run(whole, chunked.run())


def test_crosses_marks_every_change_of_side_and_the_first_defined_bar() -> None:
    closes = [1.0, 2.0, 3.0, 2.0, 1.0, 1.0, 2.0]
    seen: dict[str, Indicator] = {}

    class Probe(Strategy):
        def initialize(self) -> None:
            first = self.indicator(lambda c: np.r_[np.nan, c[1:]])
            seen["cross"] = crosses(first, 1.5)

    Backtest(Probe, market(bars_from_closes(closes))).run()
    # sides: undefined, +, +, +, -, -, +
    assert seen["cross"].values_all.tolist() == [0.0, 1.0, 0.0, 0.0, 1.0, 0.0, 1.0]


def test_a_signal_bar_of_a_higher_timeframe_wakes_the_step_it_closes_on() -> None:
    minutes = bars_from_closes(np.arange(1.0, 11.0))
    m5 = bars_from_closes([5.0, 10.0], step_ns=5 * MINUTE_NS)
    plain = market(minutes)
    data = MarketData(plain.timeframe, plain.feeds, bar_loader=lambda symbol, timeframe: m5)
    called: list[int] = []

    class Higher(Strategy):
        def initialize(self) -> None:
            self.wake_on(self.indicator(lambda c: np.ones(len(c)), timeframe="M5"))

        def on_bar(self) -> None:
            called.append(self._engine.step)

    Backtest(Higher, data).run()
    assert called == [4, 9]  # the closes of the two M5 bars, once each


def test_wake_on_takes_an_indicator_of_the_run_in_initialize_only() -> None:
    data = market(bars_from_closes(np.linspace(1.0, 2.0, 30)))

    class NotAnIndicator(Strategy):
        def initialize(self) -> None:
            self.wake_on(np.ones(30))  # type: ignore[arg-type]

    with pytest.raises(StrategyError, match="takes an indicator"):
        Backtest(NotAnIndicator, data)

    class Late(Strategy):
        def initialize(self) -> None:
            self.always = self.indicator(lambda c: np.ones(len(c)))

        def on_bar(self) -> None:
            self.wake_on(self.always)

    with pytest.raises(StrategyError, match="initialize"):
        Backtest(Late, data).run()


def test_a_looking_ahead_signal_is_refused() -> None:
    code = """
import numpy as np
def initialize(context):
    wake_on(indicator(lambda c: np.r_[np.diff(c) > 0, False]))
def handle_data(context, data):
    pass
"""
    with pytest.raises(Exception, match="looks ahead"):
        Backtest(code, market(bars_from_closes(np.linspace(1.0, 2.0, 60))))


def test_the_example_trades_as_it_would_called_on_every_bar() -> None:
    source = (REPO / "examples" / "indicator_cross.py").read_text(encoding="utf-8")
    wake = "    wake_on(crosses(context.fast, context.slow))\n"
    assert wake in source
    data = market(random_walk(5_000, seed=11))
    woken = Backtest(source, data, params={"fast": 5, "slow": 30}).run()
    every = Backtest(source.replace(wake, ""), data, params={"fast": 5, "slow": 30}).run()
    assert woken.stats.total_trades > 20
    assert_same_run(every, woken)


def test_between_steps_now_is_the_last_bar_run_whether_or_not_it_woke() -> None:
    signal = np.zeros(500)
    signal[[10, 20]] = 1.0
    data = market(random_walk(500, 5))
    woken = Backtest(event_strategy(signal, wake=True), data)
    every = Backtest(event_strategy(signal, wake=False), data)
    for backtest in (woken, every):
        backtest.step(137)
        backtest.submit_order("EURUSD", 10_000)  # by hand, mid-replay
    assert woken.strategy.get_datetime() == every.strategy.get_datetime()
    assert_same_run(woken.run(), every.run())
