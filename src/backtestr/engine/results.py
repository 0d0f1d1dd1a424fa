"""What a finished run hands back: equity, trades, orders, records and statistics.

The equity curve is rebuilt after the run from the broker's change log (balance and positions
after each event, per step) and the per-step marks, vectorised, so the loop never pays for it.
At every step ``equity = balance + open P&L`` exactly, the open P&L valuing longs at the bid and
shorts at the ask of the step's close.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from backtestr.engine.core import Engine
from backtestr.engine.matching import excursions
from backtestr.stats import TRADE_COLUMNS, Statistics, compute_statistics, empty_trades

__all__ = ["ORDER_COLUMNS", "RunResult", "build_result"]

ORDER_COLUMNS = (
    "order_id",
    "symbol",
    "side",
    "type",
    "units",
    "limit_price",
    "stop_price",
    "time_in_force",
    "status",
    "created_time",
    "closed_time",
    "fill_price",
    "commission",
    "closes_trade",
    "tag",
    "reason",
)


@dataclass(frozen=True, slots=True, eq=False)
class RunResult:
    """The outcome of one backtest.

    Attributes
    ----------
    stats
        Performance statistics (``stats.to_dict()`` for JSON).
    equity
        Equity at each bar close, indexed by bar open time (UTC); column ``equity``, ``balance``.
    trades
        Closed trades, columns :data:`backtestr.stats.TRADE_COLUMNS`, then ``stop_loss`` and
        ``take_profit``: the exit levels attached when the trade opened (``nan`` without one).
    orders
        Every order and its fate, columns :data:`ORDER_COLUMNS`.
    records
        Values the strategy ``record``-ed, one column per name, indexed by bar time.
    manifest
        Everything needed to reproduce the run (filled by the strategy layer).
    """

    stats: Statistics
    equity: pd.DataFrame
    trades: pd.DataFrame
    orders: pd.DataFrame
    records: pd.DataFrame
    manifest: Mapping[str, Any] = field(default_factory=dict)

    @property
    def final_equity(self) -> float:
        return float(self.equity["equity"].iloc[-1])

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: stats plus the tables as lists of records (times in ISO 8601 UTC)."""
        return {
            "stats": self.stats.to_dict(),
            "manifest": dict(self.manifest),
            "equity": _records(self.equity.reset_index()),
            "trades": _records(self.trades),
            "orders": _records(self.orders),
            "records": _records(self.records.reset_index()),
        }

    def to_json(self, indent: int | None = None) -> str:
        return json.dumps(self.to_dict(), indent=indent, sort_keys=True, allow_nan=False)

    def tables(self) -> dict[str, pd.DataFrame]:
        """The tables to persist with a saved run."""
        return {
            "equity": self.equity.reset_index(),
            "trades": self.trades,
            "orders": self.orders,
            "records": self.records.reset_index(),
        }


def _json_value(value: Any) -> Any:
    if isinstance(value, pd.Timestamp):
        return None if pd.isna(value) else value.isoformat()
    if isinstance(value, pd.Timedelta):
        return None if pd.isna(value) else value.total_seconds()
    if isinstance(value, float | np.floating):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.bool_):
        return bool(value)
    if value is None or value is pd.NaT:
        return None
    return value


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    columns = list(frame.columns)
    return [
        {str(c): _json_value(v) for c, v in zip(columns, row, strict=True)}
        for row in frame.itertuples(index=False, name=None)
    ]


def _times(ns: Any) -> pd.DatetimeIndex:
    values = np.asarray(ns, dtype=np.int64).view("datetime64[ns]")
    return pd.DatetimeIndex(values).tz_localize("UTC")


def equity_curve(engine: Engine) -> pd.DataFrame:
    broker = engine.broker
    n = engine.n_steps
    steps = np.asarray(broker.change_steps, dtype=np.int64)
    at = np.searchsorted(steps, np.arange(n), side="right") - 1
    balances = np.asarray([*broker.change_balance, engine.settings.cash])
    balance = balances[at]  # index -1 picks the initial cash
    equity = balance.copy()
    for symbol, book in broker.books.items():
        rows = [i for i, change in enumerate(broker.change_positions) if change[0] == symbol]
        if not rows:
            continue
        sym_steps = steps[rows]
        table = np.asarray([broker.change_positions[r][1:] for r in rows] + [(0.0,) * 4])
        where = np.searchsorted(sym_steps, np.arange(n), side="right") - 1
        long_units, long_cost, short_units, short_cost = table[where].T
        pnl = (long_units * book.mark_bid - long_cost) + (short_cost - short_units * book.mark_ask)
        equity += np.where((long_units != 0) | (short_units != 0), pnl * book.rate, 0.0)
    index = _times(engine.clock.open_ns)
    index.name = "time"
    return pd.DataFrame({"equity": equity, "balance": balance}, index=index)


