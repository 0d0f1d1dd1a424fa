"""A sweep payload that counts how often it is unpickled, in each process (for the proof that a
Dask sweep ships its data to each worker once, not with every task)."""

from __future__ import annotations

from typing import Any

from backtestr.optimize import SweepPayload

_UNPICKLED = 0


class CountingPayload(SweepPayload):
    __slots__ = ()

    def __setstate__(self, state: Any) -> None:
        global _UNPICKLED
        _UNPICKLED += 1
        super().__setstate__(state)  # type: ignore[misc]

    @classmethod
    def of(cls, payload: SweepPayload) -> CountingPayload:
        return cls(payload.source, payload.market, payload.settings, payload.objective)


def times_unpickled() -> int:
    """How many payloads this process has unpickled so far."""
    return _UNPICKLED
