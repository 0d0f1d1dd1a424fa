"""The backtest engine: clock, broker (order matching and fills), account and results.

It runs on in-memory columnar data (:class:`MarketData`) and calls the strategy through plain
callables; the user-facing API lives in :mod:`backtestr.strategy`.
"""

from backtestr.engine.core import Engine, RunCancelledError, RunControl
from backtestr.engine.costs import (
    CommissionModel,
    FixedSlippage,
    NoCommission,
    Percent,
    PerLot,
    PerMillion,
    PerTrade,
    SlippageModel,
    parse_commission,
    parse_slippage,
)
from backtestr.engine.events import (
    BarClosed,
    EngineEvent,
    EquityUpdated,
    EventBus,
    OrderCancelled,
    OrderFilled,
    OrderPlaced,
    PositionChanged,
)
from backtestr.engine.history import Series, Window
from backtestr.engine.market import MarketData, QuotePath, SymbolFeed
from backtestr.engine.orders import Order, OrderStatus, OrderType, PositionMode, TimeInForce
from backtestr.engine.positions import Position, Trade
from backtestr.engine.results import ORDER_COLUMNS, RunResult, build_result
from backtestr.engine.settings import EngineSettings, ModellingMode
from backtestr.engine.slicing import slice_market

__all__ = [
    "ORDER_COLUMNS",
    "BarClosed",
    "CommissionModel",
    "Engine",
    "EngineEvent",
    "EngineSettings",
    "EquityUpdated",
    "EventBus",
    "FixedSlippage",
    "MarketData",
    "ModellingMode",
    "NoCommission",
    "Order",
    "OrderCancelled",
    "OrderFilled",
    "OrderPlaced",
    "OrderStatus",
    "OrderType",
    "PerLot",
    "PerMillion",
    "PerTrade",
    "Percent",
    "Position",
    "PositionChanged",
    "PositionMode",
    "QuotePath",
    "RunCancelledError",
    "RunControl",
    "RunResult",
    "Series",
    "SlippageModel",
    "SymbolFeed",
    "TimeInForce",
    "Trade",
    "Window",
    "build_result",
    "parse_commission",
    "parse_slippage",
    "slice_market",
]
