"""The short path of a fill: a plain market order on the only symbol of an account-currency run.

Most orders of most strategies are plain market orders (``order_target_percent`` on a signal),
and most runs trade one symbol quoted in the account currency. For that case this module does
what :meth:`Broker._execute` and :meth:`Broker._fill` do — the same netting, margin check,
commission split, trade accounting, change log and stop-out level, with the same arithmetic in
the same order, so results are bit-identical — in one function, without the general path's
calls, loops over books and per-fill lookups (a busy run fills tens of thousands of orders, and
those calls were most of its time).

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
_CANCELLED = OrderStatus.CANCELLED
_REJECTED = OrderStatus.REJECTED


def fill_plain_market(broker: Broker, order: Order) -> None:
    """Fill ``order`` (a plain market order, see the module docstring) at its trigger."""
    book = broker.books[order.symbol]
    instrument = book.instrument
    k = order.trigger_k
    ts: int = book.ts_at[k]
    if ts > broker.now_ns:
        broker.now_ns = ts
    price = order.trigger_price
    units = order.units
    slip = broker._slip
    if slip is None:
        slip = broker.settings.slippage.slip(instrument)
    if slip:
        price = price + slip if units > 0 else price - slip
    del broker.pending[order.id]
    # the only symbol is quoted in the account currency: every conversion rate is exactly 1
    # (not read from the rate array: one memory access fewer per fill)
    rate = 1.0
    trades = book.trades
    if not trades:
        _open_from_flat(broker, order, book, k, ts, price, rate)
        return
    held = trades[0].units
    if (
        len(trades) == 1
        and (held > 0) != (units > 0)
        and abs(held) <= abs(units)
        and abs(units + held) < 1e-9  # the netting loop's test and rounding: nothing to open
    ):
        _close_only_trade(broker, order, book, k, ts, price, rate)
    else:
        _fill_general(broker, order, book, k, ts, price, rate)


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
    balance = _book_closed(
        broker, trade, instrument.pip_size, -part, 1.0, share, k, ts, price, rate, broker.balance
    )
    book.trades.clear()
    del broker.open_trades[trade.id]
    broker.balance = balance
    if trade.exit_orders:
        _cancel_exits(broker, trade, ts)
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


def _fill_general(
    broker: Broker, order: Order, book: Book, k: int, ts: int, price: float, rate: float
) -> None:
    """Any other plain market fill: :meth:`Broker._fill`'s netting, in one function."""
    instrument = book.instrument
    units = order.units
    trades = book.trades

    # netting: close the oldest opposite trades first (as Broker._fill)
    remaining = units
    closing: list[tuple[Trade, float]] = []
    for trade in trades:
        if remaining == 0 or (trade.units > 0) == (remaining > 0):
            continue
        part = -trade.units if abs(trade.units) <= abs(remaining) else remaining
        closing.append((trade, part))
        remaining -= part
        if abs(remaining) < 1e-9:
            remaining = 0.0

    position = book.position
    if remaining:  # the margin check of the part that adds exposure
        released = 0.0
        for t, q in closing:
            released += t.margin * abs(q) / abs(t.units)
        required = abs(remaining) * price * rate * book.margin_rate
        equity = broker.balance
        if position.long_units or position.short_units:
            equity += (
                (position.long_units * book.bid_at[k] - position.long_cost)
                + (position.short_cost - position.short_units * book.ask_at[k])
            ) * rate
        used = (sum([t.margin for t in trades]) if trades else 0) - released
        free = equity - used
        level = math.inf if used + required <= 0 else equity / (used + required) * 100.0
        if required > free or level < broker.settings.margin_call_pct:
            _reject(order, required, free, level, ts)
            return

    total_units = abs(remaining)
    for _, q in closing:
        total_units += abs(q)
    commission = broker.settings.commission.cost(total_units, price, instrument, rate)
    balance = broker.balance
    for trade, part in closing:
        share = commission * abs(part) / total_units if total_units else 0.0
        fraction = min(abs(part) / abs(trade.units), 1.0)
        entry_commission = trade.commission * fraction
        swap = trade.swap * fraction
        balance = _book_closed(
            broker, trade, instrument.pip_size, -part, fraction, share, k, ts, price, rate, balance
        )
        if fraction >= 1.0 - 1e-12:
            trades.remove(trade)
            del broker.open_trades[trade.id]
            if trade.exit_orders:
                broker.balance = balance
                _cancel_exits(broker, trade, ts)
        else:
            trade.units += part
            trade.commission -= entry_commission
            trade.swap -= swap
            trade.margin *= 1.0 - fraction
    if remaining:
        share = commission * abs(remaining) / total_units
        # Broker._open_trade, inline (a plain order attaches no exits)
        trade = Trade(
            broker._next_trade_id,
            order.symbol,
            remaining,
            price,
            ts,
            k,
            share,
            abs(remaining) * price * rate * book.margin_rate,
        )
        broker._next_trade_id += 1
        balance -= share
        trades.append(trade)
        broker.open_trades[trade.id] = trade
        if len(broker.open_trades) == 1:
            broker._rollover_index = bisect_right(broker._rollover_list, ts)
    broker.balance = balance
    _filled(broker, order, ts, price, commission)

    # Position.update, inline
    long_units = long_cost = short_units = short_cost = 0.0
    for t in trades:
        if t.units > 0:
            long_units += t.units
            long_cost += t.units * t.entry_price
        else:
            short_units -= t.units
            short_cost -= t.units * t.entry_price
    position.long_units, position.long_cost = long_units, long_cost
    position.short_units, position.short_cost = short_units, short_cost
    net = long_units - short_units
    position.units = 0.0 if abs(net) < 1e-9 else net

    _record(broker, instrument.symbol, balance, long_units, long_cost, short_units, short_cost)
    broker._single_stop_out(book, k)


