"""The zipline-style face: ``initialize(context)``, ``handle_data(context, data)`` and the order
functions as globals of the strategy module, over the typed :class:`Strategy`."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from backtestr.engine import FixedSlippage, NoCommission, Percent, PerLot, PerMillion, PerTrade
from backtestr.strategy.api import crosses
from backtestr.strategy.base import Strategy
from backtestr.strategy.schedule import date_rules, time_rules

if TYPE_CHECKING:
    from backtestr.engine import Engine, RunResult
    from backtestr.strategy.params import Params

__all__ = ["API_FUNCTIONS", "FunctionStrategy"]

# Names injected into the strategy module, each bound to the running strategy.
API_FUNCTIONS = (
    "order",
    "order_value",
    "order_percent",
    "order_target",
    "order_target_value",
    "order_target_percent",
    "cancel_order",
    "replace_order",
    "get_open_orders",
    "close_position",
    "close_trade",
    "record",
    "get_datetime",
    "schedule_function",
    "set_commission",
    "set_slippage",
    "indicator",
    "wake_on",
)
_CONSTANTS: dict[str, Any] = {
    "date_rules": date_rules,
    "time_rules": time_rules,
    "PerLot": PerLot,
    "PerMillion": PerMillion,
    "Percent": Percent,
    "PerTrade": PerTrade,
    "NoCommission": NoCommission,
    "FixedSlippage": FixedSlippage,
    "crosses": crosses,
}


def _noop(*_args: object) -> None:
    return None


class FunctionStrategy(Strategy):
    """Runs a strategy written as module-level functions (the zipline style)."""

    def __init__(self, namespace: dict[str, Any]) -> None:
        self._namespace = namespace

    def _bind(self, engine: Engine, params: Params) -> None:
        super()._bind(engine, params)
        namespace = self._namespace
        for name in API_FUNCTIONS:
            namespace[name] = getattr(self, name)
        namespace["symbol"] = self.symbol_of
        namespace.update(_CONSTANTS)

    def _hook(self, name: str) -> Callable[..., Any]:
        hook = self._namespace.get(name)
        return hook if callable(hook) else _noop

    def initialize(self) -> None:
        self._hook("initialize")(self.context)

    def bar_callback(self) -> Callable[[], None]:
        handle_data = self._namespace.get("handle_data")
        if not callable(handle_data):
            return _noop
        # partial calls straight into the user's function: no extra Python frame per bar
        return functools.partial(handle_data, self.context, self.data)

    def has_before_trading_start(self) -> bool:
        return callable(self._namespace.get("before_trading_start"))

    def before_trading_start(self) -> None:
        self._hook("before_trading_start")(self.context, self.data)

    def analyze(self, result: RunResult) -> None:
        self._hook("analyze")(self.context, result)
