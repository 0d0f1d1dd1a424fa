"""Differential tests: the same strategy on the same bars here and in backtesting.py 0.6.6.

backtesting.py (AGPL) is a dev-only dependency, used by tests and benchmarks, never by ``src``.
Conventions are matched as follows:

- fills: market orders decided on a bar's close fill at the next bar's open (both defaults);
- no spread (bars are one price), the same percentage commission on entry and exit;
- sizing: whole units worth a fixed fraction of equity at the decision bar's close; ours via
  ``order_target_percent`` (rounded down to the lot step of 1 unit), theirs ``int(...)``;
- warm-up: backtesting.py starts calling ``next`` after its indicators exist, so both strategies
  compute their averages in the bar callback and wait for ``slow`` bars;
- positions left open at the end stay open (``close_at_end=False``), as backtesting.py does by
  default, so final equities include the same open P&L.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pandas as pd
import pytest
from backtesting import Backtest as PeerBacktest
from backtesting import Strategy as PeerStrategy
from backtesting.test import EURUSD, GOOG

from backtestr.engine import EngineSettings, MarketData, Percent, SymbolFeed
from backtestr.model import BarArrays, Instrument, Timeframe
from backtestr.strategy import Backtest

OURS = """\
PARAMETERS = {"fast": 10, "slow": 20, "fraction": 0.5}

def handle_data(context, data):
    p = context.params
    fast = data.history(context.symbol, "close", p.fast).mean()
    slow = data.history(context.symbol, "close", p.slow).mean()
    position = context.portfolio.positions[context.symbol]
    if fast > slow and not position:
        order_target_percent(context.symbol, p.fraction)
    elif fast < slow and position:
        order_target_percent(context.symbol, 0.0)
"""


class Theirs(PeerStrategy):  # type: ignore[misc]
    fast = 10
    slow = 20
    fraction = 0.5

    def init(self) -> None:
        pass

    def next(self) -> None:
        close = self.data.Close
        if len(close) < self.slow:
            return
        fast = close[-self.fast :].mean()
        slow = close[-self.slow :].mean()
        if fast > slow and not self.position:
            self.buy(size=int(self.equity * self.fraction / close[-1]))
        elif fast < slow and self.position:
            self.position.close()


def _units_instrument(symbol: str, pip: float) -> Instrument:
    return Instrument(
        symbol, symbol, "USD", pip_size=pip, tick_size=pip, contract_size=1.0,
        min_lot=1.0, lot_step=1.0, margin_rate=1.0,
    )  # fmt: skip


def _ours(
    frame: pd.DataFrame, symbol: str, timeframe: str, pip: float, commission: float, on_close: bool
) -> Any:
    ts = pd.DatetimeIndex(frame.index).tz_localize("UTC").as_unit("ns").asi8
    bars = BarArrays.from_ohlc(
        ts.astype(np.int64),
        frame["Open"].to_numpy(dtype=np.float64),
        frame["High"].to_numpy(dtype=np.float64),
        frame["Low"].to_numpy(dtype=np.float64),
        frame["Close"].to_numpy(dtype=np.float64),
    )
    data = MarketData(
        Timeframe.parse(timeframe), {symbol: SymbolFeed(_units_instrument(symbol, pip), bars)}
    )
    settings = EngineSettings(
        cash=10_000.0,
        commission=Percent(commission * 100),
        close_at_end=False,
        trade_on_close=on_close,
    )
    return Backtest(OURS, data, settings).run()


def _theirs(frame: pd.DataFrame, commission: float, on_close: bool) -> Any:
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        # the peer's own deprecation and runtime warnings (pandas 3), not ours
        warnings.simplefilter("ignore")
        peer = PeerBacktest(
            frame, Theirs, cash=10_000.0, commission=commission, trade_on_close=on_close
        )
        return peer.run()


@pytest.mark.parametrize(
    ("name", "frame", "timeframe", "pip", "commission", "on_close"),
    [
        ("GOOG", GOOG, "D1", 0.01, 0.002, False),
        ("GOOG", GOOG, "D1", 0.01, 0.0, False),
        ("GOOG", GOOG, "D1", 0.01, 0.002, True),
        ("EURUSD", EURUSD, "H1", 0.0001, 0.0002, False),
        ("EURUSD", EURUSD, "H1", 0.0001, 0.0, True),
    ],
)
def test_same_trades_and_equity_as_backtesting_py(
    name: str, frame: pd.DataFrame, timeframe: str, pip: float, commission: float, on_close: bool
) -> None:
    ours = _ours(frame, name, timeframe, pip, commission, on_close)
    theirs = _theirs(frame, commission, on_close)
    their_trades = theirs["_trades"]
    assert len(ours.trades) == len(their_trades) > 10
    np.testing.assert_array_equal(ours.trades["size_units"], their_trades["Size"].abs())
    np.testing.assert_allclose(ours.trades["entry_price"], their_trades["EntryPrice"], rtol=1e-12)
    np.testing.assert_allclose(ours.trades["exit_price"], their_trades["ExitPrice"], rtol=1e-12)
    entry = pd.DatetimeIndex(their_trades["EntryTime"]).tz_localize("UTC")
    our_entry = pd.DatetimeIndex(ours.trades["entry_time"])
    if on_close:
        # backtesting.py labels a trade-on-close fill with the decision bar's time; ours carries
        # the moment of the fill, that bar's last quote (its close): the same bar
        bar_opens = pd.DatetimeIndex(frame.index).tz_localize("UTC").as_unit("ns")
        bar_of_fill = bar_opens[bar_opens.searchsorted(our_entry, side="right") - 1]
        assert (bar_of_fill == entry).all()
    else:
        assert (our_entry == entry).all()
    np.testing.assert_allclose(ours.trades["pnl"], their_trades["PnL"], rtol=1e-9, atol=1e-6)
    their_equity = theirs["_equity_curve"]["Equity"].to_numpy()
    our_equity = ours.equity["equity"].to_numpy()
    if on_close:
        # a trade-on-close fill happens at the decision bar's close: our curve holds its
        # commission from that bar on, backtesting.py's from the next bar (where it books it)
        filled = ours.orders[ours.orders["status"] == "filled"]["closed_time"]
        bar_opens = pd.DatetimeIndex(frame.index).tz_localize("UTC").as_unit("ns")
        fill_bars = bar_opens.searchsorted(pd.DatetimeIndex(filled), side="right") - 1
        keep = np.ones(len(our_equity), dtype=bool)
        keep[fill_bars] = False
        our_equity, their_equity = our_equity[keep], their_equity[keep]
    np.testing.assert_allclose(our_equity, their_equity, rtol=1e-9)
    assert ours.final_equity == pytest.approx(theirs["Equity Final [$]"], rel=1e-12)
