"""The compiled order-matching kernels.

:func:`scan_order` walks a quote path and finds the first quote at which one pending order
triggers, and at what price: buys trade at the ask, sells at the bid. A level crossed *between*
two quotes of a continuous synthetic path fills exactly at the level; a level jumped over (a gap:
a new bar's open, or between two real ticks) fills at the quote's own price — the limit or better
for limits, the worse price for stops.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numba import njit

from backtestr.model.arrays import F64, I64

__all__ = ["CODE_EXPIRED", "CODE_FILLED", "CODE_NONE", "excursions", "scan_order"]

CODE_NONE = 0
CODE_FILLED = 1
CODE_EXPIRED = 2

MARKET, LIMIT, STOP, STOP_LIMIT, TRAILING = 0, 1, 2, 3, 4


@njit(cache=True)
def scan_order(
    ts: I64,
    bid: F64,
    ask: F64,
    continuous: np.ndarray[Any, Any],
    k0: int,
    k1: int,
    cross_from: int,
    kind: int,
    is_buy: bool,
    stop: float,
    limit: float,
    trail: float,
    level: float,
    expire_ns: int,
) -> tuple[int, int, float, int, float, int]:
    """Scan quotes ``[k0, k1)`` for one order.

    Returns ``(k, code, price, kind, level, cross_from)``: the quote index and code of the event
    (``CODE_NONE`` with ``k = k1`` when nothing happened), the fill price, and the order's state
    to resume from (a triggered stop-limit becomes a limit; a trailing stop's level ratchets).
    """
    for k in range(k0, k1):
        if ts[k] >= expire_ns:
            return k, CODE_EXPIRED, np.nan, kind, level, cross_from
        p = ask[k] if is_buy else bid[k]
        crossing = continuous[k] and k >= cross_from
        prev = (ask[k - 1] if is_buy else bid[k - 1]) if crossing else np.nan
        if kind == MARKET:
            return k, CODE_FILLED, p, kind, level, cross_from
        if kind == LIMIT:
            if (is_buy and p <= limit) or (not is_buy and p >= limit):
                through = crossing and ((prev > limit) if is_buy else (prev < limit))
                return k, CODE_FILLED, limit if through else p, kind, level, cross_from
            continue
        if kind == TRAILING:
            if (is_buy and p >= level) or (not is_buy and p <= level):
                through = crossing and ((prev < level) if is_buy else (prev > level))
                return k, CODE_FILLED, level if through else p, kind, level, cross_from
            level = min(level, p + trail) if is_buy else max(level, p - trail)
            continue
        # STOP and STOP_LIMIT
        if (is_buy and p >= stop) or (not is_buy and p <= stop):
            through = crossing and ((prev < stop) if is_buy else (prev > stop))
            price = stop if through else p
            if kind == STOP:
                return k, CODE_FILLED, price, kind, level, cross_from
            if (is_buy and price <= limit) or (not is_buy and price >= limit):
                return k, CODE_FILLED, price, kind, level, cross_from
            # The stop traded but beyond the limit: from here on it is a plain limit order.
            kind = LIMIT
            cross_from = k + 1
    return k1, CODE_NONE, np.nan, kind, level, cross_from


@njit(cache=True)
def excursions(
    bid: F64, ask: F64, starts: I64, stops: I64, units: F64, entry: F64
) -> tuple[F64, F64]:
    """Maximum adverse and favourable excursion (in price) of each trade over its quotes.

    A long is valued at the bid, a short at the ask; the range is quotes ``[start, stop]``.
    """
    n = len(starts)
    adverse = np.zeros(n)
    favourable = np.zeros(n)
    for t in range(n):
        worst = 0.0
        best = 0.0
        for k in range(starts[t], stops[t] + 1):
            move = (bid[k] - entry[t]) if units[t] > 0 else (entry[t] - ask[k])
            worst = min(worst, move)
            best = max(best, move)
        adverse[t] = -worst
        favourable[t] = best
    return adverse, favourable
