"""The short path of a fill: a plain market order on the only symbol of an account-currency run.

Most orders of most strategies are plain market orders (``order_target_percent`` on a signal),
and most runs trade one symbol quoted in the account currency. Such a strategy's orders open a
trade from flat or close the only trade, and for those two fills this module does what
:meth:`Broker._execute` and :meth:`Broker._fill` do — the margin check, commission, trade
accounting, change log and stop-out level, with the same arithmetic in the same order, so
results are bit-identical — without the general path's calls, loops over books and per-fill
lookups (a busy run fills tens of thousands of orders, and those calls were most of its time).
Any other netting (a reversal, a partial close, several trades) goes to the general path.

The short path is exact, and :meth:`Broker.process_through` takes it, when the order is plain
(:attr:`Order.plain`, built by :meth:`Broker.submit_market`) and filled at its trigger, the run
has one symbol quoted in the account currency, no one observes the engine's events, and the
account nets positions (or the order reduces first). Otherwise, and with
``Broker.plain_fills`` off (the differential tests compare both), the general path fills it.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from typing import TYPE_CHECKING

from backtestr.engine.orders import Order, OrderStatus
from backtestr.engine.positions import Trade

if TYPE_CHECKING:
    from backtestr.engine.book import Book
    from backtestr.engine.broker import Broker

__all__ = ["fill_plain_market"]

_FILLED = OrderStatus.FILLED
_REJECTED = OrderStatus.REJECTED


def fill_plain_market(broker: Broker, order: Order) -> None:
    """Fill ``order`` (a plain market order, see the module docstring) at its trigger.

    The two fills of a round trip (open from flat, close the only trade) take the short path;
    any other netting (a reversal, a partial close, several trades) takes the general one.
    """
    book = broker.books[order.symbol]
    trades = book.trades
    units = order.units
    if trades:
        held = trades[0].units
        if not (
            len(trades) == 1
            and (held > 0) != (units > 0)
            and abs(held) <= abs(units)
            and abs(units + held) < 1e-9  # the netting loop's test and rounding: nothing to open
        ):
            broker._execute(order)
            return
    instrument = book.instrument
    k = order.trigger_k
    ts: int = book.ts_at[k]
    if ts > broker.now_ns:
        broker.now_ns = ts
    price = order.trigger_price
    slip = broker._slip
    if slip is None:
        slip = broker.settings.slippage.slip(instrument)
    if slip:
        price = price + slip if units > 0 else price - slip
    del broker.pending[order.id]
    # the only symbol is quoted in the account currency: every conversion rate is exactly 1
    # (not read from the rate array: one memory access fewer per fill)
    rate = 1.0
    if trades:
        _close_only_trade(broker, order, book, k, ts, price, rate)
    else:
        _open_from_flat(broker, order, book, k, ts, price, rate)


def _open_from_flat(
    broker: Broker, order: Order, book: Book, k: int, ts: int, price: float, rate: float
) -> None:
    """The general path when no trade is open: a new trade of all the order's units."""
    units = order.units
    required = abs(units) * price * rate * book.margin_rate
    equity = broker.balance
    used = 0 - 0.0  # as the general path computes it with no trade: the same float
    free = equity - used
    level = math.inf if used + required <= 0 else equity / (used + required) * 100.0
    if required > free or level < broker.settings.margin_call_pct:
        _reject(order, required, free, level, ts)
        return
    instrument = book.instrument
    total_units = abs(units)
    commission = (
        0.0
        if broker._commission_free
        else broker.settings.commission.cost(total_units, price, instrument, rate)
    )
    share = commission * abs(units) / total_units
    trade = Trade(broker._next_trade_id, order.symbol, units, price, ts, k, share, required)
    broker._next_trade_id += 1
    balance = broker.balance - share
    broker.balance = balance
    book.trades.append(trade)
    broker.open_trades[trade.id] = trade
    broker._rollover_index = bisect_right(broker._rollover_list, ts)
    # _filled and _record, inline (the two fills of every round trip take this path or the next)
    order.status = _FILLED
    order.filled_ns = ts
    order.fill_price = price
    order.commission = commission
    broker.commissions_paid += commission
    position = book.position
    if units > 0:
        long_units, long_cost, short_units, short_cost = units, units * price, 0.0, 0.0
    else:
        long_units, long_cost, short_units, short_cost = 0.0, 0.0, -units, -units * price
    position.long_units, position.long_cost = long_units, long_cost
    position.short_units, position.short_cost = short_units, short_cost
    net = long_units - short_units
    position.units = 0.0 if abs(net) < 1e-9 else net
    broker.change_steps.append(broker.step)
    broker.change_balance.append(balance)
    broker.change_positions.append(
        (instrument.symbol, long_units, long_cost, short_units, short_cost)
    )
    # Broker._single_stop_out with this trade alone (the same arithmetic)
    if broker._stop_outs:
        book.stop_out = None
        broker._stop_outs = []
    level = broker.settings.stop_out_pct / 100.0
    used = 0.0 + required
    if used <= 0 or level <= 0 or abs(net) < 1e-12:
        return
    step = broker.step
    previous = step - 1 if step > 0 else 0
    mark_rate = 1.0  # book.rate_at[previous] (see fill_plain_market)
    spread = book.mark_ask_at[previous] - book.mark_bid_at[previous]
    constant = balance + 0.0 + (short_cost - long_cost) * mark_rate
    carry = short_units if net > 0 else long_units
    trigger = (level * used - constant + carry * spread * mark_rate) / (net * mark_rate)
    broker._place_single_stop_out(book, net, trigger, k)


def _close_only_trade(
    broker: Broker, order: Order, book: Book, k: int, ts: int, price: float, rate: float
) -> None:
    """The general path when the order closes the only open trade, all of it."""
    trade = book.trades[0]
    part = -trade.units
    total_units = abs(part)
    instrument = book.instrument
    commission = (
        0.0
        if broker._commission_free
        else broker.settings.commission.cost(total_units, price, instrument, rate)
    )
    share = commission * abs(part) / total_units if total_units else 0.0
    broker._close_part(trade, book, part, price, ts, k, share, rate)  # the trade, its exits
    balance = broker.balance
    # _filled and _record, inline
    order.status = _FILLED
    order.filled_ns = ts
    order.fill_price = price
    order.commission = commission
    broker.commissions_paid += commission
    position = book.position
    position.long_units = position.long_cost = position.short_units = position.short_cost = 0.0
    position.units = 0.0
    broker.change_steps.append(broker.step)
    broker.change_balance.append(balance)
    broker.change_positions.append((instrument.symbol, 0.0, 0.0, 0.0, 0.0))
    if broker._stop_outs:  # Broker._single_stop_out with no trade open
        book.stop_out = None
        broker._stop_outs = []


def _reject(order: Order, required: float, free: float, level: float, ts: int) -> None:
    order.status = _REJECTED
    order.reason = (
        f"not enough free margin: needs {required:.2f}, free {free:.2f}"
        if required > free
        else f"margin level would fall to {level:.1f}%"
    )
    order.filled_ns = ts
