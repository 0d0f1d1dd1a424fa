"""What the strategy reads: windows stay point-in-time even when kept across bars."""

from __future__ import annotations

import numpy as np
import pytest

from backtestr.strategy import Backtest, Strategy
from backtestr.strategy.api import BarData
from tests.engine.helpers import bars_from_closes, market


def test_a_window_kept_by_the_strategy_never_changes_afterwards() -> None:
    closes = np.linspace(1.0, 2.0, 12)
    kept: list[object] = []
    lasts: list[float] = []

    class Keeper(Strategy):
        def on_bar(self) -> None:
            window = self.data.history(self.symbol, "close", 3)
            lasts.append(self.data.history(self.symbol, "close", 3)[-1])
            if self._engine.step == 5:
                kept.append(window)

    Backtest(Keeper, market(bars_from_closes(closes))).run()
    assert lasts == pytest.approx(closes.tolist())
    window = kept[0]
    assert window[-1] == pytest.approx(closes[5])  # type: ignore[index]
    np.testing.assert_allclose(np.asarray(window), closes[3:6])


def test_fresh_windows_are_reused_only_when_nobody_holds_them() -> None:
    backtest = Backtest("def handle_data(c, d):\n    pass\n", market(bars_from_closes([1.0] * 5)))
    data: BarData = backtest.strategy.data
    first_id = id(data.history("EURUSD", "close", 2))
    assert id(data.history("EURUSD", "close", 2)) == first_id  # the temporary was dropped
    held = data.history("EURUSD", "close", 2)
    other = data.history("EURUSD", "close", 2)
    assert other is not held


def test_can_trade_is_false_for_a_symbol_not_in_the_run() -> None:
    backtest = Backtest("def handle_data(c, d):\n    pass\n", market(bars_from_closes([1.0] * 5)))
    data: BarData = backtest.strategy.data
    assert data.can_trade("EURUSD")
    assert not data.can_trade("USDJPY")
