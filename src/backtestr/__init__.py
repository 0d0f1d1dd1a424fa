"""BackTestr: a local-first backtesting workstation for traders who write strategies in Python.

The public names below are imported on first use (PEP 562 ``__getattr__``): ``import
backtestr.x`` — a command of the CLI, a worker process of a sweep — then loads what ``x`` uses
rather than the whole library (DuckDB, the store, the engine, pandas), which takes seconds.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from backtestr.data.export import bars_to_frame
    from backtestr.data.store import Store
    from backtestr.engine import EngineSettings, MarketData, RunResult, SymbolFeed
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
    from backtestr.optimize.api import optimize
    from backtestr.optimize.walkforward_api import walk_forward
    from backtestr.strategy import Backtest, Strategy, market_from_bars, run

# public name -> the module that defines it
_HOMES = {
    "bars_to_frame": "backtestr.data.export",
    "Store": "backtestr.data.store",
    **dict.fromkeys(
        ["EngineSettings", "MarketData", "RunResult", "SymbolFeed"], "backtestr.engine"
    ),
    **dict.fromkeys(
        ["BacktestrError", "ConfigError", "DataError", "DataFormatError", "NoDataError"],
        "backtestr.errors",
    ),
    **dict.fromkeys(
        [
            "BarArrays",
            "Instrument",
            "PriceSide",
            "TickArrays",
            "Timeframe",
            "TradingDay",
            "fx_instrument",
        ],
        "backtestr.model",
    ),
    "walk_forward": "backtestr.optimize.walkforward_api",
    **dict.fromkeys(["Backtest", "Strategy", "market_from_bars", "run"], "backtestr.strategy"),
}


def __getattr__(name: str) -> Any:
    if name == "optimize":
        # the package itself, which is callable: ``backtestr.optimize(...)`` runs a sweep while
        # its modules stay importable (``import backtestr.optimize.space``), which a function
        # of that name would break
        return importlib.import_module("backtestr.optimize")
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'backtestr' has no attribute '{name}'")
    value = getattr(importlib.import_module(home), name)
    globals()[name] = value  # later look-ups do not come here
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})


def open_store(home: str | Path | None = None) -> Store:
    """Open the data home (``home``, else ``BACKTESTR_HOME``, else the user data dir).

    Examples
    --------
    >>> import backtestr
    >>> with backtestr.open_store("/tmp/bt-home") as store:  # doctest: +SKIP
    ...     store.import_file("EURUSD_ticks.csv", symbol="EURUSD")
    ...     h1 = bars_to_frame(store.bars("EURUSD", "H1"))
    """
    from backtestr.app.paths import resolve_home
    from backtestr.data.store import Store

    return Store.open(resolve_home(home))


__all__ = [
    "Backtest",
    "BacktestrError",
    "BarArrays",
    "ConfigError",
    "DataError",
    "DataFormatError",
    "EngineSettings",
    "Instrument",
    "MarketData",
    "NoDataError",
    "PriceSide",
    "RunResult",
    "Store",
    "Strategy",
    "SymbolFeed",
    "TickArrays",
    "Timeframe",
    "TradingDay",
    "bars_to_frame",
    "fx_instrument",
    "market_from_bars",
    "open_store",
    "optimize",
    "run",
    "walk_forward",
]
