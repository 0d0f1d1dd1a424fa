"""No look-ahead: what a strategy decides up to a bar never depends on later bars; reruns are
bit-identical."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from backtestr.engine import EngineSettings, RunResult
from backtestr.model import BarArrays
from backtestr.strategy import Backtest, Strategy
from tests.engine.helpers import SEED_STRATEGY, market
from tests.engine.test_accounting import random_bars


class Busy(Strategy):
    """Reads windows of every kind, an indicator and places orders with attached exits."""

    def initialize(self) -> None:
        self.sma = self.I(lambda c: pd.Series(c).rolling(7).mean().to_numpy())

    def on_bar(self) -> None:
        window = self.data.history(self.symbol, "close", 12)
        highs = self.data.history(self.symbol, "high", 5)
        signal = window.mean() + window.std() * 0.1 - highs.max() * 0.0 + self.sma[-1] * 0.0
        self.record(
            signal=signal, last=window[-1], low=self.data.history(self.symbol, "low", 4).min()
        )
        if window[-1] > signal and not self.portfolio.positions[self.symbol]:
            self.order(self.symbol, 10_000, stop_loss_pips=8, take_profit_pips=12)
        elif window[-1] < signal and self.portfolio.positions[self.symbol]:
            self.order_target(self.symbol, 0)


def perturb_after(bars: BarArrays, step: int, seed: int) -> BarArrays:
    rng = np.random.default_rng(seed)
    columns = {name: column.copy() for name, column in bars.columns().items()}
    n = len(bars) - step - 1
    shift = rng.normal(0, 0.003, n)
    for name in ("open", "high", "low", "close"):
        columns[name][step + 1 :] += shift
    return BarArrays(**columns)


def decisions_until(result: RunResult, bars: BarArrays, step: int) -> tuple[object, ...]:
    close_ns = bars.ts_ns[step] + 37 * 60 * 10**9
    orders = result.orders[result.orders["created_time"].astype("int64") < close_ns]
    decided = orders[["order_id", "side", "type", "units", "limit_price", "stop_price"]]
    records = result.records.iloc[: step + 1].fillna(-1.0)  # NaN != NaN in list equality
    return (decided.fillna(-1.0).to_numpy().tolist(), records.to_numpy().tolist())


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 1000), step=st.integers(5, 110))
def test_decisions_up_to_a_bar_ignore_every_later_bar(seed: int, step: int) -> None:
    bars = random_bars(seed)
    changed = perturb_after(bars, step, seed + 1)
    runs = []
    for data in (bars, changed):
        runs.append(Backtest(Busy, market(data), EngineSettings(cash=10_000.0)).run())
    assert decisions_until(runs[0], bars, step) == decisions_until(runs[1], bars, step)


def test_seed_strategy_decisions_ignore_later_bars() -> None:
    bars = random_bars(7, n=400)
    changed = perturb_after(bars, 200, 3)
    results = [Backtest(SEED_STRATEGY, market(b)).run() for b in (bars, changed)]
    first, second = (decisions_until(r, bars, 200) for r in results)
    assert first == second
    assert len(first[0]) > 2  # the strategy did trade before the cut


def test_reruns_are_bit_identical() -> None:
    bars = random_bars(11, n=300)
    results = [Backtest(Busy, market(bars), EngineSettings(cash=10_000.0)).run() for _ in range(2)]
    assert results[0].to_json() == results[1].to_json()
    assert results[0].equity.equals(results[1].equity)
    assert results[0].trades.equals(results[1].trades)
