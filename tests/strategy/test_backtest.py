"""Running strategies: the seed strategy unchanged, both faces, errors, cancellation, stepping."""

from __future__ import annotations

import gc
import time
from pathlib import Path
from typing import ClassVar

import numpy as np
import pandas as pd
import pytest

from backtestr.engine import (
    BarClosed,
    EngineEvent,
    EngineSettings,
    EquityUpdated,
    OrderFilled,
    OrderPlaced,
    PositionChanged,
    RunCancelledError,
)
from backtestr.errors import ConfigError, StrategyError
from backtestr.strategy import Backtest, RunHandle, Strategy, load_strategy
from backtestr.strategy.params import ParamValue
from tests.engine.helpers import SEED_STRATEGY, load_m1_bars, market, real_data_dir
from tests.engine.test_accounting import random_bars


def test_seed_strategy_runs_unchanged_from_a_file(tmp_path: Path) -> None:
    path = tmp_path / "sma.py"
    path.write_text(SEED_STRATEGY)
    result = Backtest(path, market(random_bars(3, n=600))).run()
    assert result.stats.total_trades > 3
    assert result.manifest["strategy"]["source"] == SEED_STRATEGY
    assert result.manifest["strategy"]["filename"] == str(path)
    # long only, flat between trades: every trade is a long round trip sized to ~100 % equity
    assert (result.trades["side"] == "long").all()
    notional = result.trades["size_units"] * result.trades["entry_price"]
    assert notional.max() <= 100_000 * 1.01


@pytest.mark.realdata
def test_seed_strategy_on_real_eurusd_minutes() -> None:
    bars = load_m1_bars(real_data_dir())
    result = Backtest(SEED_STRATEGY, market(bars), EngineSettings(spread_pips=0.2)).run()
    assert result.stats.total_trades > 20
    assert result.trades["pnl"].sum() == pytest.approx(result.final_equity - 100_000, abs=1e-6)


class Cross(Strategy):
    PARAMETERS: ClassVar[dict[str, ParamValue]] = {"fast": 10, "slow": 20}

    def on_bar(self) -> None:
        fast = self.data.history(self.symbol, "close", self.params.fast).mean()
        slow = self.data.history(self.symbol, "close", self.params.slow).mean()
        position = self.portfolio.positions[self.symbol]
        if fast > slow and not position:
            self.order_target_percent(self.symbol, 1.0)
        elif fast < slow and position:
            self.order_target_percent(self.symbol, 0.0)


def test_class_face_and_function_face_trade_identically() -> None:
    data = market(random_bars(5, n=500))
    by_class = Backtest(Cross, data).run()
    by_functions = Backtest(SEED_STRATEGY, data).run()
    assert by_class.trades.equals(by_functions.trades)
    assert by_class.equity.equals(by_functions.equity)


def test_parameters_are_overridden_per_run_and_typed() -> None:
    data = market(random_bars(5, n=500))
    default = Backtest(Cross, data)
    tuned = Backtest(Cross, data, params={"fast": "5"})
    assert default.params.fast == 10
    assert tuned.params.fast == 5
    assert tuned.run().manifest["parameters"] == {"fast": 5, "slow": 20}


def test_unknown_parameter_suggests_the_closest_declared_one() -> None:
    with pytest.raises(ConfigError, match="Did you mean 'fast'"):
        Backtest(Cross, market(random_bars(5, n=50)), params={"fsat": 3})


def test_parameter_of_the_wrong_type_is_refused() -> None:
    with pytest.raises(ConfigError, match="expects int"):
        Backtest(Cross, market(random_bars(5, n=50)), params={"fast": "ten"})


FAILING = """\
def initialize(context):
    context.n = 0

def handle_data(context, data):
    context.n += 1
    if context.n == 7:
        ratio = 1 / 0
"""


def test_error_in_user_code_names_the_line_in_their_file(tmp_path: Path) -> None:
    path = tmp_path / "broken.py"
    path.write_text(FAILING)
    with pytest.raises(StrategyError) as caught:
        Backtest(path, market(random_bars(5, n=50))).run()
    assert caught.value.line == 7
    assert caught.value.path == str(path)
    assert "ZeroDivisionError" in str(caught.value)
    assert "ratio = 1 / 0" in str(caught.value)