def _book_closed(
    broker: Broker,
    trade: Trade,
    pip_size: float,
    closed_units: float,
    fraction: float,
    exit_commission: float,
    k: int,
    ts: int,
    price: float,
    rate: float,
    balance: float,
) -> float:
    """Record the close of ``closed_units`` (``fraction`` of ``trade``) in the trade list, as
    :meth:`Broker._close_part` does; returns ``balance`` after it."""
    entry_price = trade.entry_price
    gross = closed_units * (price - entry_price) * rate
    entry_commission = trade.commission * fraction
    swap = trade.swap * fraction
    pnl = gross - entry_commission - exit_commission + swap
    notional = abs(closed_units) * entry_price * rate
    broker.closed.append(
        (
            trade.symbol,
            closed_units,
            trade.entry_ns,
            ts,
            entry_price,
            price,
            gross,
            entry_commission + exit_commission,
            swap,
            pnl,
            (price - entry_price) / pip_size * (1.0 if closed_units > 0 else -1.0),
            pnl / notional * 100.0 if notional else 0.0,
            trade.entry_k,
            k,
            trade.stop_loss,
            trade.take_profit,
        )
    )
    return balance + (gross - exit_commission)


def _cancel_exits(broker: Broker, trade: Trade, ts: int) -> None:
    for order_id in trade.exit_orders:
        exit_order = broker.pending.get(order_id)
        if exit_order is not None:
            broker.cancel(exit_order, _CANCELLED, "trade closed", ts)


def _reject(order: Order, required: float, free: float, level: float, ts: int) -> None:
    order.status = _REJECTED
    order.reason = (
        f"not enough free margin: needs {required:.2f}, free {free:.2f}"
        if required > free
        else f"margin level would fall to {level:.1f}%"
    )
    order.filled_ns = ts


def _filled(broker: Broker, order: Order, ts: int, price: float, commission: float) -> None:
    order.status = _FILLED
    order.filled_ns = ts
    order.fill_price = price
    order.commission = commission
    broker.commissions_paid += commission


def _record(
    broker: Broker,
    symbol: str,
    balance: float,
    long_units: float,
    long_cost: float,
    short_units: float,
    short_cost: float,
) -> None:
    """:meth:`Broker._record_change`: balance and position after the fill, for the equity
    curve."""
    broker.change_steps.append(broker.step)
    broker.change_balance.append(balance)
    broker.change_positions.append((symbol, long_units, long_cost, short_units, short_cost))
