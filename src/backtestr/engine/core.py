"""The engine: the clock, the loop that calls the strategy, and the trading interface it offers.

One step is one bar of the strategy timeframe on the run's clock. A step ``i``:

1. the broker applies every fill, expiry, swap and stop-out whose quote falls in the step;
2. the scheduled callbacks due at this step run, then the per-bar callback (``handle_data``),
   which sees only bars closed by the step's close;
3. orders it places can first fill on the first quote after that close (or, with
   ``trade_on_close``, market orders fill on the step's last quote).

Python runs only in step 2; the broker works in compiled kernels and, thanks to its lookahead
scans, is not even entered on steps where nothing can happen.
"""

from __future__ import annotations

import gc
import math
import threading
from bisect import bisect_left
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from backtestr.engine.book import Book
from backtestr.engine.broker import NEVER, Broker
from backtestr.engine.events import BarClosed, EquityUpdated, EventBus
from backtestr.engine.history import Series
from backtestr.engine.market import MarketData, QuotePath, bar_close_times, build_quote_path
from backtestr.engine.orders import Order, OrderStatus, OrderType, TimeInForce
from backtestr.engine.positions import Position
from backtestr.engine.settings import EngineSettings, ModellingMode
from backtestr.engine.step_map import bar_marks, quote_step_ends
from backtestr.engine.views import elements
from backtestr.errors import BacktestrError, ConfigError, did_you_mean
from backtestr.model import BarArrays, Timeframe, TradingDay
from backtestr.model.arrays import F64, I64

__all__ = ["Engine", "RunCancelledError", "RunControl"]

FIELDS = ("open", "high", "low", "close", "volume", "price")
# allocations between young-generation collections during a long run (Python's default: 700)
_RUN_GC_THRESHOLD = 20_000


class RunCancelledError(BacktestrError):
    """The run was cancelled before it finished."""


