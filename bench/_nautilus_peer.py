"""NautilusTrader's SMA(10)/SMA(20) cross on the synthetic M1 bars, timed (run by engine_peers.py).

NautilusTrader pins pandas<3, so it cannot share the dev environment: engine_peers.py syncs the
``nautilus`` dependency group into ``.venv-nautilus`` and runs this script there. It imports only
numpy, pandas, NautilusTrader and bench/_synthetic_bars.py (never backtestr), builds the same
bars from the same seed and prints one JSON line: a list of rows (mode, bars, best seconds,
entries, final equity, version), one with the post-run analysis (the default) and one without.

Idiomatic use: a BacktestEngine with one simulated FX venue (netting, margin account, USD), a
CurrencyPair without fees, 1-minute MID bars made by BarDataWrangler, and a Strategy subclass
that registers two SimpleMovingAverage indicators for the bar type and sends market orders.
Timed: engine construction, adding venue, instrument, bars and strategy, and ``run()`` (which
ends with the portfolio analysis unless ``run_analysis=False``); not timed:
making the bars (as the other peers' data frames are made outside their timings).
"""

from __future__ import annotations

import argparse
import json
import time
from decimal import Decimal

import pandas as pd
from nautilus_trader import __version__ as nautilus_version
from nautilus_trader.backtest.engine import BacktestEngine, BacktestEngineConfig
from nautilus_trader.config import LoggingConfig, StrategyConfig
from nautilus_trader.indicators import SimpleMovingAverage
from nautilus_trader.model.currencies import EUR, USD
from nautilus_trader.model.data import Bar, BarType
from nautilus_trader.model.enums import AccountType, OmsType, OrderSide, OrderStatus
from nautilus_trader.model.identifiers import InstrumentId, Symbol, Venue
from nautilus_trader.model.instruments import CurrencyPair
from nautilus_trader.model.objects import Money, Price, Quantity
from nautilus_trader.persistence.wranglers import BarDataWrangler
from nautilus_trader.trading.strategy import Strategy

from _synthetic_bars import MINUTE_NS, random_walk_m1

VENUE = Venue("SIM")
INSTRUMENT_ID = InstrumentId(Symbol("EUR/USD"), VENUE)
BAR_TYPE = BarType.from_str(f"{INSTRUMENT_ID}-1-MINUTE-MID-EXTERNAL")
CASH = 100_000


class SmaCrossConfig(StrategyConfig, frozen=True):
    instrument_id: InstrumentId
    bar_type: BarType
    fast: int = 10
    slow: int = 20


class SmaCross(Strategy):
    """Long while SMA(fast) > SMA(slow), flat while below; all-in (whole units of the balance)."""

    def __init__(self, config: SmaCrossConfig) -> None:
        super().__init__(config)
        self.fast = SimpleMovingAverage(config.fast)
        self.slow = SimpleMovingAverage(config.slow)

    def on_start(self) -> None:
        self.instrument = self.cache.instrument(self.config.instrument_id)
        self.register_indicator_for_bars(self.config.bar_type, self.fast)
        self.register_indicator_for_bars(self.config.bar_type, self.slow)
        self.subscribe_bars(self.config.bar_type)

    def on_bar(self, bar: Bar) -> None:
        if not self.indicators_initialized():
            return
        instrument_id = self.config.instrument_id
        if self.fast.value > self.slow.value and self.portfolio.is_flat(instrument_id):
            # flat, so the balance is the equity; whole units (floor) like the other peers
            balance = self.portfolio.account(VENUE).balance_total(USD).as_double()
            units = int(balance / bar.close.as_double())
            order = self.order_factory.market(
                instrument_id, OrderSide.BUY, self.instrument.make_qty(units)
            )
            self.submit_order(order)
        elif self.fast.value < self.slow.value and self.portfolio.is_net_long(instrument_id):
            self.close_all_positions(instrument_id)


def eurusd() -> CurrencyPair:
    """A 5-decimal EUR/USD without fees (the benchmark has no costs)."""
    return CurrencyPair(
        instrument_id=INSTRUMENT_ID,
        raw_symbol=Symbol("EUR/USD"),
        base_currency=EUR,
        quote_currency=USD,
        price_precision=5,
        size_precision=0,
        price_increment=Price.from_str("0.00001"),
        size_increment=Quantity.from_int(1),
        lot_size=None,
        max_quantity=None,
        min_quantity=Quantity.from_int(1),
        max_price=None,
        min_price=None,
        max_notional=None,
        min_notional=None,
        margin_init=Decimal("0.03"),
        margin_maint=Decimal("0.03"),
        maker_fee=Decimal(0),
        taker_fee=Decimal(0),
        ts_event=0,
        ts_init=0,
    )


def nautilus_bars(n: int) -> list[Bar]:
    ts, open_, high, low, close = random_walk_m1(n)
    # Nautilus stamps a bar with its close time; the synthetic times are bar open times
    index = pd.DatetimeIndex(pd.to_datetime(ts + MINUTE_NS, utc=True))
    # Bar volume is the liquidity its simulated book offers: with the other engines' volume of 1
    # an order of 90 000 units would fill one tick worse, a cost the benchmark has not got
    frame = pd.DataFrame(
        {"open": open_, "high": high, "low": low, "close": close, "volume": 1e9}, index=index
    )
    return list(BarDataWrangler(BAR_TYPE, eurusd()).process(frame))


def run(bars: list[Bar], analysis: bool) -> tuple[float, int, float]:
    """One backtest: its seconds, entries (filled buy orders) and final equity."""
    start = time.perf_counter()
    engine = BacktestEngine(
        BacktestEngineConfig(
            logging=LoggingConfig(log_level="ERROR", bypass_logging=True),
            run_analysis=analysis,
        )
    )
    engine.add_venue(
        venue=VENUE,
        oms_type=OmsType.NETTING,
        account_type=AccountType.MARGIN,
        base_currency=USD,
        starting_balances=[Money(CASH, USD)],
        default_leverage=Decimal(1),
    )
    engine.add_instrument(eurusd())
    engine.add_data(bars)
    engine.add_strategy(SmaCross(SmaCrossConfig(instrument_id=INSTRUMENT_ID, bar_type=BAR_TYPE)))
    engine.run()
    seconds = time.perf_counter() - start
    entries = sum(
        order.side == OrderSide.BUY and order.status == OrderStatus.FILLED
        for order in engine.cache.orders()
    )
    account = engine.portfolio.account(VENUE)
    open_pnl = engine.portfolio.unrealized_pnl(INSTRUMENT_ID)
    equity = account.balance_total(USD).as_double() + (open_pnl.as_double() if open_pnl else 0.0)
    engine.dispose()
    return seconds, entries, equity


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--bars", type=int, required=True)
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()
    bars = nautilus_bars(args.bars)
    rows = []
    # run_analysis=True is the default: the portfolio statistics after the run (the other
    # engines compute theirs too); without it, the event loop alone
    for analysis in (True, False):
        runs = [run(bars, analysis) for _ in range(args.repeat)]
        seconds, entries, equity = min(runs)
        rows.append(
            {
                "mode": "default, run_analysis=True" if analysis else "run_analysis=False",
                "bars": args.bars,
                "seconds": seconds,
                "entries": entries,
                "final_equity": equity,
                "version": nautilus_version,
            }
        )
    print(json.dumps(rows))


if __name__ == "__main__":
    main()
