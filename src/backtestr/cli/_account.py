"""The account and execution options shared by ``backtestr run`` and ``backtestr optimize``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click

from backtestr.engine import (
    EngineSettings,
    ModellingMode,
    PositionMode,
    parse_commission,
    parse_slippage,
)

F = TypeVar("F", bound=Callable[..., Any])

# the keyword arguments account_options adds to a command
ACCOUNT_KEYS = (
    "cash",
    "currency",
    "leverage",
    "commission",
    "slippage",
    "spread_pips",
    "mode",
    "trade_on_close",
    "hedging",
)

_OPTIONS = (
    click.option("--cash", default=100_000.0, show_default=True, help="Initial balance."),
    click.option("--currency", default="USD", show_default=True, help="Account currency."),
    click.option(
        "--leverage", type=float, help="Account leverage, e.g. 30 (default: per instrument)."
    ),
    click.option(
        "--commission",
        default="0",
        show_default=True,
        help="Per side: 3.5/lot, 35/m, 0.1%, 2/trade.",
    ),
    click.option("--slippage", default="0", show_default=True, help="Adverse slippage in pips."),
    click.option(
        "--spread",
        "spread_pips",
        default=0.0,
        show_default=True,
        help="Spread in pips where bars carry none.",
    ),
    click.option(
        "--mode",
        type=click.Choice([m.value for m in ModellingMode]),
        default="ohlc",
        show_default=True,
        help="Price modelling: real ticks, M1 OHLC synthetic ticks, or opens only.",
    ),
    click.option(
        "--trade-on-close", is_flag=True, help="Fill market orders at the decision close."
    ),
    click.option("--hedging", is_flag=True, help="Hedging positions instead of netting."),
)


def account_options(command: F) -> F:
    """Add ``--cash --currency --leverage --commission --slippage --spread --mode
    --trade-on-close --hedging`` (in that order in ``--help``)."""
    for option in reversed(_OPTIONS):
        command = option(command)
    return command


def account_settings(
    *,
    cash: float,
    currency: str,
    leverage: float | None,
    commission: str,
    slippage: str,
    spread_pips: float,
    mode: str,
    trade_on_close: bool,
    hedging: bool,
) -> EngineSettings:
    """The engine settings the account options describe (``ConfigError`` on bad text)."""
    return EngineSettings(
        cash=cash,
        currency=currency.upper(),
        leverage=leverage,
        mode=ModellingMode.parse(mode),
        trade_on_close=trade_on_close,
        position_mode=PositionMode.HEDGING if hedging else PositionMode.NETTING,
        commission=parse_commission(commission),
        slippage=parse_slippage(slippage),
        spread_pips=spread_pips,
    )
