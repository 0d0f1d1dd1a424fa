"""BackTestr: a local-first backtesting workstation for traders who write strategies in Python."""

from backtestr.errors import (
    BacktestrError,
    ConfigError,
    DataError,
    DataFormatError,
    NoDataError,
)
from backtestr.model import (
    BarArrays,
    Instrument,
    PriceSide,
    TickArrays,
    Timeframe,
    TradingDay,
    fx_instrument,
)

__all__ = [
    "BacktestrError",
    "BarArrays",
    "ConfigError",
    "DataError",
    "DataFormatError",
    "Instrument",
    "NoDataError",
    "PriceSide",
    "TickArrays",
    "Timeframe",
    "TradingDay",
    "fx_instrument",
]
