"""Per-symbol state of the broker: the quote path (built on first use), how steps map to it,
marks and conversion rates per step, the open trades, and O(1) reachability of price levels."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from backtestr.engine.market import QuotePath
from backtestr.engine.orders import Order, OrderType
from backtestr.engine.positions import Position, Trade
from backtestr.model import Instrument
from backtestr.model.arrays import F64, I64

__all__ = ["Book", "Extremes"]


class Extremes:
    """Lowest and highest bid and ask from each block of quotes to the end of the path.

    Lets the broker see in O(1) that a price level is never traded again (a far stop-out level,
    a stop-loss beyond every later price), so it never scans for it. Blocks make the check
    conservative (a block's extremes include quotes before the order), never wrong.
    """

    BLOCK = 256

    def __init__(self, path: QuotePath) -> None:
        n = len(path)
        blocks = -(-n // self.BLOCK)
        pad = blocks * self.BLOCK - n

        def blocked(values: F64, fill: float) -> F64:
            return np.concatenate([values, np.full(pad, fill)]).reshape(blocks, self.BLOCK)

        self.min_bid = np.minimum.accumulate(blocked(path.bid, np.inf).min(axis=1)[::-1])[::-1]
        self.max_bid = np.maximum.accumulate(blocked(path.bid, -np.inf).max(axis=1)[::-1])[::-1]
        self.min_ask = np.minimum.accumulate(blocked(path.ask, np.inf).min(axis=1)[::-1])[::-1]
        self.max_ask = np.maximum.accumulate(blocked(path.ask, -np.inf).max(axis=1)[::-1])[::-1]

    def unreachable(self, order: Order) -> bool:
        """True when the order's trigger level is beyond every price from its scan position."""
        block = order.scanned_to // self.BLOCK
        if block >= len(self.min_bid):
            return True
        kind = order.type
        if kind is OrderType.LIMIT:
            if order.is_buy:
                return bool(self.min_ask[block] > order.limit_price)
            return bool(self.max_bid[block] < order.limit_price)
        # stops and stop-limits trigger on their stop level first
        if order.is_buy:
            return bool(self.max_ask[block] < order.stop_price)
        return bool(self.min_bid[block] > order.stop_price)


@dataclass(slots=True, eq=False)
class Book:
    """Per-symbol state: its quotes, how steps map to quotes, its marks and its open trades.

    The quote path is built on first use: a run that never trades never pays for it.
    """

    instrument: Instrument
    quotes: Callable[[], tuple[QuotePath, I64]]
    mark_bid: F64  # price at each step's close, per step
    mark_ask: F64
    rate: F64  # quote currency -> account currency, at each step's close
    margin_rate: float
    position: Position
    trades: list[Trade] = field(default_factory=list)
    stop_out: Order | None = None
    _path: QuotePath | None = None
    _step_end: I64 | None = None
    _extremes: Extremes | None = None

    @property
    def path(self) -> QuotePath:
        if self._path is None:
            self._path, self._step_end = self.quotes()
        return self._path

    @property
    def extremes(self) -> Extremes:
        if self._extremes is None:
            self._extremes = Extremes(self.path)
        return self._extremes

    @property
    def step_end(self) -> I64:
        """Quote index where each step ends (exclusive)."""
        if self._step_end is None:
            self._path, self._step_end = self.quotes()
        return self._step_end

    def step_of(self, k: int) -> int:
        """The step whose quote range holds quote ``k``."""
        return int(self.step_end.searchsorted(k, side="right"))

    def fill_rate(self, step: int) -> float:
        """Conversion rate known when a fill happens in ``step``: the previous step's close."""
        return float(self.rate[step - 1] if step > 0 else self.rate[0])
