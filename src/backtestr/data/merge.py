"""How newly imported rows combine with stored rows of the same partition (pure numpy).

- Ticks: the new rows replace the stored ticks inside their own time span ``[first, last]``;
  stored ticks outside it are kept. Several quotes may share a timestamp, so ticks have no key to
  deduplicate on; a span is the unit a feed delivers. Importing the same file twice is a no-op and
  an overlapping file merges without duplicates.
- Bars: union by open time; where both have a bar, the new one wins.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any, Generic, TypeVar

import numpy as np
import numpy.typing as npt

from backtestr.model import BarArrays, TickArrays

__all__ = ["MergeOutcome", "arrays_equal", "merge_bars", "merge_ticks"]

ArraysT = TypeVar("ArraysT", TickArrays, BarArrays)


@dataclass(frozen=True, slots=True)
class MergeOutcome(Generic[ArraysT]):
    """The merged partition and what the merge did to the stored rows."""

    merged: ArraysT
    rows_added: int
    rows_replaced: int
    changed: bool


def arrays_equal(left: TickArrays | BarArrays, right: TickArrays | BarArrays) -> bool:
    """Bit-for-bit equality of two column sets (NaN equals NaN)."""
    if type(left) is not type(right) or len(left) != len(right):
        return False
    for field in fields(left):
        a, b = getattr(left, field.name), getattr(right, field.name)
        if not np.array_equal(a, b, equal_nan=a.dtype.kind == "f"):
            return False
    return True


def merge_ticks(stored: TickArrays, new: TickArrays) -> MergeOutcome[TickArrays]:
    """Replace the stored ticks within the new ticks' time span by the new ticks."""
    if len(new) == 0:
        return MergeOutcome(stored, 0, 0, False)
    first, last = new.ts_ns[0], new.ts_ns[-1]
    cut_start = int(np.searchsorted(stored.ts_ns, first, side="left"))
    cut_stop = int(np.searchsorted(stored.ts_ns, last, side="right"))
    replaced = stored.slice(cut_start, cut_stop)
    if arrays_equal(replaced, new):
        return MergeOutcome(stored, 0, 0, False)
    merged = TickArrays.concat(
        [stored.slice(0, cut_start), new, stored.slice(cut_stop, len(stored))]
    )
    if _delivered_again(replaced, new):
        # an overlapping file: the stored ticks come back unchanged, only the rest is new
        return MergeOutcome(merged, len(new) - len(replaced), 0, True)
    # counts never go negative: a shorter new span removes stored rows, it adds none
    return MergeOutcome(merged, max(0, len(new) - len(replaced)), len(replaced), True)


def _delivered_again(replaced: TickArrays, new: TickArrays) -> bool:
    """True when ``replaced`` reappears, unchanged and contiguous, inside ``new``."""
    if len(replaced) == 0:
        return True
    start = int(np.searchsorted(new.ts_ns, replaced.ts_ns[0], side="left"))
    return arrays_equal(new.slice(start, start + len(replaced)), replaced)


def merge_bars(stored: BarArrays, new: BarArrays) -> MergeOutcome[BarArrays]:
    """Union by open time; the new bar wins where both have one."""
    if len(new) == 0:
        return MergeOutcome(stored, 0, 0, False)
    both = BarArrays.concat([stored, new])
    source = np.concatenate([np.zeros(len(stored), np.int8), np.ones(len(new), np.int8)])
    order = np.lexsort((source, both.ts_ns))
    ts_sorted = both.ts_ns[order]
    # keep the last row of each timestamp group: the new one when both exist
    keep = np.ones(len(order), dtype=bool)
    keep[:-1] = ts_sorted[:-1] != ts_sorted[1:]
    merged = both.take(order[keep])
    if arrays_equal(merged, stored):
        return MergeOutcome(stored, 0, 0, False)
    # a stored bar is replaced when a new bar has its time but different values
    shared_old = stored.take(np.isin(stored.ts_ns, new.ts_ns))
    shared_new = new.take(np.isin(new.ts_ns, stored.ts_ns))
    differs = np.zeros(len(shared_old), dtype=bool)
    for field in fields(BarArrays):
        differs |= ~_same(getattr(shared_old, field.name), getattr(shared_new, field.name))
    rows_replaced = int(np.count_nonzero(differs))
    return MergeOutcome(merged, len(merged) - len(stored), rows_replaced, True)


def _same(a: np.ndarray[Any, Any], b: np.ndarray[Any, Any]) -> npt.NDArray[np.bool_]:
    if a.dtype.kind == "f":
        return np.asarray((a == b) | (np.isnan(a) & np.isnan(b)))
    return np.asarray(a == b)
