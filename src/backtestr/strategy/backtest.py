"""Running a strategy: all at once, step by step, or in the background with cancellation.

>>> bt = Backtest(strategy_source, market, EngineSettings(cash=10_000))  # doctest: +SKIP
>>> bt.step(100); bt.run_until(ts_ns); result = bt.run()                   # doctest: +SKIP
"""

from __future__ import annotations

import ctypes
import hashlib
import threading
from collections.abc import Callable, Mapping
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

from backtestr.engine import (
    Engine,
    EngineEvent,
    EngineSettings,
    MarketData,
    Order,
    RunCancelledError,
    RunControl,
    RunResult,
    build_result,
)
from backtestr.errors import BacktestrError, StrategyError
from backtestr.strategy.base import Strategy
from backtestr.strategy.functions import FunctionStrategy
from backtestr.strategy.loader import StrategySource, load_strategy, strategy_error
from backtestr.strategy.params import resolve_params

__all__ = ["Backtest", "RunHandle", "data_fingerprint"]

Progress = Callable[[int, int], None]


class Backtest:
    """One strategy on one market with one set of settings.

    Parameters
    ----------
    strategy
        A ``.py`` path, code text, a :class:`Strategy` subclass, or a loaded
        :class:`StrategySource`.
    market
        The data to run on.
    settings
        Engine settings (cash, costs, modelling mode …).
    params
        Overrides of the strategy's ``PARAMETERS`` (strings are converted to the declared type).
    """

    def __init__(
        self,
        strategy: str | Path | type[Strategy] | StrategySource,
        market: MarketData,
        settings: EngineSettings | None = None,
        params: Mapping[str, object] | None = None,
    ) -> None:
        self.source = strategy if isinstance(strategy, StrategySource) else load_strategy(strategy)
        self.params = resolve_params(self.source.parameters, params)
        self.market = market
        self.control = RunControl()
        self.engine = Engine(market, settings or EngineSettings(), control=self.control)
        self.strategy = self.source.instantiate()
        self.strategy._bind(self.engine, self.params)
        self._guard(self.strategy.initialize, "running initialize")
        self.strategy._initializing = False
        self._schedule_day_starts()
        self._on_bar = self.strategy.bar_callback()
        self._result: RunResult | None = None

    @property
    def settings(self) -> EngineSettings:
        return self.engine.settings

    def _schedule_day_starts(self) -> None:
        strategy = self.strategy
        overridden = type(strategy).before_trading_start is not Strategy.before_trading_start
        if isinstance(strategy, FunctionStrategy):
            overridden = strategy.has_before_trading_start()
        if not overridden:
            return
        from backtestr.strategy.schedule import date_rules, time_rules

        strategy.schedule_function(
            strategy.before_trading_start, date_rules.every_day(), time_rules.market_open()
        )

    def _guard(self, call: Callable[[], None], during: str) -> None:
        try:
            call()
        except (RunCancelledError, StrategyError):
            raise
        except Exception as error:
            raise strategy_error(error, self.source.filename, during) from error

    # ------------------------------------------------------------------ control
    def subscribe(self, subscriber: Callable[[EngineEvent], None]) -> Callable[[], None]:
        """Receive engine events (bar closed, orders, positions, equity); returns unsubscribe."""
        return self.engine.events.subscribe(subscriber)

    def step(self, count: int = 1) -> None:
        """Advance ``count`` bars."""
        self._guard(lambda: self.engine.run_steps(count, self._on_bar), "running handle_data")

    def run_until(self, ts_ns: int) -> None:
        """Advance through every bar opening before ``ts_ns``."""
        self._guard(lambda: self.engine.run_until(ts_ns, self._on_bar), "running handle_data")

    @property
    def finished(self) -> bool:
        return self.engine.finished

    def submit_order(self, symbol: str, units: float, **kwargs: Any) -> Order | None:
        """Place an order by hand between steps (replay); same rules as the strategy's."""
        return self.strategy.order(symbol, units, **kwargs)

    def cancel(self) -> None:
        """Ask a running :meth:`run` to stop (thread-safe)."""
        self.control.cancel()

    def run(self, progress: Progress | None = None) -> RunResult:
        """Run to the end (from wherever stepping left off) and return the result."""
        if self._result is not None:
            return self._result
        self._guard(lambda: self.engine.run(self._on_bar, progress=progress), "running handle_data")
        result = build_result(self.engine, self.manifest())
        self._guard(lambda: self.strategy.analyze(result), "running analyze")
        self._result = result
        return result

    def manifest(self) -> dict[str, Any]:
        """Everything needed to reproduce the run (no wall-clock time: reruns are identical)."""
        engine = self.engine
        return {
            "version": _version(),
            "strategy": {
                "filename": self.source.filename,
                "sha256": self.source.sha256,
                "source": self.source.source,
            },
            "parameters": dict(self.params),
            "settings": engine.settings.to_dict(),
            "timeframe": engine.timeframe.name,
            "symbols": engine.symbols,
            "data": {symbol: data_fingerprint(self.market, symbol) for symbol in engine.symbols},
        }


