"""Instrument specifications as JSON for the catalog, and the default for a new symbol."""

from __future__ import annotations

from dataclasses import asdict
from datetime import time
from typing import Any

from backtestr.errors import ConfigError
from backtestr.model import AssetClass, Instrument, TradingDay, fx_instrument, is_fx_symbol

__all__ = ["default_instrument", "instrument_from_dict", "instrument_to_dict"]


def instrument_to_dict(instrument: Instrument) -> dict[str, Any]:
    data = asdict(instrument)
    data["asset_class"] = instrument.asset_class.value
    data["trading_day"] = {
        "start": instrument.trading_day.start.strftime("%H:%M"),
        "timezone": instrument.trading_day.timezone,
    }
    return data


def instrument_from_dict(data: dict[str, Any]) -> Instrument:
    values = dict(data)
    day = values.pop("trading_day")
    values["trading_day"] = TradingDay(time.fromisoformat(day["start"]), day["timezone"])
    values["asset_class"] = AssetClass(values["asset_class"])
    return Instrument(**values)


def default_instrument(symbol: str) -> Instrument:
    """The built-in specification of an FX pair or metal.

    Raises
    ------
    ConfigError
        For any other symbol: the user must describe it (currency, pip size, contract size).
    """
    if is_fx_symbol(symbol):
        return fx_instrument(symbol)
    raise ConfigError(
        f"'{symbol}' is not a known FX pair, so BackTestr needs its specification: give at "
        "least its currency, e.g. `--currency USD --pip-size 0.01 --contract-size 1` "
        "(or pass `instrument=Instrument(...)` from Python)."
    )


def custom_instrument(
    symbol: str,
    *,
    currency: str,
    pip_size: float = 0.01,
    tick_size: float | None = None,
    contract_size: float = 1.0,
    margin_rate: float = 1.0,
) -> Instrument:
    """A non-FX instrument (equity, index, crypto…) with days aligned to 00:00 UTC."""
    currency = currency.strip().upper()
    if len(currency) != 3 or not currency.isalpha():
        raise ConfigError(f"Currency '{currency}' must be a three-letter ISO code such as USD.")
    return Instrument(
        symbol,
        base_currency=symbol,
        quote_currency=currency,
        pip_size=pip_size,
        tick_size=pip_size if tick_size is None else tick_size,
        contract_size=contract_size,
        min_lot=1.0 if contract_size == 1.0 else 0.01,
        lot_step=1.0 if contract_size == 1.0 else 0.01,
        margin_rate=margin_rate,
        asset_class=AssetClass.OTHER,
        trading_day=TradingDay.utc_midnight(),
    )
