"""BackTestr: a local-first backtesting workstation for traders who write strategies in Python."""

from pathlib import Path
from typing import TYPE_CHECKING

from backtestr.app.paths import resolve_home
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
from backtestr.optimize.walkforward_api import walk_forward
from backtestr.strategy import Backtest, Strategy, market_from_bars, run

if TYPE_CHECKING:
    from backtestr.optimize.api import optimize
else:
    # the package is callable: ``backtestr.optimize(...)`` runs a sweep, while its modules stay
    # importable (``import backtestr.optimize.space``), which a function of that name would break
    import backtestr.optimize as optimize


def open_store(home: str | Path | None = None) -> Store:
    """Open the data home (``home``, else ``BACKTESTR_HOME``, else the user data dir).

    Examples
    --------
    >>> import backtestr
    >>> with backtestr.open_store("/tmp/bt-home") as store:  # doctest: +SKIP
    ...     store.import_file("EURUSD_ticks.csv", symbol="EURUSD")
    ...     h1 = bars_to_frame(store.bars("EURUSD", "H1"))
    """
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
