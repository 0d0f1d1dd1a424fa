"""The typed strategy face: subclass :class:`Strategy` and override its hooks.

>>> class Cross(Strategy):
...     PARAMETERS = {"fast": 10, "slow": 30}
...     def on_bar(self) -> None:
...         fast = self.data.history(self.symbol, "close", self.params.fast).mean()
...         slow = self.data.history(self.symbol, "close", self.params.slow).mean()
...         if fast > slow and not self.portfolio.positions[self.symbol]:
...             self.order_target_percent(self.symbol, 1.0)
...         elif fast < slow and self.portfolio.positions[self.symbol]:
...             self.order_target_percent(self.symbol, 0.0)

The zipline-style function API (``initialize(context)``, ``handle_data(context, data)`` and
global order functions) is a thin face over this class (:mod:`backtestr.strategy.functions`).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
import numpy.typing as npt
import pandas as pd

from backtestr.engine import (
    CommissionModel,
    Engine,
    FixedSlippage,
    Order,
    SlippageModel,
    TimeInForce,
)
from backtestr.errors import ConfigError, StrategyError
from backtestr.model import Timeframe
from backtestr.strategy.api import (
    Account,
    BarData,
    Context,
    Indicator,
    Portfolio,
    compute_indicator,
    wake_steps,
)
from backtestr.strategy.params import Params, ParamValue
from backtestr.strategy.schedule import DateRule, TimeRule, date_rules, scheduled_steps, time_rules

if TYPE_CHECKING:
    from backtestr.engine import RunResult

__all__ = ["Strategy"]


class Strategy:
    """Base class of strategies. Override :meth:`initialize`, :meth:`on_bar` and friends."""

    PARAMETERS: ClassVar[dict[str, ParamValue]] = {}

    _engine: Engine
    data: BarData
    portfolio: Portfolio
    account: Account
    params: Params
    symbol: str
    context: Context

    # ------------------------------------------------------------------ hooks
    def initialize(self) -> None:
        """Called once before the first bar."""

    def on_bar(self) -> None:
        """Called when a bar of the strategy timeframe has closed."""

    def before_trading_start(self) -> None:
        """Called on the first bar of each trading day, before :meth:`on_bar`."""

    def analyze(self, result: RunResult) -> None:
        """Called once with the finished run's result."""

    def bar_callback(self) -> Callable[[], None]:
        """The callable the engine calls on every bar (override for a faster path)."""
        return self.on_bar

    # ------------------------------------------------------------------ wiring
    def _bind(self, engine: Engine, params: Params) -> None:
        self._engine = engine
        self._initializing = True
        self._wake_steps: npt.NDArray[np.int64] | None = None
        self.data = BarData(engine)
        self.portfolio = Portfolio(engine)
        self.account = Account(engine)
        self.params = params
        self.symbol = engine.symbols[0]
        self.context = Context(self.symbol, self.portfolio, self.account, params)

    # ------------------------------------------------------------------ orders
    def order(
        self,
        symbol: str,
        units: float | None = None,
        *,
        lots: float | None = None,
        limit_price: float | None = None,
        stop_price: float | None = None,
        stop_loss: float | None = None,
        take_profit: float | None = None,
        stop_loss_pips: float | None = None,
        take_profit_pips: float | None = None,
        trailing_stop_pips: float | None = None,
        time_in_force: str | TimeInForce = TimeInForce.GTC,
        expire: str | pd.Timestamp | None = None,
        tag: str = "",
        reduce_first: bool = False,
    ) -> Order | None:
        """Order ``units`` (signed; or ``lots=``) of ``symbol``.

        No price: market order, filled at the first quote after this bar's close. ``limit_price``
        / ``stop_price`` / both: limit, stop, stop-limit. ``stop_loss`` / ``take_profit`` (prices)
        or ``*_pips`` (distances from the fill) and ``trailing_stop_pips`` attach exits to the
        trade the order opens. ``time_in_force``: ``gtc``, ``day`` or ``gtd`` with ``expire``.
        Returns the order, or ``None`` when the size rounds to zero lots.
        """
        if (units is None) == (lots is None):
            raise ConfigError("order() takes a size either in units or in lots=, not both")
        if lots is not None:
            units = lots * self._engine.market.feeds[symbol].instrument.contract_size
        expire_ns = None if expire is None else _to_ns(expire)
        return self._engine.place_order(
            symbol,
            float(units or 0.0),
            limit_price=limit_price,
            stop_price=stop_price,
            stop_loss=stop_loss,
            take_profit=take_profit,
            stop_loss_pips=stop_loss_pips,
            take_profit_pips=take_profit_pips,
            trailing_stop_pips=trailing_stop_pips,
            time_in_force=time_in_force,
            expire_ns=expire_ns,
            reduce_first=reduce_first,
            tag=tag,
        )

    def order_value(self, symbol: str, value: float, **kwargs: Any) -> Order | None:
        """Order ``value`` (account currency; negative sells) worth of ``symbol``."""
        return self.order(symbol, self._engine.units_for_value(symbol, value), **kwargs)

    def order_percent(self, symbol: str, percent: float, **kwargs: Any) -> Order | None:
        """Order a notional of ``percent`` (a fraction: 0.5 = 50 %) of equity."""
        return self.order_value(symbol, percent * self._engine.equity, **kwargs)

    def order_target(self, symbol: str, units: float, **kwargs: Any) -> Order | None:
        """Order what it takes to hold ``units`` net (pending market orders count as held).

        In hedging mode too it closes opposite trades (oldest first) before opening one.
        """
        engine = self._engine
        current = engine.position(symbol).units + engine.pending_market_units(symbol)
        kwargs.setdefault("reduce_first", True)
        return self.order(symbol, units - current, **kwargs)

    def order_target_value(self, symbol: str, value: float, **kwargs: Any) -> Order | None:
        """Order what it takes to hold a notional of ``value`` (account currency)."""
        engine = self._engine
        if not kwargs and type(self).order is Strategy.order:
            # a plain market order: what order() would do with no options, in one call
            return engine.market_order_to_target_value(symbol, value)
        current = engine.position(symbol).units + engine.pending_market_units(symbol)
        if value == 0 and not current:
            return None
        units = -current if value == 0 else engine.units_for_value(symbol, value) - current
        kwargs.setdefault("reduce_first", True)
        return self.order(symbol, units, **kwargs)

    def order_target_percent(self, symbol: str, percent: float, **kwargs: Any) -> Order | None:
        """Order what it takes to hold a notional of ``percent`` (fraction) of equity."""
        engine = self._engine
        if not kwargs and type(self).order is Strategy.order:
            return engine.market_order_to_target(symbol, percent, of_equity=True)
        return self.order_target_value(symbol, percent * engine.equity, **kwargs)

    def close_position(self, symbol: str) -> Order | None:
        """Close the whole position in ``symbol`` at market (every trade, in hedging mode too)."""
        engine = self._engine
        last: Order | None = None
        for trade in list(engine.broker.books[symbol].trades):
            last = self.close_trade(trade.id)
        return last

    def close_trade(self, trade_id: int) -> Order | None:
        """Close one trade at market (hedging mode's way to exit)."""
        trade = self._engine.broker.open_trades.get(trade_id)
        if trade is None:
            return None
        return self._engine.place_order(trade.symbol, -trade.units, closes_trade=trade_id)

    def cancel_order(self, order: Order | int) -> None:
        self._engine.cancel_order(order)

    def replace_order(
        self,
        order: Order | int,
        *,
        units: float | None = None,
        limit_price: float | None = None,
        stop_price: float | None = None,
    ) -> Order | None:
        """Cancel a pending order and place it again with a new size and/or prices.

        Attached exits and time in force carry over. Returns the new order (``None`` when the
        old one is no longer pending).
        """
        engine = self._engine
        order_id = order if isinstance(order, int) else order.id
        old = engine.broker.pending.get(order_id)
        if old is None or old.closes_trade is not None:
            return None
        engine.cancel_order(old)

        def keep(value: float | None, previous: float) -> float | None:
            if value is not None:
                return value
            return None if math.isnan(previous) else previous

        return engine.place_order(
            old.symbol,
            old.units if units is None else units,
            limit_price=keep(limit_price, old.limit_price),
            stop_price=keep(stop_price, old.stop_price),
            stop_loss=keep(None, old.stop_loss),
            take_profit=keep(None, old.take_profit),
            stop_loss_pips=keep(None, old.stop_loss_pips),
            take_profit_pips=keep(None, old.take_profit_pips),
            trailing_stop_pips=keep(None, old.trailing_stop_pips),
            time_in_force=old.time_in_force,
            expire_ns=old.expire_ns if old.time_in_force.value == "gtd" else None,
            tag=old.tag,
        )

    def get_open_orders(self, symbol: str | None = None) -> list[Order]:
        """Pending orders placed by the strategy (attached exits excluded)."""
        return self._engine.open_orders(symbol)

    # ------------------------------------------------------------------ misc
    def record(self, *args: Any, **values: float) -> None:
        """Record values for this bar: ``record(ma=1.1)`` or ``record("ma", 1.1)``."""
        if args:
            if len(args) != 2:
                raise ConfigError("record() takes NAME, VALUE or keyword arguments")
            values = {str(args[0]): args[1], **values}
        for name, value in values.items():
            self._engine.record(name, value)

    def get_datetime(self) -> pd.Timestamp:
        """The current decision time (UTC): the close of the bar just completed."""
        return pd.Timestamp(self._engine.now_ns, tz="UTC")

    def symbol_of(self, name: str) -> str:
        """Validate a symbol name of this run (zipline's ``symbol()``)."""
        self._engine._check_symbol(name.upper())
        return name.upper()

    def schedule_function(
        self,
        func: Callable[..., Any],
        date_rule: DateRule | None = None,
        time_rule: TimeRule | None = None,
        *,
        with_arguments: tuple[Any, ...] = (),
    ) -> None:
        """Run ``func(*with_arguments)`` on the bars the rules pick (default: every day's
        first bar)."""
        engine = self._engine
        day = engine.market.feeds[self.symbol].instrument.trading_day
        steps = scheduled_steps(
            engine.clock.open_ns,
            engine.clock.close_ns,
            date_rule or date_rules.every_day(),
            time_rule or time_rules.market_open(),
            day,
        )
        engine.schedule(steps, lambda: func(*with_arguments))

    def set_commission(self, model: CommissionModel) -> None:
        self._set_setting(commission=model)

    def set_slippage(self, model: SlippageModel | float) -> None:
        """A slippage model, or a fixed number of pips."""
        if isinstance(model, int | float):
            model = FixedSlippage(float(model))
        self._set_setting(slippage=model)

    def _set_setting(self, **changes: Any) -> None:
        if not getattr(self, "_initializing", False):
            raise StrategyError("set_commission/set_slippage can only be called in initialize")
        engine = self._engine
        engine.settings = dataclasses.replace(engine.settings, **changes)
        engine.broker.use_settings(engine.settings)

    def I(  # noqa: E743, N802 - backtesting.py's name for precomputed indicators
        self,
        func: Callable[..., Any],
        *fields: str,
        symbol: str | None = None,
        timeframe: str | Timeframe | None = None,
        **kwargs: Any,
    ) -> Indicator:
        """Compute an indicator once over the whole series, read it per bar without look-ahead.

        ``func(*arrays, **kwargs)`` receives the full arrays of ``fields`` (default ``close``)
        and must return one value per bar; ``ind[-1]`` is its value at the last closed bar.
        """
        return compute_indicator(
            self._engine,
            func,
            fields or ("close",),
            symbol or self.symbol,
            None if timeframe is None else Timeframe.parse(timeframe),
            kwargs,
        )

    indicator = I

    def wake_on(self, signal: Indicator) -> None:
        """Call :meth:`on_bar` (``handle_data``) only on the bars where ``signal`` is true.

        For precomputed-indicator strategies that act only on events, e.g.
        ``wake_on(crosses(fast, slow))``: the engine then skips the other bars without
        calling Python, while fills, exits, swaps, stop-outs, scheduled functions and the
        equity curve are processed for every bar as usual. The result is identical to
        calling ``handle_data`` on every bar *if it would do nothing on the skipped bars* —
        that is the promise the strategy makes. ``signal`` is an :meth:`indicator` (so it
        was checked for look-ahead) or built from indicators by :func:`crosses`; a bar of it
        counts once, on the step its bar closes. Call it in ``initialize``; calling it again
        adds bars (either signal wakes the strategy).
        """
        if not getattr(self, "_initializing", False):
            raise StrategyError("wake_on can only be called in initialize")
        if not isinstance(signal, Indicator) or signal._engine is not self._engine:
            raise ConfigError(
                "wake_on() takes an indicator of this run: indicator(...) or crosses(a, b)."
            )
        engine = self._engine
        steps = wake_steps(signal, engine.n_steps)
        if self._wake_steps is not None:
            steps = np.union1d(self._wake_steps, steps)
        self._wake_steps = steps
        engine.call_bar_at(steps)


def _to_ns(value: str | pd.Timestamp) -> int:
    stamp = pd.Timestamp(value)
    if stamp.tzinfo is None:
        stamp = stamp.tz_localize("UTC")
    return int(stamp.value)