def test_syntax_error_is_reported_with_its_line() -> None:
    with pytest.raises(StrategyError) as caught:
        load_strategy("def handle_data(context, data):\n    if True\n        pass\n")
    assert caught.value.line == 2


def test_misused_api_is_reported_at_the_user_line() -> None:
    code = "def handle_data(context, data):\n    data.history('GBPUSD', 'close', 3)\n"
    with pytest.raises(StrategyError, match="GBPUSD") as caught:
        Backtest(code, market(random_bars(5, n=50))).run()
    assert caught.value.line == 2


def test_reading_an_unset_context_attribute_says_how_to_set_it() -> None:
    code = "def handle_data(context, data):\n    context.fast + 1\n"
    with pytest.raises(StrategyError, match=r"context has no attribute 'fast': set it first"):
        Backtest(code, market(random_bars(5, n=50))).run()


def test_other_attribute_errors_keep_their_own_message() -> None:
    code = "def handle_data(context, data):\n    context.portfolio.nothing\n"
    with pytest.raises(StrategyError, match="'Portfolio' object has no attribute 'nothing'"):
        Backtest(code, market(random_bars(5, n=50))).run()


NEVER_RETURNS = """\
def handle_data(context, data):
    while True:
        pass
"""


def test_a_strategy_that_never_returns_can_be_cancelled() -> None:
    handle = RunHandle(Backtest(NEVER_RETURNS, market(random_bars(5, n=50))))
    time.sleep(0.2)
    assert not handle.done
    started = time.perf_counter()
    handle.cancel(grace_seconds=0.1)
    with pytest.raises(RunCancelledError):
        handle.result(timeout=5)
    assert time.perf_counter() - started < 5


def test_a_long_run_stops_between_bars_when_cancelled() -> None:
    slow = "import time\ndef handle_data(context, data):\n    time.sleep(0.0005)\n"
    handle = RunHandle(Backtest(slow, market(random_bars(5, n=20_000))))
    time.sleep(0.2)
    handle.cancel(grace_seconds=2.0)
    with pytest.raises(RunCancelledError, match="cancelled at bar"):
        handle.result(timeout=5)


def test_stepping_then_running_gives_the_same_result_as_one_run() -> None:
    data = market(random_bars(9, n=400))
    whole = Backtest(Cross, data).run()
    stepped = Backtest(Cross, data)
    stepped.step(1)
    stepped.step(49)
    stepped.run_until(int(data.feeds["EURUSD"].bars.ts_ns[200]))
    assert stepped.engine.next_step == 200
    assert stepped.run().to_json() == whole.to_json()


def test_subscribers_receive_bar_order_fill_position_and_equity_events() -> None:
    backtest = Backtest(Cross, market(random_bars(9, n=300)))
    events: list[EngineEvent] = []
    unsubscribe = backtest.subscribe(events.append)
    backtest.step(150)
    kinds = {type(e) for e in events}
    assert {BarClosed, EquityUpdated, OrderPlaced, OrderFilled, PositionChanged} <= kinds
    assert sum(isinstance(e, BarClosed) for e in events) == 150
    unsubscribe()
    count = len(events)
    backtest.step(10)
    assert len(events) == count


def test_orders_placed_by_hand_between_steps_fill_on_the_next_bar() -> None:
    bars = random_bars(9, n=50)
    backtest = Backtest("def handle_data(context, data):\n    pass\n", market(bars))
    backtest.step(10)
    order = backtest.submit_order("EURUSD", 10_000)
    assert order is not None
    backtest.step(1)
    assert order.status.value == "filled"
    assert order.fill_price == pytest.approx(bars.open[10] + bars.spread_avg[10])  # the ask
    assert backtest.engine.position("EURUSD").units == 10_000


def test_position_is_falsy_when_flat_and_truthy_when_open() -> None:
    seen: list[bool] = []

    class Probe(Strategy):
        def on_bar(self) -> None:
            seen.append(bool(self.portfolio.positions[self.symbol]))
            if self._engine.step == 2:
                self.order(self.symbol, 1000)

    Backtest(Probe, market(random_bars(1, n=6))).run()
    assert seen == [False, False, False, True, True, True]


