"""Open trades (lots) and the per-symbol position they add up to."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

__all__ = ["Position", "Trade"]


@dataclass(slots=True, eq=False)
class Trade:
    """One open trade: a lot opened by one fill, closed by later fills (possibly in parts).

    ``commission`` is the entry commission not yet attributed to a closed part; ``swap`` the
    financing accrued so far; ``margin`` the margin it holds (account currency, fixed at entry).
    """

    id: int
    symbol: str
    units: float
    entry_price: float
    entry_ns: int
    entry_k: int
    commission: float
    margin: float
    swap: float = 0.0
    exit_orders: list[int] = field(default_factory=list)
    # the stop-loss / take-profit levels attached at entry (nan: none), kept for the trade list
    stop_loss: float = math.nan
    take_profit: float = math.nan

    @property
    def lots(self) -> float:
        return self.units


class Position:
    """The net position in one symbol, as the strategy sees it. Falsy when flat.

    ``units`` is signed (positive long); ``average_price`` is the volume-weighted entry price of
    the open trades on the side of the net position. In hedging mode both sides can be open.
    """

    __slots__ = (
        "contract_size",
        "long_cost",
        "long_units",
        "short_cost",
        "short_units",
        "symbol",
        "units",
    )

    def __init__(self, symbol: str, contract_size: float) -> None:
        self.symbol = symbol
        self.contract_size = contract_size
        self.units = 0.0
        self.long_units = 0.0
        self.long_cost = 0.0
        self.short_units = 0.0
        self.short_cost = 0.0

    def update(self, trades: list[Trade]) -> None:
        long_units = long_cost = short_units = short_cost = 0.0
        for t in trades:
            if t.units > 0:
                long_units += t.units
                long_cost += t.units * t.entry_price
            else:
                short_units -= t.units
                short_cost -= t.units * t.entry_price
        self.long_units, self.long_cost = long_units, long_cost
        self.short_units, self.short_cost = short_units, short_cost
        self.units = long_units - short_units
        if abs(self.units) < 1e-9:
            self.units = 0.0

    def __bool__(self) -> bool:
        return self.units != 0.0

    @property
    def amount(self) -> float:
        """Signed units (zipline's name)."""
        return self.units

    @property
    def lots(self) -> float:
        """Signed size in lots."""
        return self.units / self.contract_size

    @property
    def average_price(self) -> float:
        if self.units > 0:
            return self.long_cost / self.long_units
        if self.units < 0:
            return self.short_cost / self.short_units
        return 0.0

    @property
    def cost_basis(self) -> float:
        """zipline's name for the average entry price."""
        return self.average_price

    def __repr__(self) -> str:
        return (
            f"Position({self.symbol}, units={self.units:g}, average_price={self.average_price:g})"
        )
