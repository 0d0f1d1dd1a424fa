"""The simulated broker: order matching, fills, the account, margin and swaps.

Accounting (all in the account currency):

- A fill that opens a trade charges its commission to the balance at once.
- A fill that closes (part of) a trade adds its gross P&L and subtracts its own commission.
- Swaps are added to the balance at each rollover a trade is held over (triple on Wednesday).
- A trade's ``pnl`` = gross P&L − entry and exit commissions + swaps, so the P&L of all closed
  trades sums to the change of the balance, and ``equity = balance + open gross P&L``.

Positions are lots (trades) kept first-in first-out: in netting mode an opposite order closes
the oldest trades first and opens a new trade with what is left; in hedging mode every order
opens its own trade.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections.abc import Sequence

from backtestr.engine.book import Book, Extremes
from backtestr.engine.costs import FixedSlippage, NoCommission
from backtestr.engine.events import (
    EventBus,
    OrderCancelled,
    OrderFilled,
    OrderPlaced,
    PositionChanged,
)
from backtestr.engine.matching import CODE_EXPIRED, CODE_FILLED, scan_order
from backtestr.engine.orders import (
    KIND_CODE,
    Order,
    OrderStatus,
    OrderType,
    PositionMode,
)
from backtestr.engine.plain_fill import fill_plain_market
from backtestr.engine.positions import Trade
from backtestr.engine.settings import EngineSettings
from backtestr.engine.views import elements
from backtestr.model.arrays import F64, I64

__all__ = ["Broker"]

# Quotes scanned ahead per kernel call for an order that has not triggered yet.
SCAN_CHUNK = 4096
NEVER = 2**62
_KIND_FROM_CODE = {code: kind for kind, code in KIND_CODE.items()}
# Enum members read on every fill, bound once: ``Enum.MEMBER`` is a descriptor lookup (~100 ns)
_SLIPPED = (OrderType.MARKET, OrderType.STOP, OrderType.TRAILING_STOP)  # `in`: identity first
_NETTING = PositionMode.NETTING
_FILLED = OrderStatus.FILLED
_MARKET = OrderType.MARKET
_new = object.__new__


class Broker:
    """Matches orders against quote paths and keeps the account (see module docstring)."""

    def __init__(
        self,
        books: dict[str, Book],
        settings: EngineSettings,
        clock_close_ns: I64,
        rollover_ns: I64,
        rollover_multiplier: F64,
        events: EventBus,
    ) -> None:
        self.books = books
        self.settings = settings
        self.clock_close_ns = clock_close_ns
        self.rollover_ns = rollover_ns
        self._rollover_list: list[int] = rollover_ns.tolist()
        self._close_at: Sequence[int] = elements(clock_close_ns)
        self.rollover_multiplier = rollover_multiplier
        self.events = events
        self.balance = settings.cash
        self.step = 0
        self.orders: list[Order] = []
        self.pending: dict[int, Order] = {}
        self.open_trades: dict[int, Trade] = {}
        self.closed: list[tuple[object, ...]] = []
        self.next_check_step = NEVER
        self.commissions_paid = 0.0
        self.swaps_paid = 0.0
        self.stopped_out = False
        # history of state changes, for rebuilding the equity curve after the run
        self.change_steps: list[int] = []
        self.change_balance: list[float] = []
        self.change_positions: list[tuple[str, float, float, float, float]] = []
        self._next_order_id = 1
        self._next_trade_id = 1
        self._rollover_index = len(rollover_ns)
        self._multi_check = False
        self.now_ns = -(2**62)
        self._stop_outs: list[Order] = []
        # one symbol quoted in the account currency: stop-out levels are exact and take the
        # short path after each fill (_single_stop_out)
        self._single = len(books) == 1 and all(
            b.instrument.quote_currency == settings.currency for b in books.values()
        )
        # plain market orders fill by the short path (engine/plain_fill.py) when it applies;
        # off only to check that both paths agree
        self.plain_fills = True
        self._commission_free = False
        self._slip: float | None = None
        self.use_settings(settings)
        # the engine's own next wake-up (scheduled callbacks), folded into next_check_step
        self.wake_step = NEVER
        self.rollover_steps: list[int] = clock_close_ns.searchsorted(
            rollover_ns, side="right"
        ).tolist()

    def use_settings(self, settings: EngineSettings) -> None:
        """Trade with ``settings`` from now on (``set_commission`` / ``set_slippage`` in
        ``initialize``), with what the fill paths derive from them."""
        self.settings = settings
        # no commission model: a fill's commission is 0.0 without calling it
        self._commission_free = isinstance(settings.commission, NoCommission)
        # the slippage of every market fill when it is a constant (the only symbol, fixed pips)
        self._slip = None
        if self._single and isinstance(settings.slippage, FixedSlippage):
            self._slip = settings.slippage.slip(next(iter(self.books.values())).instrument)

    # ----------------------------------------------------------------- valuation
    def open_pnl(self, book: Book, bid: float, ask: float, rate: float) -> float:
        p = book.position
        return ((p.long_units * bid - p.long_cost) + (p.short_cost - p.short_units * ask)) * rate

    def equity_at(self, step: int) -> float:
        """Balance plus open P&L marked at ``step``'s close."""
        equity = self.balance
        for book in self.books.values():
            p = book.position
            if p.long_units or p.short_units:  # open_pnl at the step's marks, inline
                equity += (
                    (p.long_units * book.mark_bid_at[step] - p.long_cost)
                    + (p.short_cost - p.short_units * book.mark_ask_at[step])
                ) * book.rate_at[step]
        return equity

    def used_margin(self) -> float:
        return sum(trade.margin for trade in self.open_trades.values())

    def _equity_at_quote(self, book: Book, k: int) -> float:
        equity = self.balance
        previous = max(self.step - 1, 0)
        for other in self.books.values():
            if other.position.long_units or other.position.short_units:
                if other is book:
                    equity += self.open_pnl(
                        book, book.bid_at[k], book.ask_at[k], book.fill_rate(self.step)
                    )
                else:
                    equity += self.open_pnl(
                        other,
                        other.mark_bid_at[previous],
                        other.mark_ask_at[previous],
                        other.rate_at[previous],
                    )
        return equity

    # ----------------------------------------------------------------- orders
    def submit(self, order: Order, decision_ns: int, *, immediate: bool = False) -> Order:
        """Accept an order decided at ``decision_ns``; it can first fill on the next quote.

        With ``immediate`` (trade on close) a market order fills on the last quote before the
        decision instead.
        """
        order.id = self._next_order_id
        self._next_order_id += 1
        self.orders.append(order)
        self.now_ns = max(self.now_ns, decision_ns)
        book = self.books[order.symbol]
        if decision_ns == self.clock_close_ns[self.step]:
            first = int(book.step_end[self.step])  # the same search, done once per run
        else:
            first = int(book.path.ts_ns.searchsorted(decision_ns, side="left"))
        if immediate and order.type is OrderType.MARKET and first > 0:
            first -= 1
        order.active_from = first
        order.cross_from = first + 1
        order.scanned_to = first
        if order.type is OrderType.TRAILING_STOP and math.isnan(order.level):
            reference = max(first - 1, 0)
            if order.is_buy:
                order.level = book.path.ask[reference] + order.trail_distance
            else:
                order.level = book.path.bid[reference] - order.trail_distance
        self.pending[order.id] = order
        if self.events.active:
            self.events.emit(
                OrderPlaced(order.id, order.symbol, order.units, order.type.value, decision_ns)
            )
        self._schedule(order, self.step)
        self._refresh_next_check()
        return order

    def submit_market(
        self, book: Book, symbol: str, units: float, reduce_first: bool, *, immediate: bool
    ) -> Order | None:
        """A plain good-till-cancelled market order of ``units`` (signed, rounded toward zero
        to the lot step) on ``book``, decided at the current step's close; ``None`` when it
        rounds to less than the minimum lot.

        :meth:`submit`'s outcome by fewer steps: a market order fills on its first quote, so
        its trigger (quote, price, step) is known at once and only lowers the next step the
        broker must check, instead of a rescan of every pending order. Strategies place one
        on almost every signal: the order is built here without ``Order.__init__`` (every
        other field keeps its class default) and marked :attr:`Order.plain`.
        """
        instrument = book.instrument
        lot = instrument.lot_step * instrument.contract_size
        count = math.floor(abs(units) / lot + 1e-9)  # _round_units, inline
        if not count:
            return None
        units = math.copysign(count * lot, units)
        if abs(units) < instrument.min_lot * instrument.contract_size - 1e-9:
            return None
        step = self.step
        created_ns: int = self._close_at[step]
        order = _new(Order)
        order.symbol = symbol
        order.units = units
        order.type = _MARKET
        order.created_ns = created_ns
        order.plain = True
        if reduce_first:
            order.reduce_first = True
        if self._multi_check:  # the next check depends on the step: the general path
            order.id = 0
            return self.submit(order, created_ns, immediate=immediate)
        order_id = order.id = self._next_order_id
        self._next_order_id = order_id + 1
        self.orders.append(order)
        if created_ns > self.now_ns:
            self.now_ns = created_ns
        if book._step_end is None:
            book._load()
        ends = book.step_end_at
        first: int = ends[step]
        if immediate and first > 0:
            first -= 1
        self.pending[order_id] = order
        if self.events.active:
            self.events.emit(OrderPlaced(order_id, symbol, units, _MARKET.value, created_ns))
        if first >= len(book.ts_at):  # decided on the last quote: it never fills
            order.active_from = order.scanned_to = first
            order.cross_from = first + 1
            order.event_step = NEVER
            return order
        # triggered at once: the scan positions of an untriggered order are never read
        order.trigger_k = first
        order.trigger_code = CODE_FILLED  # good till cancelled: it cannot expire first
        order.trigger_price = book.ask_at[first] if units > 0 else book.bid_at[first]
        fill_step = step + 1
        if immediate or not (fill_step < len(ends) and first < ends[fill_step]):
            fill_step = bisect_right(ends, first)
        order.event_step = fill_step
        if fill_step < self.next_check_step:
            self.next_check_step = fill_step
        return order

    def cancel(self, order: Order, status: OrderStatus, reason: str, ts_ns: int) -> None:
        if not order.is_open:
            return
        order.status = status
        order.reason = reason
        order.filled_ns = ts_ns
        self.pending.pop(order.id, None)
        if self.events.active:
            self.events.emit(OrderCancelled(order.id, order.symbol, status.value, reason, ts_ns))
        self._refresh_next_check()

    def _schedule(self, order: Order, step: int) -> None:
        """Scan the order's quotes at least through ``step`` unless it already triggered."""
        if order.trigger_k >= 0:  # already triggered (its quote path is built)
            return
        book = self.books[order.symbol]
        path = book.path
        n = len(path)
        needed = int(book.step_end[step]) if step < len(book.step_end) else n
        if order.scanned_to >= min(needed, n):
            return
        order.event_step = -1
        order_type = order.type
        if order_type is OrderType.MARKET:
            # fills on its first quote: no scan needed
            k = order.scanned_to
            order.trigger_k = k
            if path.ts_ns[k] >= order.expire_ns:
                order.trigger_code = CODE_EXPIRED
            else:
                order.trigger_code = CODE_FILLED
                order.trigger_price = float(path.ask[k] if order.is_buy else path.bid[k])
            return
        if order_type is not OrderType.TRAILING_STOP and book.extremes.unreachable(order):
            # the level is never traded again: only its expiry can still happen
            k = int(path.ts_ns.searchsorted(order.expire_ns, side="left"))
            k = max(k, order.scanned_to)
            if k < n:
                order.trigger_k = k
                order.trigger_code = CODE_EXPIRED
            else:
                order.scanned_to = n
            return
        while order.trigger_k < 0 and order.scanned_to < min(needed, n):
            k0 = order.scanned_to
            k1 = min(n, max(k0 + SCAN_CHUNK, needed))
            k, code, price, kind, level, cross_from = scan_order(
                path.ts_ns, path.bid, path.ask, path.continuous, k0, k1, order.cross_from,
                KIND_CODE[order.type], order.is_buy, order.stop_price, order.limit_price,
                order.trail_distance, order.level, order.expire_ns,
            )  # fmt: skip
            order.type = _KIND_FROM_CODE[kind]
            order.level = level
            order.cross_from = cross_from
            if code:
                order.trigger_k = k
                order.trigger_code = code
                order.trigger_price = price
            else:
                order.scanned_to = k1

    def _order_step(self, order: Order) -> int:
        """The step at which the order next needs the broker (cached until it is rescanned)."""
        if order.event_step >= 0:
            return order.event_step
        book = self.books[order.symbol]
        k = order.trigger_k
        if k >= 0:
            # usually the next step (a market order): check it before a binary search
            step_end = book.step_end_at  # loaded: the order has a trigger
            step = self.step + 1
            if not (0 < step < len(step_end) and step_end[step - 1] <= k < step_end[step]):
                step = book.step_of(k)
        elif order.scanned_to >= len(book.path):
            step = NEVER
        else:
            step = book.step_of(order.scanned_to)
        order.event_step = step
        return step

    def _all_pending(self) -> list[Order]:
        orders = list(self.pending.values())
        orders.extend(self._stop_outs)
        return orders

    def _refresh_next_check(self) -> None:
        nxt = self.wake_step
        for order in self.pending.values():
            step = self._order_step(order)
            if step < nxt:
                nxt = step
        for order in self._stop_outs:
            step = self._order_step(order)
            if step < nxt:
                nxt = step
        if self.open_trades and self._rollover_index < len(self.rollover_steps):
            step = self.rollover_steps[self._rollover_index]
            if step < nxt:
                nxt = step
        if self._multi_check and self.step + 1 < nxt:
            nxt = self.step + 1
        self.next_check_step = nxt

    # ----------------------------------------------------------------- processing
    def process_through(self, step: int) -> None:
        """Apply every fill, expiry, rollover and stop-out that happens up to ``step``'s close."""
        self.step = step
        if self._multi_check:
            self._update_stop_out()
        step_close: int = self._close_at[step]
        rollovers = self._rollover_list
        plain = self.plain_fills and self._single and not self.events.active
        netting = self.settings.position_mode is _NETTING
        pending = self.pending
        if plain and len(pending) == 1 and not self._stop_outs:
            # the usual wake of a busy strategy: one plain market order to fill, nothing else
            # due before it; the general loop below does the same in more steps
            only = next(iter(pending.values()))
            k = only.trigger_k
            if (
                only.plain
                and 0 <= k < self.books[only.symbol].step_end_at[step]
                and only.trigger_code == CODE_FILLED
                and (netting or only.reduce_first)
                and not (
                    self.open_trades
                    and self._rollover_index < len(rollovers)
                    and rollovers[self._rollover_index] <= self.books[only.symbol].ts_at[k]
                )
            ):
                fill_plain_market(self, only)
                if not pending and not self._stop_outs:
                    index = self._rollover_index
                    if not self.open_trades or index >= len(rollovers):
                        self.next_check_step = self.wake_step  # _refresh_next_check
                        return
                    if rollovers[index] >= step_close:
                        rollover_step = self.rollover_steps[index]
                        wake = self.wake_step
                        self.next_check_step = rollover_step if rollover_step < wake else wake
                        return
        while True:
            best: Order | None = None
            best_key: tuple[int, int] = (NEVER, 0)
            for order in self._all_pending() if self._stop_outs else pending.values():
                if order.trigger_k < 0:
                    self._schedule(order, step)
                k = order.trigger_k
                if k >= 0:
                    book = self.books[order.symbol]  # its path is built: it has a trigger
                    if k < book.step_end_at[step]:
                        key = (book.ts_at[k], -1 if order.stop_out else order.id)
                        if key < best_key:
                            best, best_key = order, key
            if self.open_trades and self._rollover_index < len(rollovers):
                r = rollovers[self._rollover_index]
                if r < step_close and r <= best_key[0]:
                    self._apply_rollover(r)
                    continue
            if best is None:
                break
            if (
                plain
                and best.plain
                and best.trigger_code == CODE_FILLED
                and (netting or best.reduce_first)
            ):  # when the short path is exact: see engine/plain_fill.py
                fill_plain_market(self, best)
            else:
                self._execute(best)
        self._refresh_next_check()

    def _execute(self, order: Order) -> None:
        book = self.books[order.symbol]
        k = order.trigger_k
        ts: int = book.ts_at[k]
        self.now_ns = max(self.now_ns, ts)
        if order.trigger_code == CODE_EXPIRED:
            self.cancel(order, OrderStatus.EXPIRED, "time in force ended", ts)
            return
        price = order.trigger_price
        if order.type in _SLIPPED:
            slip = self.settings.slippage.slip(book.instrument)
            price = price + slip if order.is_buy else price - slip
        if order.stop_out:
            book.stop_out = None
            self._stop_outs = [o for o in self._stop_outs if o is not order]
            self._stop_out(book, k, ts, price)
            return
        self.pending.pop(order.id, None)
        if order.closes_trade is not None:
            trade = self.open_trades.get(order.closes_trade)
            if trade is None:
                self.cancel(order, OrderStatus.CANCELLED, "trade already closed", ts)
                return
            order.units = -trade.units
            self._fill(order, book, k, ts, price, close_only=[trade])
        else:
            self._fill(order, book, k, ts, price, close_only=None)
        for sibling_id in order.siblings:
            sibling = self.pending.get(sibling_id)
            if sibling is not None:
                self.cancel(sibling, OrderStatus.CANCELLED, "other exit filled", ts)

    def _fill(
        self,
        order: Order,
        book: Book,
        k: int,
        ts: int,
        price: float,
        close_only: list[Trade] | None,
    ) -> None:
        instrument = book.instrument
        step = self.step
        rate = book.rate_at[step - 1 if step > 0 else 0]  # book.fill_rate(step), inline
        remaining = order.units
        closing: list[tuple[Trade, float]] = []
        if close_only is not None:
            closing = [(t, -t.units) for t in close_only]
            remaining = 0.0
        elif self.settings.position_mode is _NETTING or order.reduce_first:
            for trade in book.trades:
                if remaining == 0 or (trade.units > 0) == (remaining > 0):
                    continue
                part = -trade.units if abs(trade.units) <= abs(remaining) else remaining
                closing.append((trade, part))
                remaining -= part
                if abs(remaining) < 1e-9:
                    remaining = 0.0
        # margin check for the part that adds exposure
        if remaining:
            released = 0.0
            for t, q in closing:
                released += t.margin * abs(q) / abs(t.units)
            margin_rate = book.margin_rate
            required = abs(remaining) * price * rate * margin_rate
            if self._single:  # _equity_at_quote and used_margin of the only book, inline
                equity = self.balance
                p = book.position
                if p.long_units or p.short_units:
                    equity += self.open_pnl(book, book.bid_at[k], book.ask_at[k], rate)
                used = (sum([t.margin for t in book.trades]) if book.trades else 0) - released
            else:
                equity = self._equity_at_quote(book, k)
                used = self.used_margin() - released
            free = equity - used
            level = math.inf if used + required <= 0 else equity / (used + required) * 100.0
            if required > free or level < self.settings.margin_call_pct:
                order.status = OrderStatus.REJECTED
                order.reason = (
                    f"not enough free margin: needs {required:.2f}, free {free:.2f}"
                    if required > free
                    else f"margin level would fall to {level:.1f}%"
                )
                order.filled_ns = ts
                if self.events.active:
                    self.events.emit(
                        OrderCancelled(order.id, order.symbol, "rejected", order.reason, ts)
                    )
                return
        total_units = abs(remaining)
        for _, q in closing:
            total_units += abs(q)
        commission = self.settings.commission.cost(total_units, price, instrument, rate)
        for trade, part in closing:
            share = commission * abs(part) / total_units if total_units else 0.0
            self._close_part(trade, book, part, price, ts, k, share, rate)
        if remaining:
            share = commission * abs(remaining) / total_units
            self._open_trade(order, book, remaining, price, ts, k, share, rate)
        order.status = _FILLED
        order.filled_ns = ts
        order.fill_price = price
        order.commission = commission
        self.commissions_paid += commission
        book.position.update(book.trades)
        self._record_change(book)
        if self.events.active:
            self.events.emit(
                OrderFilled(order.id, order.symbol, order.units, price, commission, ts)
            )
            p = book.position
            self.events.emit(PositionChanged(order.symbol, p.units, p.average_price, ts))
        if self._single:
            self._single_stop_out(book, k)
        else:
            self._update_stop_out(book, k)

    def _open_trade(
        self,
        order: Order,
        book: Book,
        units: float,
        price: float,
        ts: int,
        k: int,
        commission: float,
        rate: float,
    ) -> None:
        trade = Trade(
            id=self._next_trade_id,
            symbol=order.symbol,
            units=units,
            entry_price=price,
            entry_ns=ts,
            entry_k=k,
            commission=commission,
            margin=abs(units) * price * rate * book.margin_rate,
        )
        self._next_trade_id += 1
        self.balance -= commission
        book.trades.append(trade)
        self.open_trades[trade.id] = trade
        if len(self.open_trades) == 1:
            self._rollover_index = bisect_right(self._rollover_list, ts)
        self._attach_exits(order, book, trade, price, k)

    def _attach_exits(self, order: Order, book: Book, trade: Trade, price: float, k: int) -> None:
        if (
            order.stop_loss != order.stop_loss  # NaN: no exit of this kind (cheap check)
            and order.take_profit != order.take_profit
            and order.stop_loss_pips != order.stop_loss_pips
            and order.take_profit_pips != order.take_profit_pips
            and order.trailing_stop_pips != order.trailing_stop_pips
        ):
            return
        pip = book.instrument.pip_size
        sign = 1.0 if trade.units > 0 else -1.0
        stop_loss = order.stop_loss
        if not math.isnan(order.stop_loss_pips):
            stop_loss = price - sign * order.stop_loss_pips * pip
        take_profit = order.take_profit
        if not math.isnan(order.take_profit_pips):
            take_profit = price + sign * order.take_profit_pips * pip
        trade.stop_loss, trade.take_profit = stop_loss, take_profit
        exits: list[Order] = []
        units = -trade.units
        if not math.isnan(stop_loss):
            exits.append(self._exit_order(trade, units, OrderType.STOP, stop_price=stop_loss))
        if not math.isnan(take_profit):
            exits.append(self._exit_order(trade, units, OrderType.LIMIT, limit_price=take_profit))
        if not math.isnan(order.trailing_stop_pips):
            distance = order.trailing_stop_pips * pip
            exit_order = self._exit_order(trade, units, OrderType.TRAILING_STOP)
            exit_order.trail_distance = distance
            reference = book.bid_at[k] if trade.units > 0 else book.ask_at[k]
            exit_order.level = reference - sign * distance
            exits.append(exit_order)
        ids = []
        for exit_order in exits:
            exit_order.id = self._next_order_id
            self._next_order_id += 1
            ids.append(exit_order.id)
        for exit_order in exits:
            exit_order.siblings = tuple(i for i in ids if i != exit_order.id)
            # attached exits watch the price from the quote after the fill; the path from the
            # fill to that quote is continuous, so a level crossed in between fills exactly.
            exit_order.active_from = exit_order.scanned_to = exit_order.cross_from = k + 1
            self.orders.append(exit_order)
            self.pending[exit_order.id] = exit_order
            trade.exit_orders.append(exit_order.id)
            self._schedule(exit_order, self.step)

    def _exit_order(
        self,
        trade: Trade,
        units: float,
        kind: OrderType,
        *,
        stop_price: float = math.nan,
        limit_price: float = math.nan,
    ) -> Order:
        return Order(
            id=0,
            symbol=trade.symbol,
            units=units,
            type=kind,
            created_ns=trade.entry_ns,
            stop_price=stop_price,
            limit_price=limit_price,
            closes_trade=trade.id,
            tag={OrderType.STOP: "stop_loss", OrderType.LIMIT: "take_profit"}.get(
                kind, "trailing_stop"
            ),
        )

    def _close_part(
        self,
        trade: Trade,
        book: Book,
        part: float,
        price: float,
        ts: int,
        k: int,
        exit_commission: float,
        rate: float,
    ) -> None:
        """Close ``part`` units (sign opposite to the trade) of ``trade`` at ``price``."""
        fraction = min(abs(part) / abs(trade.units), 1.0)
        closed_units = -part
        gross = closed_units * (price - trade.entry_price) * rate
        entry_commission = trade.commission * fraction
        swap = trade.swap * fraction
        pnl = gross - entry_commission - exit_commission + swap
        self.balance += gross - exit_commission
        pip = book.instrument.pip_size
        pnl_pips = (price - trade.entry_price) / pip * (1.0 if closed_units > 0 else -1.0)
        notional = abs(closed_units) * trade.entry_price * rate
        self.closed.append(
            (
                trade.symbol,
                closed_units,
                trade.entry_ns,
                ts,
                trade.entry_price,
                price,
                gross,
                entry_commission + exit_commission,
                swap,
                pnl,
                pnl_pips,
                pnl / notional * 100.0 if notional else 0.0,
                trade.entry_k,
                k,
                trade.stop_loss,
                trade.take_profit,
            )
        )
        if fraction >= 1.0 - 1e-12:
            book.trades.remove(trade)
            del self.open_trades[trade.id]
            for order_id in trade.exit_orders:
                exit_order = self.pending.get(order_id)
                if exit_order is not None:
                    self.cancel(exit_order, OrderStatus.CANCELLED, "trade closed", ts)
        else:
            trade.units += part
            trade.commission -= entry_commission
            trade.swap -= swap
            trade.margin *= 1.0 - fraction

    def close_all(self, reason: str, ts_ns: int) -> None:
        """Close every open trade at the last quote before ``ts_ns`` (end of the run)."""
        for book in self.books.values():
            if not book.trades:
                continue
            k = int(book.path.ts_ns.searchsorted(ts_ns, side="left")) - 1
            k = max(k, 0)
            units = -sum(t.units for t in book.trades)
            order = Order(0, book.instrument.symbol, units, OrderType.MARKET, ts_ns, tag=reason)
            order.id = self._next_order_id
            self._next_order_id += 1
            self.orders.append(order)
            price = float(book.path.ask[k] if units > 0 else book.path.bid[k])
            self._fill(order, book, k, int(book.path.ts_ns[k]), price, close_only=list(book.trades))

    # ----------------------------------------------------------------- swaps, margin
    def _apply_rollover(self, r: int) -> None:
        multiplier = float(self.rollover_multiplier[self._rollover_index])
        self.now_ns = max(self.now_ns, r)
        self._rollover_index += 1
        for book in self.books.values():
            instrument = book.instrument
            if not book.trades or (
                instrument.swap_long_pips == 0 and instrument.swap_short_pips == 0
            ):
                continue
            rate = book.fill_rate(self.step)
            for trade in book.trades:
                pips = instrument.swap_long_pips if trade.units > 0 else instrument.swap_short_pips
                amount = pips * instrument.pip_size * abs(trade.units) * multiplier * rate
                trade.swap += amount
                self.balance += amount
                self.swaps_paid -= amount
            self._record_change(book)
        self._update_stop_out()

    def _update_stop_out(self, filled: Book | None = None, filled_k: int = -1) -> None:
        """Place, per symbol, the price at which the margin level reaches the stop-out level.

        Exact for one symbol quoted in the account currency; with several symbols or converted
        P&L the levels assume the other prices stay put, so they are recomputed every step.
        A level that the remaining quotes never reach places nothing (checked in O(1)).
        """
        for order in self._stop_outs:
            self.books[order.symbol].stop_out = None
        self._stop_outs = []
        if not self.open_trades:
            self._multi_check = False
            return
        level = self.settings.stop_out_pct / 100.0
        used = 0.0
        for trade in self.open_trades.values():
            used += trade.margin
        open_books = [b for b in self.books.values() if b.trades]
        currency = self.settings.currency
        self._multi_check = len(open_books) > 1 or (
            open_books[0].instrument.quote_currency != currency
        )
        if used <= 0 or level <= 0:
            return
        previous = self.step - 1 if self.step > 0 else 0
        for book in open_books:
            p = book.position
            net = p.long_units - p.short_units
            if abs(net) < 1e-12:
                continue
            rate = book.fill_rate(self.step)
            others = 0.0
            for o in open_books:
                if o is not book:
                    others += self.open_pnl(
                        o, o.mark_bid_at[previous], o.mark_ask_at[previous], o.rate_at[previous]
                    )
            spread = book.mark_ask_at[previous] - book.mark_bid_at[previous]
            constant = self.balance + others + (p.short_cost - p.long_cost) * rate
            # equity(bid) = constant + rate * (long * bid - short * (bid + spread)); for a net
            # short, in ask terms: equity = constant + rate * (long * (ask - spread) - short * ask)
            carry = p.short_units if net > 0 else p.long_units
            trigger = (level * used - constant + carry * spread * rate) / (net * rate)
            first = self._first_after_now(book, filled_k if book is filled else -1)
            # most stop-out levels are never reached: skip building their order
            if book.extremes.stop_unreachable(first, net < 0, trigger):
                continue
            order = Order(0, book.instrument.symbol, -1.0 if net > 0 else 1.0, OrderType.STOP, 0)
            order.stop_price = trigger
            order.stop_out = True
            order.id = -1
            order.active_from = order.scanned_to = order.cross_from = first
            book.stop_out = order
            self._stop_outs.append(order)

    def _single_stop_out(self, book: Book, filled_k: int) -> None:
        """:meth:`_update_stop_out` after a fill at quote ``filled_k`` of the only book, which
        is quoted in the account currency: the same level by the same arithmetic, without the
        loops over books (it runs after every fill)."""
        if self._stop_outs:
            book.stop_out = None
            self._stop_outs = []
        trades = book.trades  # every open trade (the only book)
        if not trades:
            return
        level = self.settings.stop_out_pct / 100.0
        used = 0.0
        for trade in trades:
            used += trade.margin
        if used <= 0 or level <= 0:
            return
        p = book.position
        net = p.long_units - p.short_units
        if abs(net) < 1e-12:
            return
        step = self.step
        previous = step - 1 if step > 0 else 0
        rate = book.rate_at[previous]  # book.fill_rate(step)
        spread = book.mark_ask_at[previous] - book.mark_bid_at[previous]
        constant = self.balance + 0.0 + (p.short_cost - p.long_cost) * rate
        carry = p.short_units if net > 0 else p.long_units
        trigger = (level * used - constant + carry * spread * rate) / (net * rate)
        self._place_single_stop_out(book, net, trigger, filled_k)

    def _place_single_stop_out(self, book: Book, net: float, trigger: float, filled_k: int) -> None:
        """Watch for the margin level of the only book's ``net`` position reaching the
        stop-out level at price ``trigger``, from the quote after the fill at ``filled_k`` —
        unless no later price reaches it (O(1), the usual case)."""
        # _first_after_now and Extremes.stop_unreachable, inline (this runs after every fill)
        ts = book.ts_at  # loaded: a fill happened
        now = self.now_ns
        if (
            filled_k >= 0
            and ts[filled_k] <= now
            and (filled_k + 1 == len(ts) or ts[filled_k + 1] > now)
        ):
            first = filled_k + 1
        else:
            first = bisect_right(ts, now)
        extremes = book._extremes or book.extremes
        block = first // Extremes.BLOCK
        if block >= len(extremes._min_bid):
            return
        if net < 0:
            if extremes._max_ask[block] < trigger:
                return
        elif extremes._min_bid[block] > trigger:
            return
        order = Order(0, book.instrument.symbol, -1.0 if net > 0 else 1.0, OrderType.STOP, 0)
        order.stop_price = trigger
        order.stop_out = True
        order.id = -1
        order.active_from = order.scanned_to = order.cross_from = first
        book.stop_out = order
        self._stop_outs.append(order)

    def _first_after_now(self, book: Book, hint: int) -> int:
        """The first quote of ``book`` after ``now_ns``; usually ``hint + 1`` when the last
        fill happened at quote ``hint`` (checked, else a binary search)."""
        if book._step_end is None:
            book._load()
        ts = book.ts_at
        now = self.now_ns
        if hint >= 0 and ts[hint] <= now and (hint + 1 == len(ts) or ts[hint + 1] > now):
            return hint + 1
        return bisect_right(ts, now)

    def _stop_out(self, book: Book, k: int, ts: int, price_here: float) -> None:
        """Close everything at market: the triggering symbol at the price the level was hit."""
        self.stopped_out = True
        for other in self.books.values():
            if not other.trades:
                continue
            kk = (
                k
                if other is book
                else max(int(other.path.ts_ns.searchsorted(ts, side="right")) - 1, 0)
            )
            units = -sum(t.units for t in other.trades)
            order = Order(0, other.instrument.symbol, units, OrderType.MARKET, ts, tag="stop_out")
            order.id = self._next_order_id
            self._next_order_id += 1
            self.orders.append(order)
            price = float(other.path.ask[kk] if units > 0 else other.path.bid[kk])
            if other is book:
                price = price_here
            self._fill(order, other, kk, ts, price, close_only=list(other.trades))
            order.reason = "margin level reached the stop-out level"
        for book_ in self.books.values():
            book_.stop_out = None
        self._stop_outs = []

    def _record_change(self, book: Book) -> None:
        p = book.position
        self.change_steps.append(self.step)
        self.change_balance.append(self.balance)
        self.change_positions.append(
            (book.instrument.symbol, p.long_units, p.long_cost, p.short_units, p.short_cost)
        )