def data_fingerprint(market: MarketData, symbol: str) -> dict[str, Any]:
    """Range, row counts and content hash of one symbol's data in a run."""
    feed = market.feeds[symbol]
    digest = hashlib.sha256()
    for column in feed.bars.columns().values():
        digest.update(np.ascontiguousarray(column).tobytes())
    ticks = 0
    if feed.ticks is not None:
        ticks = len(feed.ticks)
        for column in feed.ticks.columns().values():
            digest.update(np.ascontiguousarray(column).tobytes())
    if feed.execution_bars is not None:
        for column in feed.execution_bars.columns().values():
            digest.update(np.ascontiguousarray(column).tobytes())
    ts = feed.bars.ts_ns
    return {
        "first_bar_ns": int(ts[0]),
        "last_bar_ns": int(ts[-1]),
        "bars": len(ts),
        "ticks": ticks,
        "sha256": digest.hexdigest(),
    }


def _version() -> str:
    try:
        return metadata.version("backtestr")
    except metadata.PackageNotFoundError:
        return "0.0.0"


class RunHandle:
    """A backtest running in a background thread, which can be cancelled.

    Cancellation first asks the engine to stop between bars; a strategy stuck inside its own
    code (an endless loop) is then interrupted by raising :class:`RunCancelledError` in its thread.
    """

    def __init__(self, backtest: Backtest, progress: Progress | None = None) -> None:
        self.backtest = backtest
        self._result: RunResult | None = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._work, args=(progress,), daemon=True)
        self._thread.start()

    def _work(self, progress: Progress | None) -> None:
        try:
            self._result = self.backtest.run(progress)
        except BaseException as error:  # delivered to the caller of result()
            self._error = error

    def cancel(self, grace_seconds: float = 0.5) -> None:
        """Stop the run; interrupt the strategy's own code if it ignores the request."""
        self.backtest.cancel()
        self._thread.join(grace_seconds)
        while self._thread.is_alive():
            ident = self._thread.ident
            if ident is not None:
                ctypes.pythonapi.PyThreadState_SetAsyncExc(
                    ctypes.c_ulong(ident), ctypes.py_object(RunCancelledError)
                )
            self._thread.join(0.1)

    @property
    def done(self) -> bool:
        return not self._thread.is_alive()

    def result(self, timeout: float | None = None) -> RunResult:
        """Wait for the run; re-raises its error (``RunCancelledError`` after :meth:`cancel`)."""
        self._thread.join(timeout)
        if self._thread.is_alive():
            raise TimeoutError("the backtest is still running")
        if self._error is not None:
            if isinstance(self._error, BacktestrError):
                raise self._error
            raise StrategyError(f"Run failed: {self._error}") from self._error
        assert self._result is not None  # the thread either stored a result or an error
        return self._result