class RunControl:
    """Thread-safe cancellation of a running engine (checked every few hundred steps)."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def cancel(self) -> None:
        self._event.set()

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()


@dataclass(frozen=True, slots=True)
class _Clock:
    open_ns: I64
    close_ns: I64


def rollovers(start_ns: int, end_ns: int, trading_day: TradingDay) -> tuple[I64, F64]:
    """Daily rollover instants (start of each trading day, Monday to Friday) and multipliers.

    Holding over Wednesday's rollover pays three days, for the weekend.
    """
    zone = trading_day.timezone
    start = pd.Timestamp(start_ns, tz="UTC").tz_convert(zone).normalize() - pd.Timedelta(days=1)
    end = pd.Timestamp(end_ns, tz="UTC").tz_convert(zone).normalize() + pd.Timedelta(days=2)
    days = pd.date_range(start.tz_localize(None), end.tz_localize(None), freq="D")
    local = days + pd.Timedelta(hours=trading_day.start.hour, minutes=trading_day.start.minute)
    local = local[local.day_of_week < 5]
    stamps = local.tz_localize(zone, ambiguous="NaT", nonexistent="shift_forward")
    stamps = stamps[np.asarray(stamps.notna())]
    ns = stamps.tz_convert("UTC").asi8.astype(np.int64)
    multiplier = np.where(stamps.day_of_week == 2, 3.0, 1.0)
    keep = (ns >= start_ns) & (ns <= end_ns)
    return ns[keep], multiplier[keep]


class Engine:
    """A backtest in progress over ``market`` with ``settings``.

    The strategy layer drives it: it reads bars through :meth:`series` / :meth:`bars_closed`,
    trades through :meth:`place_order` and the sizing helpers, and advances time with
    :meth:`run` or step by step (:meth:`run_steps`, :meth:`run_until`).
    """

    def __init__(
        self,
        market: MarketData,
        settings: EngineSettings,
        *,
        events: EventBus | None = None,
        control: RunControl | None = None,
    ) -> None:
        self.market = market
        self.settings = settings
        self.events = events or EventBus()
        self.control = control or RunControl()
        self.timeframe = market.timeframe
        self.symbols = market.symbols
        opens = _union([f.bars.ts_ns for f in market.feeds.values()])
        duration = self.timeframe.duration_ns
        if duration is not None:
            closes = opens + np.int64(duration)
        else:
            closes = bar_close_times(
                BarArrays.from_ohlc(opens, *([np.zeros(len(opens))] * 4)), self.timeframe
            )
        self.clock = _Clock(opens, closes)
        self._close_at: Sequence[int] = elements(closes)
        self.n_steps = len(opens)
        self.step = 0  # the step being decided (the strategy's "now")
        self.next_step = 0  # the next step to run
        self._series: dict[tuple[str, str, Timeframe], Series] = {}
        self._ends: dict[tuple[str, Timeframe], Sequence[int]] = {}
        self._fresh: dict[str, list[bool] | None] = {}
        self._bars: dict[tuple[str, Timeframe], BarArrays] = {}
        books = self._build_books()
        first = market.feeds[self.symbols[0]].instrument
        roll_ns, roll_mult = rollovers(int(opens[0]), int(closes[-1]), first.trading_day)
        self.broker = Broker(books, settings, closes, roll_ns, roll_mult, self.events)
        self.records: list[tuple[int, str, float]] = []
        self._scheduled: list[tuple[int, int, Callable[[], None]]] = []
        self._scheduled_pos = 0
        # the steps at which the per-bar callback runs (None: every step); see call_bar_at
        self._bar_steps: list[int] | None = None
        self.finished = False
        self._running = False  # inside run(): "now" is self.step, not self.next_step

    # ----------------------------------------------------------------- setup
    def _build_books(self) -> dict[str, Book]:
        settings = self.settings
        books: dict[str, Book] = {}
        marks: dict[str, tuple[F64, F64]] = {}
        quote_builders: dict[str, Callable[[], tuple[QuotePath, I64]]] = {}
        built: dict[str, tuple[QuotePath, I64]] = {}  # ticks mode needs the path for its marks
        for symbol, feed in self.market.feeds.items():
            quotes = self._quote_builder(symbol)
            bars = feed.bars
            self._bars[(symbol, self.timeframe)] = bars
            mapped = bar_marks(
                bars, self.clock.open_ns, settings.spread_pips * feed.instrument.pip_size
            )
            # the clock's own symbol has closed bar i + 1 at step i: a range says so without
            # a memory read per look-up (indicators and windows read it on every call)
            self._ends[(symbol, self.timeframe)] = (
                range(1, len(bars.ts_ns) + 1)
                if bars.ts_ns is self.clock.open_ns
                else elements(mapped.ends)
            )
            self._fresh[symbol] = None if bool(mapped.fresh.all()) else mapped.fresh.tolist()
            if settings.mode is ModellingMode.TICKS:
                path, step_end = built[symbol] = quotes()
                last = np.maximum(step_end - 1, 0)
                mark_bid = path.bid[last].copy()
                mark_ask = path.ask[last].copy()
                mark_bid[step_end == 0] = np.nan
                mark_ask[step_end == 0] = np.nan
            else:  # already carried forward over gaps
                mark_bid, mark_ask = mapped.bid, mapped.ask
            marks[symbol] = (_ffill(mark_bid), _ffill(mark_ask))
            quote_builders[symbol] = quotes
        for symbol, feed in self.market.feeds.items():
            margin_rate = (
                1.0 / settings.leverage
                if settings.leverage is not None
                else feed.instrument.margin_rate
            )
            books[symbol] = Book(
                instrument=feed.instrument,
                quotes=quote_builders[symbol],
                mark_bid=marks[symbol][0],
                mark_ask=marks[symbol][1],
                rate=self._conversion(symbol, marks),
                margin_rate=margin_rate,
                position=Position(symbol, feed.instrument.contract_size),
            )
            if symbol in built:
                books[symbol]._load(built[symbol])
        return books

    def _quote_builder(self, symbol: str) -> Callable[[], tuple[QuotePath, I64]]:
        feed = self.market.feeds[symbol]
        settings = self.settings

        def build() -> tuple[QuotePath, I64]:
            path = build_quote_path(feed, settings.mode, self.timeframe, settings.spread_pips)
            return path, quote_step_ends(path.ts_ns, self.clock.close_ns)

        return build

    def _conversion(self, symbol: str, marks: dict[str, tuple[F64, F64]]) -> F64:
        account = self.settings.currency
        instrument = self.market.feeds[symbol].instrument
        quote = instrument.quote_currency
        if quote == account:
            return np.ones(self.n_steps)
        candidates = [(quote + account, False), (account + quote, True)]
        for pair, invert in candidates:
            if pair in marks:
                bid, ask = marks[pair]
                mid = _bfill((bid + ask) / 2.0)
                return 1.0 / mid if invert else mid
        raise ConfigError(
            f"P&L of {symbol} is in {quote} but the account is in {account}: add "
            f"{quote}{account} or {account}{quote} to the run's symbols so it can be converted."
        )

    # ----------------------------------------------------------------- data access
    @property
    def now_ns(self) -> int:
        """The decision time of the current step: its bar's close."""
        return int(self.clock.close_ns[self.step])

    def bars(self, symbol: str, timeframe: Timeframe) -> BarArrays:
        key = (symbol, timeframe)
        bars = self._bars.get(key)
        if bars is None:
            self._check_symbol(symbol)
            loader = self.market.bar_loader
            if loader is None:
                raise ConfigError(
                    f"No {timeframe} bars of {symbol} in this run: only {self.timeframe} was "
                    "loaded (run from the store, or pass a bar_loader in MarketData)."
                )
            bars = self._bars[key] = loader(symbol, timeframe)
        return bars

    def ends(self, symbol: str, timeframe: Timeframe) -> Sequence[int]:
        """Per step, how many bars of ``symbol``/``timeframe`` have closed by the step's close."""
        key = (symbol, timeframe)
        ends = self._ends.get(key)
        if ends is None:
            bars = self.bars(symbol, timeframe)
            closes = bar_close_times(bars, timeframe)
            ends = self._ends[key] = elements(
                np.searchsorted(closes, self.clock.close_ns, side="right")
            )
        return ends

    def series(self, symbol: str, field: str, timeframe: Timeframe | None = None) -> Series:
        tf = timeframe or self.timeframe
        key = (symbol, field, tf)
        series = self._series.get(key)
        if series is None:
            if field not in FIELDS:
                raise ConfigError(
                    f"Unknown field '{field}': use one of {', '.join(FIELDS)}."
                    + did_you_mean(field, FIELDS)
                )
            bars = self.bars(symbol, tf)
            column = bars.close if field == "price" else getattr(bars, field)
            series = self._series[key] = Series(
                np.ascontiguousarray(column, dtype=np.float64), field
            )
        return series

    def fresh(self, symbol: str) -> list[bool] | None:
        """Per step, whether the symbol has a bar at that step (``None``: always)."""
        self._check_symbol(symbol)
        return self._fresh[symbol]

    def _check_symbol(self, symbol: str) -> None:
        if symbol not in self.market.feeds:
            raise ConfigError(
                f"Symbol '{symbol}' is not loaded in this run (loaded: "
                f"{', '.join(self.symbols)})." + did_you_mean(symbol, self.symbols)
            )

    def price(self, symbol: str, *, buy: bool) -> float:
        """The price a market order would see now: the ask to buy, the bid to sell."""
        self._check_symbol(symbol)
        book = self.broker.books[symbol]
        return book.mark_ask_at[self.step] if buy else book.mark_bid_at[self.step]

    def rate(self, symbol: str) -> float:
        return self.broker.books[symbol].rate_at[self.step]

    # ----------------------------------------------------------------- account
    @property
    def equity(self) -> float:
        return self.broker.equity_at(self.step)

    @property
    def balance(self) -> float:
        return self.broker.balance

    def position(self, symbol: str) -> Position:
        self._check_symbol(symbol)
        return self.broker.books[symbol].position

    # ----------------------------------------------------------------- trading
    def place_market_order(
        self, symbol: str, units: float, *, reduce_first: bool = False
    ) -> Order | None:
        """A plain good-till-cancelled market order of ``units`` (signed), rounded to the lot
        step: what :meth:`place_order` does with no options, by its shortest path (strategies
        place one on almost every signal)."""
        book = self.broker.books.get(symbol)
        if book is None:
            self._check_symbol(symbol)  # raises: the symbol is not in the run
            book = self.broker.books[symbol]
        broker = self.broker
        broker.step = self.step
        return broker.submit_market(
            book, symbol, units, reduce_first, immediate=self.settings.trade_on_close
        )

    def place_order(
        self,
        symbol: str,
        units: float,
        *,
        limit_price: float | None = None,
        stop_price: float | None = None,
        trailing_stop_pips: float | None = None,
        stop_loss: float | None = None,
        take_profit: float | None = None,
        stop_loss_pips: float | None = None,
        take_profit_pips: float | None = None,
        time_in_force: TimeInForce | str = TimeInForce.GTC,
        expire_ns: int | None = None,
        closes_trade: int | None = None,
        reduce_first: bool = False,
        tag: str = "",
    ) -> Order | None:
        """Place an order of ``units`` (signed: positive buys), rounded to the lot step.

        The order type follows from the prices given: none → market, ``limit_price`` → limit,
        ``stop_price`` → stop, both → stop-limit, ``trailing_stop_pips`` alone → trailing stop.
        Returns ``None`` when the rounded size is zero.
        """
        plain = (
            limit_price is None
            and stop_price is None
            and trailing_stop_pips is None
            and stop_loss is None
            and take_profit is None
            and stop_loss_pips is None
            and take_profit_pips is None
            and closes_trade is None
            and not tag
            and (time_in_force is TimeInForce.GTC or time_in_force == "gtc")
        )
        if plain:
            return self.place_market_order(symbol, units, reduce_first=reduce_first)
        self._check_symbol(symbol)
        instrument = self.market.feeds[symbol].instrument
        if closes_trade is None:
            units = _round_units(units, instrument.lot_step * instrument.contract_size)
            if units == 0.0:
                return None
            minimum = instrument.min_lot * instrument.contract_size
            if abs(units) < minimum - 1e-9:
                return None
        tif = (
            time_in_force
            if type(time_in_force) is TimeInForce
            else TimeInForce.parse(time_in_force)
        )
        if limit_price is not None and stop_price is not None:
            kind = OrderType.STOP_LIMIT
        elif limit_price is not None:
            kind = OrderType.LIMIT
        elif stop_price is not None:
            kind = OrderType.STOP
        else:
            kind = OrderType.MARKET
        trail = math.nan
        if trailing_stop_pips is not None and kind is OrderType.MARKET and closes_trade is not None:
            kind = OrderType.TRAILING_STOP
            trail = trailing_stop_pips * instrument.pip_size
        now_ns = int(self.clock.close_ns[self.step])
        expiry = NEVER
        if tif is TimeInForce.DAY:
            roll = self.broker.rollover_ns
            position = int(np.searchsorted(roll, now_ns, side="right"))
            expiry = int(roll[position]) if position < len(roll) else NEVER
        elif tif is TimeInForce.GTD:
            if expire_ns is None:
                raise ConfigError("time_in_force='gtd' needs an expiry time (expire=...)")
            expiry = expire_ns
        if (
            kind is OrderType.MARKET
            and stop_loss is None
            and take_profit is None
            and stop_loss_pips is None
            and take_profit_pips is None
            and trailing_stop_pips is None
        ):
            # the common plain market order: every price field keeps its NaN default
            order = Order(
                0,
                symbol,
                float(units),
                kind,
                now_ns,
                time_in_force=tif,
                expire_ns=expiry,
                closes_trade=closes_trade,
                reduce_first=reduce_first,
                tag=tag,
            )
            self.broker.step = self.step
            return self.broker.submit(order, now_ns, immediate=self.settings.trade_on_close)
        nan = math.nan
        order = Order(
            id=0,
            symbol=symbol,
            units=float(units),
            type=kind,
            created_ns=now_ns,
            limit_price=nan if limit_price is None else float(limit_price),
            stop_price=nan if stop_price is None else float(stop_price),
            trail_distance=trail,
            time_in_force=tif,
            expire_ns=expiry,
            stop_loss=nan if stop_loss is None else float(stop_loss),
            take_profit=nan if take_profit is None else float(take_profit),
            stop_loss_pips=nan if stop_loss_pips is None else float(stop_loss_pips),
            take_profit_pips=nan if take_profit_pips is None else float(take_profit_pips),
            trailing_stop_pips=(
                nan
                if trailing_stop_pips is None or kind is OrderType.TRAILING_STOP
                else float(trailing_stop_pips)
            ),
            closes_trade=closes_trade,
            reduce_first=reduce_first,
            tag=tag,
        )
        self.broker.step = self.step
        immediate = self.settings.trade_on_close and kind is OrderType.MARKET
        return self.broker.submit(order, now_ns, immediate=immediate)

    def cancel_order(self, order: Order | int) -> None:
        order_id = order if isinstance(order, int) else order.id
        pending = self.broker.pending.get(order_id)
        if pending is not None:
            self.broker.cancel(pending, OrderStatus.CANCELLED, "cancelled by strategy", self.now_ns)

    def open_orders(self, symbol: str | None = None) -> list[Order]:
        return [
            o
            for o in self.broker.pending.values()
            if (symbol is None or o.symbol == symbol) and o.closes_trade is None
        ]

    def pending_market_units(self, symbol: str) -> float:
        if not self.broker.pending:
            return 0.0
        return sum(
            o.units
            for o in self.broker.pending.values()
            if o.symbol == symbol and o.type is OrderType.MARKET and o.closes_trade is None
        )

    def market_order_to_target_value(self, symbol: str, value: float) -> Order | None:
        """A plain market order for what it takes to hold a notional of ``value`` (account
        currency; pending market orders count as held), or ``None`` when nothing is needed:
        ``order_target_value`` without options, in one call (strategies place one on almost
        every signal)."""
        return self.market_order_to_target(symbol, value, of_equity=False)

    def market_order_to_target(
        self, symbol: str, amount: float, *, of_equity: bool
    ) -> Order | None:
        """:meth:`market_order_to_target_value` of ``amount``, or with ``of_equity`` of
        ``amount`` times the equity (``order_target_percent``), by the shortest path: this
        runs for almost every order of a busy strategy, so the equity and the sizing are
        computed here rather than by the helpers that say the same (:attr:`equity`,
        :meth:`units_for_value`)."""
        broker = self.broker
        book = broker.books.get(symbol)
        if book is None:
            self._check_symbol(symbol)  # raises: the symbol is not in the run
            book = broker.books[symbol]
        step = self.step
        position = book.position
        # the only symbol quoted in the account currency converts at exactly 1 (no array read)
        rate = 1.0 if broker._single else book.rate_at[step]
        value = amount
        if of_equity:
            if broker._single:  # Broker.equity_at of the only book, inline
                equity = broker.balance
                if position.long_units or position.short_units:
                    equity += (
                        (position.long_units * book.mark_bid_at[step] - position.long_cost)
                        + (position.short_cost - position.short_units * book.mark_ask_at[step])
                    ) * rate
            else:
                equity = broker.equity_at(step)
            value = amount * equity
        current = position.units
        if broker.pending:
            current += self.pending_market_units(symbol)
        if value == 0:
            if not current:
                return None
            units = -current
        else:
            price = book.mark_ask_at[step] if value > 0 else book.mark_bid_at[step]
            per_unit = price * rate
            worth = value / per_unit if per_unit > 0 and not math.isnan(per_unit) else 0.0
            units = worth - current
        broker.step = step
        return broker.submit_market(
            book, symbol, float(units), True, immediate=self.settings.trade_on_close
        )

    def units_for_value(self, symbol: str, value: float) -> float:
        """Units of ``symbol`` worth ``value`` in account currency at the current price."""
        price = self.price(symbol, buy=value > 0)
        per_unit = price * self.rate(symbol)
        if not per_unit > 0 or math.isnan(per_unit):
            return 0.0
        return value / per_unit

    def record(self, name: str, value: float) -> None:
        self.records.append((self.step, name, float(value)))

    # ----------------------------------------------------------------- schedule
    def call_bar_at(self, steps: I64 | None) -> None:
        """Call the per-bar callback only at ``steps`` (``None``: at every step again).

        Every other step still applies fills, exits, expiries, swaps, stop-outs and scheduled
        callbacks exactly as usual (the broker wakes on its own steps); only the strategy's
        per-bar code is not called there, and the loop jumps from one due step to the next.
        """
        if steps is None:
            self._bar_steps = None
            return
        unique = np.asarray(steps, dtype=np.int64)
        if len(unique) > 1 and not bool((unique[1:] > unique[:-1]).all()):
            unique = np.unique(unique)  # (signals give them sorted: no hashing then)
        if len(unique) and (unique[0] < 0 or unique[-1] >= self.n_steps):
            raise ConfigError(
                f"Bar steps must lie in 0..{self.n_steps - 1}; got {int(unique[0])} to "
                f"{int(unique[-1])}."
            )
        self._bar_steps = unique.tolist()

    def schedule(self, steps: list[int], callback: Callable[[], None]) -> None:
        """Call ``callback`` at each of ``steps`` (before the per-bar callback)."""
        order = len(self._scheduled)
        # mid-run (from handle_data or a scheduled function) the current step's callbacks have
        # run already: the first step still to come is the next one
        first = self.step + 1 if self._running else self.next_step
        self._scheduled.extend((s, order, callback) for s in steps if s >= first)
        self._scheduled.sort(key=lambda item: (item[0], item[1]))
        self._scheduled_pos = 0
        while (
            self._scheduled_pos < len(self._scheduled)
            and self._scheduled[self._scheduled_pos][0] < first
        ):
            self._scheduled_pos += 1
        # scheduled from handle_data mid-run: the loop must wake for it (not at its next wake)
        self.broker.wake_step = self._next_scheduled()
        self.broker._refresh_next_check()

    def _next_scheduled(self) -> int:
        pos = self._scheduled_pos
        return self._scheduled[pos][0] if pos < len(self._scheduled) else NEVER

    def _run_scheduled(self, step: int) -> None:
        while (
            self._scheduled_pos < len(self._scheduled)
            and self._scheduled[self._scheduled_pos][0] <= step
        ):
            _, _, callback = self._scheduled[self._scheduled_pos]
            self._scheduled_pos += 1
            callback()

    # ----------------------------------------------------------------- the loop
    def run(
        self,
        on_bar: Callable[[], None],
        *,
        stop_step: int | None = None,
        progress: Callable[[int, int], None] | None = None,
    ) -> None:
        """Run steps until ``stop_step`` (exclusive; default: the end), calling ``on_bar``."""
        stop = self.n_steps if stop_step is None else min(stop_step, self.n_steps)
        # Objects alive before a long run (the data, the caches) cannot become garbage during
        # it: freezing them spares every full collection from walking them again. (Garbage
        # frozen with them is only delayed: unfreezing hands it back to the collector.)
        freeze = stop - self.next_step >= 10_000
        threshold = gc.get_threshold()
        # another run in this process raised it already: that run restores it
        retune = freeze and threshold[0] != _RUN_GC_THRESHOLD
        if freeze:
            gc.freeze()
            # A busy run allocates an order, a trade and a few records per fill, none of them
            # in cycles: collecting the young generation every 700 allocations only walks them
            # again and again. Rarer collections still reclaim any cycles the strategy makes.
            if retune:
                gc.set_threshold(_RUN_GC_THRESHOLD, *threshold[1:])
        self._running = True
        try:
            if self.events.active:
                self._run_observed(on_bar, stop)
            elif self._bar_steps is not None:
                self._run_sparse(on_bar, stop, progress, self._bar_steps)
            else:
                self._run_fast(on_bar, stop, progress)
        finally:
            self._running = False
            if retune:
                gc.set_threshold(*threshold)
            if freeze:
                gc.unfreeze()
        if self.next_step >= self.n_steps:
            self._finish()

    def _wake(self, step: int) -> None:
        """Whatever is due at ``step`` before the strategy decides: fills, then callbacks."""
        self.step = step
        self.broker.process_through(step)
        if step >= self._next_scheduled():
            self._run_scheduled(step)
            self.broker.wake_step = self._next_scheduled()
            self.broker._refresh_next_check()

    def _run_fast(
        self, on_bar: Callable[[], None], stop: int, progress: Callable[[int, int], None] | None
    ) -> None:
        broker = self.broker
        broker.wake_step = self._next_scheduled()
        broker._refresh_next_check()
        n = self.n_steps
        block = 1024
        for low in range(self.next_step, stop, block):
            next_check = broker.next_check_step
            for i in range(low, min(low + block, stop)):
                if i >= next_check:
                    self._wake(i)
                self.step = i
                on_bar()
                next_check = broker.next_check_step
                if next_check <= i:  # trade-on-close fills on this bar
                    broker.process_through(i)
                    next_check = broker.next_check_step
            self.next_step = min(low + block, stop)
            if self.control.cancelled:
                raise RunCancelledError(f"Run cancelled at bar {self.next_step} of {n}.")
            if progress is not None:
                progress(self.next_step, n)

    def _run_sparse(
        self,
        on_bar: Callable[[], None],
        stop: int,
        progress: Callable[[int, int], None] | None,
        bar_steps: list[int],
    ) -> None:
        """:meth:`_run_fast` when the callback runs only at ``bar_steps``: Python runs only
        at those steps and at the broker's own (fills, exits, swaps, scheduled callbacks), in
        the same order as the dense loop would run them."""
        broker = self.broker
        broker.wake_step = self._next_scheduled()
        broker._refresh_next_check()
        n = self.n_steps
        pos = bisect_left(bar_steps, self.next_step)
        calls = len(bar_steps)
        block = 4096
        for low in range(self.next_step, stop, block):
            high = min(low + block, stop)
            floor = low  # every step before it has been run
            while True:
                target = bar_steps[pos] if pos < calls else NEVER
                due = broker.next_check_step
                if due < floor:  # overdue: the dense loop would wake at its next step
                    due = floor
                if due < target:  # a broker step with no callback
                    if due >= high:
                        break
                    if due < broker.wake_step:  # only the broker's: _wake without callbacks
                        self.step = due
                        broker.process_through(due)
                    else:
                        self._wake(due)
                    floor = due + 1
                    continue
                if target >= high:
                    break
                if target >= due:
                    self._wake(target)
                self.step = target
                on_bar()
                pos += 1
                if broker.next_check_step <= target:  # trade-on-close fills on this bar
                    broker.process_through(target)
                floor = target + 1
            self.next_step = high
            self.step = high - 1  # where the dense loop leaves "now" (orders placed by hand)
            if self.control.cancelled:
                raise RunCancelledError(f"Run cancelled at bar {self.next_step} of {n}.")
            if progress is not None:
                progress(self.next_step, n)

    def _run_observed(self, on_bar: Callable[[], None], stop: int) -> None:
        broker = self.broker
        broker.wake_step = self._next_scheduled()
        broker._refresh_next_check()
        calls = self._bar_steps
        pos = 0 if calls is None else bisect_left(calls, self.next_step)
        for i in range(self.next_step, stop):
            if i >= broker.next_check_step:
                self._wake(i)
            self.step = i
            if calls is None:
                on_bar()
            elif pos < len(calls) and calls[pos] == i:
                pos += 1
                on_bar()
            if broker.next_check_step <= i:
                broker.process_through(i)
            self.next_step = i + 1
            ts = int(self.clock.open_ns[i])
            self.events.emit(BarClosed(i, ts))
            self.events.emit(EquityUpdated(i, ts, broker.equity_at(i), broker.balance))
            if self.control.cancelled:
                raise RunCancelledError(f"Run cancelled at bar {i + 1} of {self.n_steps}.")

    def run_steps(self, count: int, on_bar: Callable[[], None]) -> None:
        """Advance ``count`` steps (the replay's "next bar" / "next N bars")."""
        self.run(on_bar, stop_step=self.next_step + count)

    def run_until(self, ts_ns: int, on_bar: Callable[[], None]) -> None:
        """Advance through every step whose bar opens before ``ts_ns``."""
        stop = int(np.searchsorted(self.clock.open_ns, ts_ns, side="left"))
        self.run(on_bar, stop_step=max(stop, self.next_step))

    def _finish(self) -> None:
        if self.finished:
            return
        self.finished = True
        last = self.n_steps - 1
        self.step = last
        self.broker.step = last
        # everything up to the final close has been processed already; close what is left
        if self.settings.close_at_end:
            self.broker.close_all("end_of_run", int(self.clock.close_ns[last]))


def _union(arrays: list[I64]) -> I64:
    """Sorted union of strictly increasing arrays (np.unique hashes, which is slow here)."""
    if len(arrays) == 1:
        return arrays[0]
    merged = np.sort(np.concatenate(arrays), kind="stable")
    keep = np.ones(len(merged), dtype=np.bool_)
    keep[1:] = merged[1:] != merged[:-1]
    return merged[keep]


def _round_units(units: float, step: float) -> float:
    """Round toward zero to a multiple of ``step`` (tolerating float noise)."""
    count = math.floor(abs(units) / step + 1e-9)
    return math.copysign(count * step, units) if count else 0.0


def _ffill(values: F64) -> F64:
    mask = np.isnan(values)
    if not mask.any():
        return values
    index = np.where(~mask, np.arange(len(values)), 0)
    np.maximum.accumulate(index, out=index)
    out = values[index]
    return _bfill(out)


def _bfill(values: F64) -> F64:
    mask = np.isnan(values)
    if not mask.any() or mask.all():
        return values
    first = int(np.argmax(~mask))
    out = values.copy()
    out[:first] = values[first]
    return out
