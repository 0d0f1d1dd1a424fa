"""Commission and slippage models.

Every commission model is charged **per fill** (once when a trade opens, once when it closes),
in the account currency. Slippage moves market and stop fills against the trader; limit fills
never slip (they fill at the limit or better).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Protocol

from backtestr.errors import ConfigError
from backtestr.model import Instrument

__all__ = [
    "CommissionModel",
    "FixedSlippage",
    "NoCommission",
    "PerLot",
    "PerMillion",
    "PerTrade",
    "Percent",
    "SlippageModel",
    "parse_commission",
    "parse_slippage",
]


class CommissionModel(Protocol):
    def cost(self, units: float, price: float, instrument: Instrument, rate: float) -> float:
        """Commission in account currency for a fill of ``|units|`` at ``price``.

        ``rate`` converts the instrument's quote currency to the account currency.
        """
        ...

    def describe(self) -> str: ...


@dataclass(frozen=True, slots=True)
class NoCommission:
    def cost(self, units: float, price: float, instrument: Instrument, rate: float) -> float:
        return 0.0

    def describe(self) -> str:
        return "0"


@dataclass(frozen=True, slots=True)
class PerLot:
    """``amount`` account-currency units per lot per side (e.g. 3.5 = 7 per round turn)."""

    amount: float

    def cost(self, units: float, price: float, instrument: Instrument, rate: float) -> float:
        return abs(units) / instrument.contract_size * self.amount

    def describe(self) -> str:
        return f"{self.amount:g}/lot"


@dataclass(frozen=True, slots=True)
class PerMillion:
    """``amount`` per million of notional (in account currency) per side."""

    amount: float

    def cost(self, units: float, price: float, instrument: Instrument, rate: float) -> float:
        return abs(units) * price * rate / 1_000_000.0 * self.amount

    def describe(self) -> str:
        return f"{self.amount:g}/m"


@dataclass(frozen=True, slots=True)
class Percent:
    """``percent`` of the notional per side (0.1 = 0.1 %)."""

    percent: float

    def cost(self, units: float, price: float, instrument: Instrument, rate: float) -> float:
        return abs(units) * price * rate * self.percent / 100.0

    def describe(self) -> str:
        return f"{self.percent:g}%"


@dataclass(frozen=True, slots=True)
class PerTrade:
    """A fixed ``amount`` for every fill (entries and exits alike)."""

    amount: float

    def cost(self, units: float, price: float, instrument: Instrument, rate: float) -> float:
        return self.amount

    def describe(self) -> str:
        return f"{self.amount:g}/trade"


class SlippageModel(Protocol):
    def slip(self, instrument: Instrument) -> float:
        """Adverse price distance added to a market or stop fill."""
        ...

    def describe(self) -> str: ...


@dataclass(frozen=True, slots=True)
class FixedSlippage:
    """A fixed adverse slippage of ``pips`` on every market and stop fill."""

    pips: float = 0.0

    def slip(self, instrument: Instrument) -> float:
        return self.pips * instrument.pip_size

    def describe(self) -> str:
        return f"{self.pips:g}pips"


_COMMISSION = re.compile(r"^\s*([0-9]*\.?[0-9]+)\s*(/\s*lot|/\s*m|%|/\s*trade)?\s*$", re.I)


def parse_commission(text: str) -> CommissionModel:
    """Parse ``7/lot``, ``35/m`` (per million), ``0.1%``, ``2/trade`` or ``0``.

    Raises
    ------
    ConfigError
        When the text is none of those forms.
    """
    match = _COMMISSION.match(text)
    if match is None:
        raise ConfigError(
            f"Unknown commission '{text}': use AMOUNT/lot, AMOUNT/m (per million), PERCENT% "
            "or AMOUNT/trade (all per side), e.g. 3.5/lot."
        )
    amount = float(match.group(1))
    unit = (match.group(2) or "").replace(" ", "").lower()
    if unit == "/lot":
        return PerLot(amount)
    if unit == "/m":
        return PerMillion(amount)
    if unit == "%":
        return Percent(amount)
    if unit == "/trade":
        return PerTrade(amount)
    if amount == 0:
        return NoCommission()
    raise ConfigError(
        f"Commission '{text}' has no unit: write {amount:g}/lot, {amount:g}/m, {amount:g}% "
        f"or {amount:g}/trade."
    )


def parse_slippage(text: str) -> FixedSlippage:
    """Parse a fixed slippage in pips: ``0.5`` or ``0.5pips``."""
    cleaned = text.strip().lower().removesuffix("pips").removesuffix("pip").strip()
    try:
        pips = float(cleaned)
    except ValueError:
        raise ConfigError(f"Unknown slippage '{text}': give pips, e.g. 0.5 or 0.5pips.") from None
    if pips < 0:
        raise ConfigError(f"Slippage must be zero or positive pips, got {text}.")
    return FixedSlippage(pips)
