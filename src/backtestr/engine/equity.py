"""Per-step account state rebuilt from the broker's change log, in compiled passes.

The broker records, at each change, the step it happened in, the balance after it and the
position of the symbol it touched. The value of a quantity at a step is the last one recorded at
or before that step (before the first change: the starting value). One merge walk over the steps
and the changes gives it, without the per-step index arrays and gathers of a vectorised version.

The arithmetic is the one the vectorised form did, operation for operation, so the equity is
bit-identical: ``open P&L = (long_units * bid - long_cost) + (short_cost - short_units * ask)``,
converted at the step's rate and added to the equity only while a position is open.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from numba import njit

from backtestr.model.arrays import F64, I64

__all__ = ["add_open_pnl", "values_at_steps"]


@njit(cache=True)
def values_at_steps(
    change_steps: I64, values: F64, before: float, out: F64
) -> None:  # pragma: no cover - compiled
    """Fill ``out[i]`` with the last of ``values`` recorded at a step ``<= i`` (``before`` if none).

    ``change_steps`` must be non-decreasing (the broker records changes in time order).
    """
    changes = len(change_steps)
    j = 0
    current = before
    for i in range(len(out)):
        while j < changes and change_steps[j] <= i:
            current = values[j]
            j += 1
        out[i] = current


@njit(cache=True)
def add_open_pnl(
    equity: F64,
    exposed: npt.NDArray[np.bool_],
    change_steps: I64,
    long_units: F64,
    long_cost: F64,
    short_units: F64,
    short_cost: F64,
    mark_bid: F64,
    mark_ask: F64,
    rate: F64,
) -> None:  # pragma: no cover - compiled
    """Add one symbol's open P&L (account currency) at each step to ``equity``, in place.

    The position at step ``i`` is the last one recorded at a step ``<= i`` (flat before the
    first); ``exposed[i]`` is set where it is not flat. Longs are valued at the bid and shorts
    at the ask of the step's close, converted at the step's ``rate``. A flat step adds ``0.0``
    (as ``np.where(open, pnl * rate, 0.0)`` did: the sum is the same number, signed zeros
    included).
    """
    changes = len(change_steps)
    j = 0
    held_long = 0.0
    cost_long = 0.0
    held_short = 0.0
    cost_short = 0.0
    for i in range(len(equity)):
        while j < changes and change_steps[j] <= i:
            held_long = long_units[j]
            cost_long = long_cost[j]
            held_short = short_units[j]
            cost_short = short_cost[j]
            j += 1
        if held_long != 0.0 or held_short != 0.0:
            pnl = (held_long * mark_bid[i] - cost_long) + (cost_short - held_short * mark_ask[i])
            equity[i] = equity[i] + pnl * rate[i]
            exposed[i] = True
        else:
            equity[i] = equity[i] + 0.0
