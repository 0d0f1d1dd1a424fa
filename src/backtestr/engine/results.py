"""What a finished run hands back: equity, trades, orders, records and statistics.

The equity curve is rebuilt after the run from the broker's change log (balance and positions
after each event, per step) and the per-step marks, vectorised, so the loop never pays for it.
At every step ``equity = balance + open P&L`` exactly, the open P&L valuing longs at the bid and
shorts at the ask of the step's close.
"""

from __future__ import annotations

import gc
import json
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from backtestr.engine.broker import Broker
from backtestr.engine.core import Engine
from backtestr.engine.equity import add_open_pnl, values_at_steps
from backtestr.engine.matching import excursions
from backtestr.engine.orders import Order
from backtestr.model.arrays import F64, I64
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
        Every order and its fate, columns :data:`ORDER_COLUMNS` (built on first read from
        ``order_log``).
    records
        Values the strategy ``record``-ed, one column per name, indexed by bar time.
    manifest
        Everything needed to reproduce the run (filled by the strategy layer).
    """

    stats: Statistics
    equity: pd.DataFrame
    trades: pd.DataFrame
    # the order log as a table, or what builds it on first read (see ``orders``)
    order_log: pd.DataFrame | Callable[[], pd.DataFrame]
    records: pd.DataFrame
    manifest: Mapping[str, Any] = field(default_factory=dict)

    @property
    def orders(self) -> pd.DataFrame:
        """Every order and its fate, columns :data:`ORDER_COLUMNS`.

        Built on first read: most runs (optimiser trials, statistics) never look at the order
        log, and a busy run has tens of thousands of orders.
        """
        log = self.order_log
        if callable(log):
            log = log()
            object.__setattr__(self, "order_log", log)
        return log

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
    # naming the UTC dtype labels the values as UTC directly (no tz_localize pass over them)
    return pd.DatetimeIndex(values, dtype=_UTC_NS)


_UTC_NS = pd.DatetimeTZDtype("ns", "UTC")


@dataclass(frozen=True, slots=True)
class _AccountSteps:
    """Equity and balance at each step's close (rows of one block) and whether a position was
    open there."""

    block: F64  # shape (2, steps): equity, balance
    exposed: npt.NDArray[np.bool_]


# The broker's logs are Python tuples: ``fromiter`` with the dtype and count converts a column
# in one pass (``asarray`` first scans the values to infer a dtype).
def _float_column(values: Sequence[Any]) -> F64:
    return np.fromiter(values, dtype=np.float64, count=len(values))


def _int_column(values: Sequence[Any]) -> I64:
    return np.fromiter(values, dtype=np.int64, count=len(values))


def _position_changes(broker: Broker, steps: I64) -> dict[str, tuple[I64, F64]]:
    """Per symbol with changes, the steps of its changes and the rows (long units, long cost,
    short units, short cost) recorded at them (``steps``: the step of every change)."""
    if not broker.change_positions:
        return {}
    symbols, *columns = zip(*broker.change_positions, strict=True)
    table = np.stack([_float_column(column) for column in columns])
    if len(broker.books) == 1:
        return {next(iter(broker.books)): (steps, table)}
    names = np.asarray(symbols, dtype=object)
    changes: dict[str, tuple[I64, F64]] = {}
    for symbol in broker.books:
        mask = names == symbol
        if mask.any():
            changes[symbol] = (steps[mask], np.ascontiguousarray(table[:, mask]))
    return changes


def _account_steps(engine: Engine) -> _AccountSteps:
    broker = engine.broker
    steps = _int_column(broker.change_steps)
    block = np.empty((2, engine.n_steps))
    equity, balance = block
    values_at_steps(
        steps,
        _float_column(broker.change_balance),
        float(engine.settings.cash),
        balance,
    )
    equity[:] = balance
    exposed = np.zeros(engine.n_steps, dtype=np.bool_)
    # symbols in the books' order, as the equity sums their P&L (a float sum depends on order)
    changes = _position_changes(broker, steps)
    for symbol, (at, (long_units, long_cost, short_units, short_cost)) in changes.items():
        book = broker.books[symbol]
        add_open_pnl(
            equity,
            exposed,
            at,
            long_units,
            long_cost,
            short_units,
            short_cost,
            book.mark_bid,
            book.mark_ask,
            book.rate,
        )
    return _AccountSteps(block, exposed)


def equity_curve(engine: Engine, account: _AccountSteps | None = None) -> pd.DataFrame:
    block = (account or _account_steps(engine)).block
    index = _times(engine.clock.open_ns)
    index.name = "time"
    # the (2, steps) block transposed is the layout pandas keeps its columns in: no copy
    return pd.DataFrame(block.T, index=index, columns=["equity", "balance"], copy=False)


def trade_table(engine: Engine) -> pd.DataFrame:
    broker = engine.broker
    if not broker.closed:
        return empty_trades().assign(
            stop_loss=np.empty(0, dtype=np.float64), take_profit=np.empty(0, dtype=np.float64)
        )
    (
        symbol_col,
        units_col,
        entry_ns,
        exit_ns,
        entry_col,
        exit_price,
        gross,
        commission,
        swap,
        pnl,
        pnl_pips,
        return_pct,
        entry_k_col,
        exit_k_col,
        stop_loss,
        take_profit,
    ) = zip(*broker.closed, strict=True)
    n = len(symbol_col)
    units = _float_column(units_col)
    entry_price = _float_column(entry_col)
    entry_k = _int_column(entry_k_col)
    exit_k = _int_column(exit_k_col)
    mae = np.zeros(n)
    mfe = np.zeros(n)
    contract = np.zeros(n)
    names = np.asarray(symbol_col, dtype=object)
    for symbol, book in broker.books.items():
        mask = names == symbol
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
    entry_time = _times(_int_column(entry_ns))
    exit_time = _times(_int_column(exit_ns))
    size = np.abs(units)
    # one frame in the final column order; the exit levels attached at entry follow the
    # statistics' contract, for charts and reports
    return pd.DataFrame(
        {
            "symbol": list(symbol_col),
            "side": np.where(units > 0, "long", "short"),
            "size_units": size,
            "size_lots": size / contract,
            "entry_time": entry_time,
            "exit_time": exit_time,
            "entry_price": entry_price,
            "exit_price": _float_column(exit_price),
            "gross_pnl": _float_column(gross),
            "commission": _float_column(commission),
            "swap": -_float_column(swap) + 0.0,
            "pnl": _float_column(pnl),
            "pnl_pips": _float_column(pnl_pips),
            "return_pct": _float_column(return_pct),
            "mae_pips": mae + 0.0,
            "mfe_pips": mfe,
            "duration": exit_time - entry_time,
            "stop_loss": _float_column(stop_loss),
            "take_profit": _float_column(take_profit),
        },
        columns=[*TRADE_COLUMNS, "stop_loss", "take_profit"],
    )


def order_table(engine: Engine) -> pd.DataFrame:
    return orders_frame(engine.broker.orders)


def orders_frame(orders: list[Order]) -> pd.DataFrame:
    """The order table of ``orders`` (in the order they were placed)."""
    never = np.iinfo(np.int64).min  # NaT
    created = _times([o.created_ns for o in orders])
    closed = _times([never if o.filled_ns is None else o.filled_ns for o in orders])
    units = np.asarray([o.units for o in orders], dtype=np.float64)
    columns: dict[str, Any] = {
        "order_id": np.asarray([o.id for o in orders], dtype=np.int64),
        "symbol": [o.symbol for o in orders],
        "side": np.where(units > 0, "buy", "sell").tolist(),
        "type": [o.type._value_ for o in orders],  # _value_: .value is a slow property
        "units": np.abs(units),
        "limit_price": np.asarray([o.limit_price for o in orders], dtype=np.float64),
        "stop_price": np.asarray([o.stop_price for o in orders], dtype=np.float64),
        "time_in_force": [o.time_in_force._value_ for o in orders],
        "status": [o.status._value_ for o in orders],
        "created_time": created,
        "closed_time": closed,
        "fill_price": np.asarray([o.fill_price for o in orders], dtype=np.float64),
        "commission": np.asarray([o.commission for o in orders], dtype=np.float64),
        "closes_trade": np.asarray(
            [-1 if o.closes_trade is None else o.closes_trade for o in orders], dtype=np.int64
        ),
        "tag": [o.tag for o in orders],
        "reason": [o.reason for o in orders],
    }
    return pd.DataFrame(columns, columns=list(ORDER_COLUMNS))


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
    # Building the tables allocates many objects, and each full collection triggered meanwhile
    # would walk every order and trade of the run again (a third of the build's time on a busy
    # run). Nothing here creates reference cycles: collection is only postponed, not skipped.
    enabled = gc.isenabled()
    gc.disable()
    try:
        return _build_result(engine, manifest)
    finally:
        if enabled:
            gc.enable()


def _build_result(engine: Engine, manifest: Mapping[str, Any] | None) -> RunResult:
    account = _account_steps(engine)
    equity = equity_curve(engine, account)
    trades = trade_table(engine)
    in_market = pd.Series(account.exposed, index=equity.index, copy=False)
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
        # a finished run's orders never change again: their table can wait until it is read
        order_log=(
            partial(_built_without_gc, list(engine.broker.orders))
            if engine.finished
            else order_table(engine)
        ),
        records=record_table(engine),
        manifest=dict(manifest or {}),
    )


def _built_without_gc(orders: list[Order]) -> pd.DataFrame:
    enabled = gc.isenabled()
    gc.disable()  # as in build_result: nothing here makes cycles
    try:
        return orders_frame(orders)
    finally:
        if enabled:
            gc.enable()
