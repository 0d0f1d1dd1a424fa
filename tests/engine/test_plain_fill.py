"""The short path of plain market fills gives the general path's results, bit for bit."""

from __future__ import annotations

import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from backtestr.engine import EngineSettings, FixedSlippage, ModellingMode, PositionMode, RunResult
from backtestr.model import fx_instrument
from backtestr.model.instrument import Instrument
from backtestr.strategy import Backtest
from tests.engine.helpers import market
from tests.engine.test_accounting import Action, action_strategy, commissions, random_bars

# mostly plain market orders and order_target_percent, as a busy strategy places them, mixed
# with everything that can meet them: exits, pending orders, closes, cancels
plain_heavy_actions = st.lists(
    st.builds(
        Action,
        step=st.integers(0, 119),
        kind=st.sampled_from(
            ["market"] * 4 + ["target_pct"] * 4 + ["limit", "stop", "close", "cancel", "trade"]
        ),
        units=st.integers(-40, 40).map(lambda x: x * 1000),
        offset_pips=st.floats(0.5, 20),
        stop_loss_pips=st.none() | st.none() | st.floats(2, 30),
        take_profit_pips=st.none() | st.none() | st.floats(2, 30),
        trailing_pips=st.none() | st.none() | st.none() | st.floats(2, 30),
    ),
    max_size=40,
)


def outcome(
    actions: list[Action],
    seed: int,
    engine_settings: EngineSettings,
    instrument: Instrument,
    *,
    short_path: bool,
) -> RunResult:
    backtest = Backtest(
        action_strategy(actions), market(random_bars(seed), instrument=instrument), engine_settings
    )
    backtest.engine.broker.plain_fills = short_path
    return backtest.run()


def assert_same_run(fast: RunResult, general: RunResult) -> None:
    pd.testing.assert_frame_equal(fast.trades, general.trades, check_exact=True)
    pd.testing.assert_frame_equal(fast.equity, general.equity, check_exact=True)
    pd.testing.assert_frame_equal(fast.orders, general.orders, check_exact=True)
    pd.testing.assert_frame_equal(fast.records, general.records, check_exact=True)
    assert fast.stats.to_dict() == general.stats.to_dict()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 10_000),
    actions=plain_heavy_actions,
    commission=commissions,
    slippage=st.sampled_from([0.0, 0.3]),
    hedging=st.booleans(),
    swaps=st.booleans(),
    leverage=st.sampled_from([2.0, 30.0]),
)
def test_plain_market_fills_match_the_general_path(
    seed: int,
    actions: list[Action],
    commission: object,
    slippage: float,
    hedging: bool,
    swaps: bool,
    leverage: float,
) -> None:
    instrument = fx_instrument("EURUSD")
    if swaps:
        instrument = Instrument(
            "EURUSD", "EUR", "USD", pip_size=0.0001, tick_size=0.00001,
            swap_long_pips=-0.7, swap_short_pips=0.2,
        )  # fmt: skip
    engine_settings = EngineSettings(
        cash=10_000.0,
        commission=commission,  # type: ignore[arg-type]
        slippage=FixedSlippage(slippage),
        position_mode=PositionMode.HEDGING if hedging else PositionMode.NETTING,
        mode=ModellingMode.OHLC,
        leverage=leverage,  # 2: many orders are rejected for margin, some accounts stop out
    )
    fast = outcome(actions, seed, engine_settings, instrument, short_path=True)
    general = outcome(actions, seed, engine_settings, instrument, short_path=False)
    assert_same_run(fast, general)