def trade_table(engine: Engine) -> pd.DataFrame:
    broker = engine.broker
    if not broker.closed:
        return empty_trades().assign(
            stop_loss=np.empty(0, dtype=np.float64), take_profit=np.empty(0, dtype=np.float64)
        )
    rows = broker.closed
    symbols = [r[0] for r in rows]
    units = np.array([r[1] for r in rows], dtype=np.float64)
    entry_price = np.array([r[4] for r in rows], dtype=np.float64)
    entry_k = np.array([r[12] for r in rows], dtype=np.int64)
    exit_k = np.array([r[13] for r in rows], dtype=np.int64)
    mae = np.zeros(len(rows))
    mfe = np.zeros(len(rows))
    contract = np.zeros(len(rows))
    for symbol, book in broker.books.items():
        mask = np.array([s == symbol for s in symbols])
        if not mask.any():
            continue
        adverse, favourable = excursions(
            book.path.bid,
            book.path.ask,
            entry_k[mask],
            exit_k[mask],
            units[mask],
            entry_price[mask],
        )
        mae[mask] = -adverse / book.instrument.pip_size
        mfe[mask] = favourable / book.instrument.pip_size
        contract[mask] = book.instrument.contract_size
    entry_time = _times([r[2] for r in rows])
    exit_time = _times([r[3] for r in rows])
    swap_charged = -np.array([r[8] for r in rows], dtype=np.float64)
    frame = pd.DataFrame(
        {
            "symbol": symbols,
            "side": np.where(units > 0, "long", "short"),
            "size_units": np.abs(units),
            "size_lots": np.abs(units) / contract,
            "entry_time": entry_time,
            "exit_time": exit_time,
            "entry_price": entry_price,
            "exit_price": np.array([r[5] for r in rows], dtype=np.float64),
            "gross_pnl": np.array([r[6] for r in rows], dtype=np.float64),
            "commission": np.array([r[7] for r in rows], dtype=np.float64),
            "swap": swap_charged + 0.0,
            "pnl": np.array([r[9] for r in rows], dtype=np.float64),
            "pnl_pips": np.array([r[10] for r in rows], dtype=np.float64),
            "return_pct": np.array([r[11] for r in rows], dtype=np.float64),
            "mae_pips": mae + 0.0,
            "mfe_pips": mfe,
            "duration": exit_time - entry_time,
        }
    )
    # beyond the statistics' contract: the exit levels attached at entry, for charts and reports
    return frame[list(TRADE_COLUMNS)].assign(
        stop_loss=np.array([r[14] for r in rows], dtype=np.float64),
        take_profit=np.array([r[15] for r in rows], dtype=np.float64),
    )


def order_table(engine: Engine) -> pd.DataFrame:
    orders = engine.broker.orders
    never = np.iinfo(np.int64).min  # NaT
    created = _times([o.created_ns for o in orders])
    closed = _times([never if o.filled_ns is None else o.filled_ns for o in orders])
    rows = [
        (
            o.id,
            o.symbol,
            "buy" if o.units > 0 else "sell",
            o.type.value,
            abs(o.units),
            o.limit_price,
            o.stop_price,
            o.time_in_force.value,
            o.status.value,
            None,
            None,
            o.fill_price,
            o.commission,
            -1 if o.closes_trade is None else o.closes_trade,
            o.tag,
            o.reason,
        )
        for o in orders
    ]
    frame = pd.DataFrame(rows, columns=list(ORDER_COLUMNS))
    frame["created_time"] = created
    frame["closed_time"] = closed
    return frame


def record_table(engine: Engine) -> pd.DataFrame:
    if not engine.records:
        return pd.DataFrame(index=pd.DatetimeIndex([], tz="UTC", name="time"))
    steps = np.array([r[0] for r in engine.records], dtype=np.int64)
    frame = pd.DataFrame(
        {
            "step": steps,
            "name": [r[1] for r in engine.records],
            "value": [r[2] for r in engine.records],
        }
    )
    wide = frame.pivot_table(index="step", columns="name", values="value", aggfunc="last")
    wide.index = _times(engine.clock.open_ns[wide.index.to_numpy()])
    wide.index.name = "time"
    wide.columns.name = None
    return wide


def build_result(engine: Engine, manifest: Mapping[str, Any] | None = None) -> RunResult:
    """Assemble the result of a finished (or stopped) run."""
    equity = equity_curve(engine)
    trades = trade_table(engine)
    in_market = _in_market(engine, pd.DatetimeIndex(equity.index))
    first = engine.market.feeds[engine.symbols[0]].instrument
    stats = compute_statistics(
        equity["equity"],
        trades,
        initial_cash=engine.settings.cash,
        commissions_paid=engine.broker.commissions_paid,
        swaps_paid=engine.broker.swaps_paid,
        in_market=in_market,
        trading_day=first.trading_day,
    )
    return RunResult(
        stats=stats,
        equity=equity,
        trades=trades,
        orders=order_table(engine),
        records=record_table(engine),
        manifest=dict(manifest or {}),
    )


def _in_market(engine: Engine, index: pd.DatetimeIndex) -> pd.Series:
    broker = engine.broker
    n = engine.n_steps
    exposed = np.zeros(n, dtype=bool)
    steps = np.asarray(broker.change_steps, dtype=np.int64)
    for symbol in broker.books:
        rows = [i for i, change in enumerate(broker.change_positions) if change[0] == symbol]
        if not rows:
            continue
        flags = np.array(
            [broker.change_positions[r][1] != 0 or broker.change_positions[r][3] != 0 for r in rows]
            + [False]
        )
        where = np.searchsorted(steps[rows], np.arange(n), side="right") - 1
        exposed |= flags[where]
    return pd.Series(exposed, index=index)
