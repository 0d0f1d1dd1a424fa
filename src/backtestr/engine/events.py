"""Events the engine emits while it runs, and the bus subscribers attach to.

Names are in the past tense (``OrderFilled``); every ``subscribe`` returns its unsubscribe.
Per-bar events (:class:`BarClosed`, :class:`EquityUpdated`) are only produced while someone
listens, so an unobserved run pays nothing for them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

__all__ = [
    "BarClosed",
    "EngineEvent",
    "EquityUpdated",
    "EventBus",
    "OrderCancelled",
    "OrderFilled",
    "OrderPlaced",
    "PositionChanged",
]


@dataclass(frozen=True, slots=True)
class BarClosed:
    step: int
    ts_ns: int


@dataclass(frozen=True, slots=True)
class OrderPlaced:
    order_id: int
    symbol: str
    units: float
    order_type: str
    ts_ns: int


@dataclass(frozen=True, slots=True)
class OrderFilled:
    order_id: int
    symbol: str
    units: float
    price: float
    commission: float
    ts_ns: int


@dataclass(frozen=True, slots=True)
class OrderCancelled:
    order_id: int
    symbol: str
    status: str
    reason: str
    ts_ns: int


@dataclass(frozen=True, slots=True)
class PositionChanged:
    symbol: str
    units: float
    average_price: float
    ts_ns: int


@dataclass(frozen=True, slots=True)
class EquityUpdated:
    step: int
    ts_ns: int
    equity: float
    balance: float


EngineEvent = (
    BarClosed | OrderPlaced | OrderFilled | OrderCancelled | PositionChanged | EquityUpdated
)
Subscriber = Callable[[EngineEvent], None]


class EventBus:
    """Delivers events to subscribers in subscription order."""

    def __init__(self) -> None:
        self._subscribers: list[Subscriber] = []
        self.active = False  # read on hot paths: a plain attribute, kept in sync below

    def subscribe(self, subscriber: Subscriber) -> Callable[[], None]:
        """Attach ``subscriber``; call the returned function to detach it."""
        self._subscribers.append(subscriber)
        self.active = True

        def unsubscribe() -> None:
            if subscriber in self._subscribers:
                self._subscribers.remove(subscriber)
            self.active = bool(self._subscribers)

        return unsubscribe

    def emit(self, event: EngineEvent) -> None:
        for subscriber in list(self._subscribers):
            subscriber(event)
