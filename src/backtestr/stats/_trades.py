"""The trade list contract: the columns a closed-trades DataFrame carries, and its validation.

Sign conventions (the engine writes, the statistics read):

- ``gross_pnl`` is the price P&L in the account currency, before any cost.
- ``commission`` is what the trade paid in commissions (entry and exit), a cost ``>= 0``.
- ``swap`` is the swap *charged* over the trade's life: positive when the trader paid, negative
  when the trade earned a swap credit.
- ``pnl = gross_pnl - commission - swap`` is the net result in the account currency.
- ``return_pct`` is the net result relative to the entry notional (size times entry price, in the
  account currency), in percent: ``1.5`` means +1.5 %.
- ``pnl_pips``, ``mae_pips`` (maximum adverse excursion, ``<= 0``) and ``mfe_pips`` (maximum
  favourable excursion, ``>= 0``) are price distances in pips, positive in the trader's favour.
- ``size_units`` is positive for both sides (the direction is in ``side``: ``"long"`` or
  ``"short"``); ``size_lots = size_units / contract_size``.
- ``entry_time`` / ``exit_time`` are tz-aware UTC timestamps; ``duration = exit_time - entry_time``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from backtestr.errors import ConfigError

__all__ = ["TRADE_COLUMNS", "empty_trades", "validate_trades"]

TRADE_COLUMNS: tuple[str, ...] = (
    "symbol",
    "side",
    "size_units",
    "size_lots",
    "entry_time",
    "exit_time",
    "entry_price",
    "exit_price",
    "gross_pnl",
    "commission",
    "swap",
    "pnl",
    "pnl_pips",
    "return_pct",
    "mae_pips",
    "mfe_pips",
    "duration",
)

_FLOAT_COLUMNS = (
    "size_units",
    "size_lots",
    "entry_price",
    "exit_price",
    "gross_pnl",
    "commission",
    "swap",
    "pnl",
    "pnl_pips",
    "return_pct",
    "mae_pips",
    "mfe_pips",
)


def empty_trades() -> pd.DataFrame:
    """Return a trade list with no rows and the right column dtypes.

    Examples
    --------
    >>> list(empty_trades().columns) == list(TRADE_COLUMNS)
    True
    """
    columns: dict[str, pd.Series] = {
        "symbol": pd.Series([], dtype=object),
        "side": pd.Series([], dtype=object),
    }
    for name in _FLOAT_COLUMNS:
        columns[name] = pd.Series([], dtype=np.float64)
    columns["entry_time"] = pd.Series(pd.DatetimeIndex([], tz="UTC"))
    columns["exit_time"] = pd.Series(pd.DatetimeIndex([], tz="UTC"))
    columns["duration"] = pd.Series(pd.TimedeltaIndex([]))
    return pd.DataFrame(columns)[list(TRADE_COLUMNS)]


def validate_trades(trades: pd.DataFrame) -> None:
    """Raise :class:`~backtestr.errors.ConfigError` unless ``trades`` follows the contract.

    Only what the statistics rely on is checked: the columns exist, the sides are ``"long"`` or
    ``"short"`` and the P&L columns are finite numbers. Extra columns are allowed.
    """
    missing = [name for name in TRADE_COLUMNS if name not in trades.columns]
    if missing:
        raise ConfigError(
            f"The trade list lacks the column(s) {', '.join(missing)}: a trade list needs "
            f"{', '.join(TRADE_COLUMNS)} (see backtestr.stats.TRADE_COLUMNS; "
            "backtestr.stats.empty_trades() builds an empty one)."
        )
    if len(trades) == 0:
        return
    sides = set(trades["side"].unique())
    if not sides <= {"long", "short"}:
        bad = sorted(str(side) for side in sides - {"long", "short"})
        raise ConfigError(f"Trade side must be 'long' or 'short', got {', '.join(bad)}.")
    for name in ("entry_time", "exit_time"):
        column = trades[name]
        if not isinstance(column.dtype, pd.DatetimeTZDtype):
            raise ConfigError(
                f"Trade column '{name}' must hold tz-aware UTC timestamps, got dtype "
                f"{column.dtype} (use pd.to_datetime(..., utc=True))."
            )
    for name in ("pnl", "return_pct"):
        values = trades[name].to_numpy(dtype=np.float64)
        if not np.all(np.isfinite(values)):
            raise ConfigError(f"Trade column '{name}' holds a NaN or infinite value.")
