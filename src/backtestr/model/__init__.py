"""Value types only: no I/O, no imports of the rest of BackTestr but errors."""

from backtestr.model.arrays import BarArrays, DataKind, PriceSide, TickArrays
from backtestr.model.instrument import (
    AssetClass,
    Instrument,
    fx_instrument,
    is_fx_symbol,
    normalize_symbol,
)
from backtestr.model.timeframe import Timeframe, TimeUnit, TradingDay

__all__ = [
    "AssetClass",
    "BarArrays",
    "DataKind",
    "Instrument",
    "PriceSide",
    "TickArrays",
    "TimeUnit",
    "Timeframe",
    "TradingDay",
    "fx_instrument",
    "is_fx_symbol",
    "normalize_symbol",
]
