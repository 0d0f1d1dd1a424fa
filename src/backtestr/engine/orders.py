"""Orders as the broker keeps them, and the enums that describe them.

An :class:`Order` is a mutable record owned by the broker: the strategy receives it back from the
order functions and may read it, but changes state only through the broker (``cancel_order`` …).
"""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass

__all__ = ["Order", "OrderStatus", "OrderType", "PositionMode", "TimeInForce"]

NO_EXPIRY_NS = 2**62


class OrderType(enum.Enum):
    MARKET = "market"
    LIMIT = "limit"
    STOP = "stop"
    STOP_LIMIT = "stop_limit"
    TRAILING_STOP = "trailing_stop"


# Integer codes of the order types inside the compiled matching kernel.
KIND_CODE = {
    OrderType.MARKET: 0,
    OrderType.LIMIT: 1,
    OrderType.STOP: 2,
    OrderType.STOP_LIMIT: 3,
    OrderType.TRAILING_STOP: 4,
}


class TimeInForce(enum.Enum):
    """How long a pending order lives: until cancelled, until the trading day ends, or a date."""

    GTC = "gtc"
    DAY = "day"
    GTD = "gtd"

    @classmethod
    def parse(cls, text: str | TimeInForce) -> TimeInForce:
        from backtestr.errors import ConfigError

        if isinstance(text, TimeInForce):
            return text
        try:
            return cls(text.strip().lower())
        except ValueError:
            raise ConfigError(f"Unknown time in force '{text}': use gtc, day or gtd.") from None


class OrderStatus(enum.Enum):
    OPEN = "open"
    FILLED = "filled"
    CANCELLED = "cancelled"
    REJECTED = "rejected"
    EXPIRED = "expired"


class PositionMode(enum.Enum):
    """Netting: one position per symbol, opposite orders reduce it (default).

    Hedging: every order opens its own trade; opposite orders open opposite trades, and trades
    are closed explicitly (``close_trade``, ``close_position`` or their stop-loss/take-profit).
    """

    NETTING = "netting"
    HEDGING = "hedging"


# Not slotted on purpose: a slotted dataclass sets all of its 35 fields in ``__init__``, which
# made creating an order the largest single cost of a market order. Without slots every field
# keeps its default on the class, and :meth:`Broker.submit_market` builds a plain market order
# without ``__init__``, setting only the fields that differ.
@dataclass(eq=False)
class Order:
    """One order and its life cycle.

    ``units`` is signed: positive buys, negative sells. Prices are ``nan`` when unused.
    ``stop_loss`` / ``take_profit`` are absolute prices; ``*_pips`` are distances from the fill
    price, resolved when the order fills. ``closes_trade`` names the trade an exit order closes
    (stop-loss, take-profit, trailing stop or an explicit ``close_trade``). ``reduce_first``
    makes an order close opposite trades before opening one even in hedging mode (the
    ``order_target*`` functions, which aim at a net position).
    """

    id: int
    symbol: str
    units: float
    type: OrderType
    created_ns: int
    limit_price: float = math.nan
    stop_price: float = math.nan
    trail_distance: float = math.nan
    time_in_force: TimeInForce = TimeInForce.GTC
    expire_ns: int = NO_EXPIRY_NS
    stop_loss: float = math.nan
    take_profit: float = math.nan
    stop_loss_pips: float = math.nan
    take_profit_pips: float = math.nan
    trailing_stop_pips: float = math.nan
    closes_trade: int | None = None
    reduce_first: bool = False
    tag: str = ""
    status: OrderStatus = OrderStatus.OPEN
    filled_ns: int | None = None
    fill_price: float = math.nan
    commission: float = 0.0
    reason: str = ""
    # matching state (engine internals)
    active_from: int = 0
    cross_from: int = 0
    scanned_to: int = 0
    level: float = math.nan
    trigger_k: int = -1
    trigger_code: int = 0
    trigger_price: float = math.nan
    stop_out: bool = False
    event_step: int = -1
    siblings: tuple[int, ...] = ()
    # a plain good-till-cancelled market order (built by Broker.submit_market): the broker may
    # fill it by its short path (engine/plain_fill.py)
    plain: bool = False

    @property
    def is_buy(self) -> bool:
        return self.units > 0

    @property
    def is_open(self) -> bool:
        return self.status is OrderStatus.OPEN