def test_record_schedule_and_before_trading_start() -> None:
    code = """
def initialize(context):
    context.days = 0
    schedule_function(hourly, date_rules.every_day(), time_rules.every_bar())

def hourly():
    record(bar=1.0)

def before_trading_start(context, data):
    context.days += 1
    record(day_start=context.days)

def handle_data(context, data):
    record(close=data.current(context.symbol, "close"))
"""
    bars = random_bars(2, n=200)  # bars 37 minutes apart: about 5 days
    result = Backtest(code, market(bars)).run()
    records = result.records
    assert records["close"].to_numpy() == pytest.approx(bars.close)
    assert records["bar"].notna().all()
    starts = records["day_start"].dropna()
    assert list(starts) == list(range(1, len(starts) + 1))
    assert 3 <= len(starts) <= 7


def test_set_commission_in_initialize_applies_to_the_run() -> None:
    code = """
def initialize(context):
    set_commission(PerLot(5.0))

def handle_data(context, data):
    if not context.portfolio.positions[context.symbol]:
        order(context.symbol, 100_000)
"""
    result = Backtest(code, market(random_bars(2, n=10))).run()
    # every fill of one lot pays 5: two per closed trade
    assert result.trades["commission"].to_numpy() == pytest.approx(
        np.full(len(result.trades), 10.0)
    )


def test_set_slippage_in_initialize_applies_to_the_run() -> None:
    code = """
def initialize(context):
    set_slippage(2.0)

def handle_data(context, data):
    if not context.portfolio.positions[context.symbol]:
        order(context.symbol, 100_000)
"""
    bars = random_bars(2, n=10)
    result = Backtest(code, market(bars)).run()
    orders = result.orders
    buys = orders[(orders["side"] == "buy") & (orders["status"] == "filled")]
    first = buys.iloc[0]
    opened = int(np.searchsorted(bars.ts_ns, first["closed_time"].value, side="right")) - 1
    # bought at the ask of the bar's open, 2 pips worse
    assert first["fill_price"] == pytest.approx(
        bars.open[opened] + bars.spread_avg[opened] + 2 * 0.0001
    )


def test_a_run_leaves_the_garbage_collector_as_it_found_it() -> None:
    bars = random_bars(3, n=20_000)  # long enough for the engine to freeze the heap meanwhile
    assert gc.isenabled()
    threshold = gc.get_threshold()
    seen: list[tuple[int, ...]] = []
    code = SEED_STRATEGY + "\n    _seen.append(_gc.get_threshold())\n"
    backtest = Backtest(code, market(bars))
    backtest.strategy._namespace.update(_seen=seen, _gc=gc)  # type: ignore[attr-defined]
    backtest.run()
    assert seen[0][0] > threshold[0]  # young collections are rarer during the run
    assert gc.get_threshold() == threshold
    assert gc.isenabled()
    assert gc.get_freeze_count() == 0
    gc.disable()
    try:
        Backtest(SEED_STRATEGY, market(random_bars(4, n=300))).run()
        assert not gc.isenabled()
    finally:
        gc.enable()


SCHEDULES_MID_RUN = """
import numpy as np

def initialize(context):
    context.scheduled = False
    {wake}

def daily():
    record(daily=1.0)

def handle_data(context, data):
    if not context.scheduled and get_datetime() >= context.start:
        context.scheduled = True
        schedule_function(daily, date_rules.every_day(), time_rules.market_open())
"""


def test_a_function_scheduled_mid_run_runs_on_every_day_after() -> None:
    bars = random_bars(2, n=200)  # bars 37 minutes apart: about 5 days
    start = pd.Timestamp(int(bars.ts_ns[3]), tz="UTC")  # the fourth bar closes after it
    runs = {}
    for name, wake in {
        "every bar": "pass",
        # handle_data only on the fourth bar: the loop must still wake for the schedule
        "one bar": (
            "context.fourth = indicator(lambda c: (np.arange(len(c)) == 3) * 1.0, 'close')\n"
            "    wake_on(context.fourth)"
        ),
    }.items():
        code = SCHEDULES_MID_RUN.format(wake=wake)
        backtest = Backtest(code, market(bars))
        backtest.strategy.context.start = start
        runs[name] = backtest.run().records
    days = pd.DatetimeIndex(runs["every bar"].index)
    assert len(days) >= 3  # every trading day after the fourth bar
    assert days.min() > start
    pd.testing.assert_frame_equal(runs["one bar"], runs["every bar"])
