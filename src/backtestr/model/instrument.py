"""Instrument specifications: what a symbol is, how its prices move and how it is sized.

FX majors and crosses ship with correct defaults (:func:`fx_instrument`); anything else gets a
specification from the user (``Instrument(...)``).
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass, field

from backtestr.errors import ConfigError
from backtestr.model.timeframe import TradingDay

__all__ = ["AssetClass", "Instrument", "fx_instrument", "is_fx_symbol", "normalize_symbol"]

# ISO 4217 codes of currencies traded as FX pairs (majors, crosses and common exotics) plus metals.
FX_CURRENCIES = frozenset(
    [
        "USD",
        "EUR",
        "JPY",
        "GBP",
        "CHF",
        "AUD",
        "NZD",
        "CAD",
        "SEK",
        "NOK",
        "DKK",
        "PLN",
        "HUF",
        "CZK",
        "TRY",
        "ZAR",
        "MXN",
        "SGD",
        "HKD",
        "CNH",
        "ILS",
        "RUB",
        "THB",
        "XAU",
        "XAG",
    ]
)
# Quote currencies whose pip is 0.01 rather than 0.0001.
_TWO_DECIMAL_QUOTES = frozenset({"JPY", "HUF", "CZK", "RUB", "THB"})
_SYMBOL_PATTERN = re.compile(r"^[A-Z0-9][A-Z0-9._-]{0,31}$")


def normalize_symbol(symbol: str) -> str:
    """Upper-case a symbol; drop the separator vendors put in FX pairs (``eur/usd`` → ``EURUSD``).

    Raises
    ------
    ConfigError
        When the symbol is empty or holds characters that cannot name a folder safely.
    """
    text = symbol.strip().upper()
    if len(text) == 7 and text[3] in "/_-.":
        text = text[:3] + text[4:]
    if not _SYMBOL_PATTERN.match(text):
        raise ConfigError(
            f"Invalid symbol '{symbol}': use letters, digits, '.', '_' or '-' "
            "(at most 32 characters), e.g. EURUSD or AAPL."
        )
    return text


def is_fx_symbol(symbol: str) -> bool:
    """True for six-letter pairs of known currencies such as ``EURUSD`` or ``XAUUSD``."""
    return len(symbol) == 6 and symbol[:3] in FX_CURRENCIES and symbol[3:] in FX_CURRENCIES


class AssetClass(enum.Enum):
    FX = "fx"
    METAL = "metal"
    EQUITY = "equity"
    INDEX = "index"
    CRYPTO = "crypto"
    OTHER = "other"


@dataclass(frozen=True, slots=True)
class Instrument:
    """Everything the engine needs to know about a tradable symbol.

    Parameters
    ----------
    symbol
        Upper-case symbol, e.g. ``"EURUSD"``.
    base_currency, quote_currency
        For FX the two legs of the pair; for other assets the base is the asset itself and the
        quote the currency its prices are in.
    pip_size
        Price change called one pip (0.0001 for EURUSD, 0.01 for USDJPY); for non-FX one point.
    tick_size
        Smallest price increment (0.00001 for five-digit FX quotes).
    contract_size
        Units of the base in one lot (100 000 for FX).
    min_lot, lot_step
        Smallest order size in lots, and its granularity.
    margin_rate
        Fraction of the notional held as margin (1/30 = leverage 30:1).
    swap_long_pips, swap_short_pips
        Daily financing in pips per lot for a long / short position (negative is a cost).
    asset_class
        What kind of market this is.
    trading_day
        When D1 and larger bars start.
    """

    symbol: str
    base_currency: str
    quote_currency: str
    pip_size: float
    tick_size: float
    contract_size: float = 100_000.0
    min_lot: float = 0.01
    lot_step: float = 0.01
    margin_rate: float = 1.0 / 30.0
    swap_long_pips: float = 0.0
    swap_short_pips: float = 0.0
    asset_class: AssetClass = AssetClass.FX
    trading_day: TradingDay = field(default_factory=TradingDay.fx)

    def __post_init__(self) -> None:
        positive = {
            "pip_size": self.pip_size,
            "tick_size": self.tick_size,
            "contract_size": self.contract_size,
            "min_lot": self.min_lot,
            "lot_step": self.lot_step,
            "margin_rate": self.margin_rate,
        }
        for name, value in positive.items():
            if not value > 0:
                raise ConfigError(
                    f"Instrument {self.symbol}: {name} must be positive, got {value!r}"
                )
        if self.margin_rate > 1:
            raise ConfigError(
                f"Instrument {self.symbol}: margin_rate is a fraction of the notional "
                f"(0 < rate <= 1), got {self.margin_rate}; for leverage 30 use 1/30."
            )

    def pips(self, price_difference: float) -> float:
        """Express a price difference in pips."""
        return price_difference / self.pip_size


def fx_instrument(symbol: str) -> Instrument:
    """Default specification of an FX pair or metal (``EURUSD``, ``USDJPY``, ``XAUUSD`` …).

    Raises
    ------
    ConfigError
        When the symbol is not a pair of known currencies.
    """
    symbol = normalize_symbol(symbol)
    if not is_fx_symbol(symbol):
        raise ConfigError(
            f"'{symbol}' is not a known FX pair: give its specification "
            "(pip size, tick size, contract size, currency) when you register it."
        )
    base, quote = symbol[:3], symbol[3:]
    if base in ("XAU", "XAG"):
        pip = 0.01 if base == "XAU" else 0.001
        return Instrument(
            symbol,
            base,
            quote,
            pip_size=pip,
            tick_size=pip,
            contract_size=100.0 if base == "XAU" else 5000.0,
            margin_rate=0.05,
            asset_class=AssetClass.METAL,
        )
    pip = 0.01 if quote in _TWO_DECIMAL_QUOTES else 0.0001
    return Instrument(symbol, base, quote, pip_size=pip, tick_size=pip / 10)
