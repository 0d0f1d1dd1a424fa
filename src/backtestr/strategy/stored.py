"""Backtests on stored data that are saved as runs: the web workstation's "Run" and "Replay".

The store is used only while loading the data and while saving the result, through the
``open_store`` the caller gives (the server serialises every use of its one store), so the run
itself does not hold the store.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from backtestr.data.store import Store
from backtestr.engine import (
    EngineSettings,
    ModellingMode,
    PositionMode,
    RunResult,
    parse_commission,
    parse_slippage,
)
from backtestr.model import BarArrays, Timeframe
from backtestr.strategy.backtest import Backtest, Progress
from backtestr.strategy.feed import market_from_store
from backtestr.strategy.loader import StrategySource

__all__ = ["RunSpec", "SavedRun", "backtest_from_store", "run_and_save", "save_run_result"]

OpenStore = Callable[[], AbstractContextManager[Store]]


@dataclass(frozen=True, slots=True)
class RunSpec:
    """What to run a strategy on, and the account it trades: the run form's fields.

    ``start_ns``/``end_ns`` bound the bars' open times (``end_ns`` exclusive); ``None`` means
    from the first or to the last stored bar.
    """

    symbol: str
    timeframe: str = "M1"
    start_ns: int | None = None
    end_ns: int | None = None
    cash: float = 100_000.0
    currency: str = "USD"
    leverage: float | None = None
    commission: str = "0"
    slippage: str = "0"
    spread_pips: float = 0.0
    mode: str = "ohlc"
    params: Mapping[str, object] = field(default_factory=dict)

    def settings(self) -> EngineSettings:
        """The engine settings these fields describe (raises ``ConfigError`` on bad text)."""
        return EngineSettings(
            cash=self.cash,
            currency=self.currency.upper(),
            leverage=self.leverage,
            mode=ModellingMode.parse(self.mode),
            position_mode=PositionMode.NETTING,
            commission=parse_commission(self.commission or "0"),
            slippage=parse_slippage(self.slippage or "0"),
            spread_pips=self.spread_pips,
        )


@dataclass(frozen=True, slots=True, eq=False)
class SavedRun:
    """A finished run and the id it was saved under."""

    run_id: str
    result: RunResult


def backtest_from_store(open_store: OpenStore, source: StrategySource, spec: RunSpec) -> Backtest:
    """A :class:`Backtest` of ``source`` on the stored data ``spec`` selects (not run yet).

    Other timeframes the strategy asks for later are read through ``open_store`` too, so that
    they wait for the store like everything else.
    """
    settings = spec.settings()
    with open_store() as store:
        market = market_from_store(
            store,
            [spec.symbol.upper()],
            spec.timeframe,
            start_ns=spec.start_ns,
            end_ns=spec.end_ns,
            mode=settings.mode,
            currency=settings.currency,
        )
    loader = market.bar_loader
    if loader is not None:

        def load(symbol: str, timeframe: Timeframe) -> BarArrays:
            with open_store():
                return loader(symbol, timeframe)

        market = dataclasses.replace(market, bar_loader=load)
    return Backtest(source, market, settings, spec.params)


def save_run_as(store: Store, run_id: str, result: RunResult) -> Path:
    """Save ``result`` under ``run_id``: its manifest (with the stats) and its tables."""
    manifest = {**dict(result.manifest), "stats": result.stats.to_dict()}
    return store.save_run(run_id, manifest, result.tables())


def save_run_result(store: Store, result: RunResult, name: str) -> str:
    """Save ``result`` as ``<name>-<UTC time>-<result hash>`` (unique); returns that run id."""
    stem = "".join(c if c.isalnum() else "-" for c in name.lower()).strip("-")[:40]
    digest = hashlib.sha256(result.to_json().encode("utf-8")).hexdigest()[:8]
    base = f"{stem or 'run'}-{datetime.now(UTC).strftime('%Y%m%d-%H%M%S')}-{digest}"
    taken = {row.run_id for row in store.list_runs()}
    run_id, count = base, 1
    while run_id in taken:
        count += 1
        run_id = f"{base}-{count}"
    save_run_as(store, run_id, result)
    return run_id


def run_and_save(
    open_store: OpenStore,
    source: StrategySource,
    spec: RunSpec,
    *,
    name: str = "run",
    progress: Progress | None = None,
    started: Callable[[Backtest], None] | None = None,
) -> SavedRun:
    """Load the data, run the strategy to the end, save the run.

    ``started`` receives the backtest before it runs (to cancel it from another thread with
    :meth:`Backtest.cancel`); ``progress`` receives ``(bars done, bars in all)``.

    Raises
    ------
    StrategyError
        When the strategy's code fails (with the line in the user's code).
    RunCancelledError
        When the backtest was cancelled.
    """
    backtest = backtest_from_store(open_store, source, spec)
    if started is not None:
        started(backtest)
    result = backtest.run(progress)
    with open_store() as store:
        run_id = save_run_result(store, result, name)
    return SavedRun(run_id, result)
