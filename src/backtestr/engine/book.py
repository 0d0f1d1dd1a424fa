"""Per-symbol state of the broker: the quote path (built on first use), how steps map to it,
marks and conversion rates per step, the open trades, and O(1) reachability of price levels."""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
from numba import njit

from backtestr.engine.market import QuotePath
from backtestr.engine.orders import Order, OrderType
from backtestr.engine.positions import Position, Trade
from backtestr.engine.views import elements
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
        self.min_bid, self.max_bid, self.min_ask, self.max_ask = _suffix_block_extremes(
            path.bid, path.ask, self.BLOCK
        )

        # Python-level views: one element read costs a fraction of a numpy scalar read
        self._min_bid = elements(self.min_bid)
        self._max_ask = elements(self.max_ask)

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
        return self.stop_unreachable(order.scanned_to, order.is_buy, order.stop_price)

    def stop_unreachable(self, k: int, is_buy: bool, stop_price: float) -> bool:
        """True when a stop at ``stop_price`` is beyond every price from quote ``k`` on."""
        block = k // self.BLOCK
        if block >= len(self._min_bid):
            return True
        if is_buy:
            return bool(self._max_ask[block] < stop_price)
        return bool(self._min_bid[block] > stop_price)


@njit(cache=True)
def _suffix_block_extremes(bid: F64, ask: F64, block: int) -> tuple[F64, F64, F64, F64]:
    """Per block of ``block`` quotes, the lowest and highest bid and ask from that block to the
    end of the path (one pass over the quotes, one backward pass over the blocks)."""
    n = len(bid)
    blocks = (n + block - 1) // block
    min_bid = np.empty(blocks)
    max_bid = np.empty(blocks)
    min_ask = np.empty(blocks)
    max_ask = np.empty(blocks)
    for b in range(blocks):
        lo_bid = np.inf
        hi_bid = -np.inf
        lo_ask = np.inf
        hi_ask = -np.inf
        for k in range(b * block, min(n, (b + 1) * block)):
            # a NaN quote (none in a built path) can trigger nothing: it is skipped
            if bid[k] < lo_bid:
                lo_bid = bid[k]
            if bid[k] > hi_bid:
                hi_bid = bid[k]
            if ask[k] < lo_ask:
                lo_ask = ask[k]
            if ask[k] > hi_ask:
                hi_ask = ask[k]
        min_bid[b] = lo_bid
        max_bid[b] = hi_bid
        min_ask[b] = lo_ask
        max_ask[b] = hi_ask
    for b in range(blocks - 2, -1, -1):
        min_bid[b] = min(min_bid[b], min_bid[b + 1])
        max_bid[b] = max(max_bid[b], max_bid[b + 1])
        min_ask[b] = min(min_ask[b], min_ask[b + 1])
        max_ask[b] = max(max_ask[b], max_ask[b + 1])
    return min_bid, max_bid, min_ask, max_ask


@dataclass(slots=True, eq=False)
class Book:
    """Per-symbol state: its quotes, how steps map to quotes, its marks and its open trades.

    The quote path is built on first use: a run that never trades never pays for it.

    The ``*_at`` attributes are memoryviews of the same arrays: the broker reads single
    elements on every order, and a memoryview element read gives the same Python number as
    ``float(array[i])`` for a fraction of its cost.
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
    mark_bid_at: Sequence[float] = field(init=False)
    mark_ask_at: Sequence[float] = field(init=False)
    rate_at: Sequence[float] = field(init=False)
    # filled with the quote path: its timestamps, bids and asks, and each step's end
    ts_at: Sequence[int] = field(init=False)
    bid_at: Sequence[float] = field(init=False)
    ask_at: Sequence[float] = field(init=False)
    step_end_at: Sequence[int] = field(init=False)

    def __post_init__(self) -> None:
        self.mark_bid_at = elements(self.mark_bid)
        self.mark_ask_at = elements(self.mark_ask)
        self.rate_at = elements(self.rate)

    def _load(self, built: tuple[QuotePath, I64] | None = None) -> None:
        path, step_end = self.quotes() if built is None else built
        self._path, self._step_end = path, step_end
        self.ts_at = elements(path.ts_ns)
        self.bid_at = elements(path.bid)
        self.ask_at = elements(path.ask)
        self.step_end_at = elements(step_end)

    @property
    def path(self) -> QuotePath:
        if self._path is None:
            self._load()
        return self._path  # type: ignore[return-value]

    @property
    def extremes(self) -> Extremes:
        if self._extremes is None:
            self._extremes = Extremes(self.path)
        return self._extremes

    @property
    def step_end(self) -> I64:
        """Quote index where each step ends (exclusive)."""
        if self._step_end is None:
            self._load()
        return self._step_end  # type: ignore[return-value]

    def step_of(self, k: int) -> int:
        """The step whose quote range holds quote ``k``."""
        if self._step_end is None:
            self._load()
        return bisect_right(self.step_end_at, k)

    def fill_rate(self, step: int) -> float:
        """Conversion rate known when a fill happens in ``step``: the previous step's close."""
        return self.rate_at[step - 1] if step > 0 else self.rate_at[0]
