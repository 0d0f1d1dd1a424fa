"""One trial of a sweep: the strategy run on the sweep's data with one parameter set.

A sweep ships its data to each worker **once**, as a :class:`SweepPayload` (the strategy, the
market with every timeframe the strategy may ask for already loaded, the engine settings); a
task then carries only a parameter set, and :func:`run_trial` is a pure function of the two.
That is what makes the executors interchangeable and their results identical bit for bit.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from backtestr.engine import EngineSettings, MarketData, RunResult, SymbolFeed, slice_market
from backtestr.engine.slicing import bars_between
from backtestr.errors import BacktestrError, NoDataError, StrategyError
from backtestr.model import BarArrays, Timeframe, fx_instrument
from backtestr.strategy.backtest import Backtest, data_fingerprint
from backtestr.strategy.backtest import _version as backtestr_version
from backtestr.strategy.loader import StrategySource
from backtestr.strategy.params import ParamValue, resolve_params

__all__ = [
    "PreloadedBars",
    "SweepPayload",
    "TrialOutcome",
    "daily_returns",
    "freeze_market",
    "run_trial",
    "trial_key",
    "warm_up",
]

F64 = npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class PreloadedBars:
    """A picklable bar loader: the timeframes a strategy may ask for, loaded in advance.

    A timeframe that could not be loaded keeps its error, raised when the strategy asks for it,
    so a worker behaves exactly as a run on the store would.
    """

    bars: Mapping[tuple[str, str], BarArrays]
    errors: Mapping[tuple[str, str], str] = field(default_factory=dict)

    def __call__(self, symbol: str, timeframe: Timeframe) -> BarArrays:
        key = (symbol, timeframe.name)
        if key in self.bars:
            return self.bars[key]
        raise NoDataError(
            self.errors.get(key)
            or f"No {timeframe} bars of {symbol} in this sweep: sweeps preload the standard "
            "timeframes (M1 … MN1) of the run's symbols only."
        )

    def between(self, start_ns: int, end_ns: int) -> PreloadedBars:
        """The bars opening in ``[start_ns, end_ns)`` (views: nothing is copied)."""
        cut = {key: bars_between(bars, start_ns, end_ns) for key, bars in self.bars.items()}
        return PreloadedBars(cut, self.errors)


def freeze_market(market: MarketData) -> MarketData:
    """``market`` with its on-demand loader replaced by :class:`PreloadedBars` (picklable).

    Loads every standard timeframe not finer than the run's, for every symbol, through the
    market's own loader (the store): what the workers will need, read here once.
    """
    loader = market.bar_loader
    if loader is None or isinstance(loader, PreloadedBars):
        return market
    bars: dict[tuple[str, str], BarArrays] = {}
    errors: dict[tuple[str, str], str] = {}
    for symbol, feed in market.feeds.items():
        for timeframe in Timeframe.standard():
            if timeframe < market.timeframe:
                continue
            key = (symbol, timeframe.name)
            if timeframe == market.timeframe:
                bars[key] = feed.bars
                continue
            try:
                bars[key] = loader(symbol, timeframe)
            except BacktestrError as error:
                errors[key] = str(error)
    return dataclasses.replace(market, bar_loader=PreloadedBars(bars, errors))


@dataclass(frozen=True, slots=True, eq=False)
class SweepPayload:
    """What every worker needs once: strategy, data and settings.

    ``objective`` names the statistic the sweep ranks by (a key of ``Statistics.to_dict()``).
    ``window`` (``start_ns, end_ns``), when set, restricts every trial to that part of
    ``market`` (:func:`~backtestr.engine.slice_market`): a walk-forward ships the whole market
    to the workers once and moves the window, instead of shipping each window's data.
    """

    source: StrategySource
    market: MarketData
    settings: EngineSettings
    objective: str = "sharpe_ratio"
    window: tuple[int, int] | None = None

    @property
    def trial_market(self) -> MarketData:
        """The data a trial runs on: ``market``, cut to ``window`` when one is set."""
        if self.window is None:
            return self.market
        return slice_market(self.market, *self.window)

    def in_window(self, start_ns: int, end_ns: int) -> SweepPayload:
        """This payload with trials restricted to ``[start_ns, end_ns)`` of the whole market."""
        return dataclasses.replace(self, window=(start_ns, end_ns))

    @property
    def data_hash(self) -> str:
        """Content hash of everything the runs read (all symbols, all preloaded timeframes).

        With a window, the hash of the window's data: the same as a payload holding that cut
        of the market, so trial keys do not depend on how the data was cut.
        """
        digest = hashlib.sha256()
        market = self.trial_market
        for symbol in market.symbols:
            digest.update(json.dumps(data_fingerprint(market, symbol)).encode())
        loader = market.bar_loader
        if isinstance(loader, PreloadedBars):
            for key in sorted(loader.bars):
                digest.update(repr(key).encode())
                for column in loader.bars[key].columns().values():
                    digest.update(np.ascontiguousarray(column).data.cast("B"))
        return digest.hexdigest()

    def with_market(self, market: MarketData) -> SweepPayload:
        return dataclasses.replace(self, market=market)


def trial_key(
    payload: SweepPayload, params: Mapping[str, ParamValue], data_hash: str | None = None
) -> str:
    """The identity of a trial's result: (strategy hash, parameters, data hash, settings,
    engine version). Re-running a sweep skips every trial whose key is already stored.

    ``params`` are resolved against the strategy's declared ``PARAMETERS`` first, so ``fast=5``
    and ``fast=5.0`` (for an int parameter) are the same trial.
    """
    resolved = dict(resolve_params(payload.source.parameters, params))
    identity = {
        "strategy": payload.source.sha256,
        "parameters": resolved,
        "data": data_hash or payload.data_hash,
        "settings": payload.settings.to_dict(),
        "timeframe": payload.market.timeframe.name,
        "symbols": payload.market.symbols,
        "engine": backtestr_version(),
    }
    text = json.dumps(identity, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True, slots=True, eq=False)
class TrialOutcome:
    """What a trial returns to the sweep (small: no tables).

    ``stats`` is ``Statistics.to_dict()`` (JSON-ready), ``objective`` its ranked value (``nan``
    when undefined, e.g. a Sharpe ratio without trades), ``daily_returns`` the run's returns per
    UTC day (for the overfitting statistics) and ``trade_pnls`` its closed trades' P&L in money
    (for the Monte Carlo resampling).
    """

    key: str
    params: Mapping[str, ParamValue]
    stats: Mapping[str, Any]
    objective: float
    daily_returns: F64
    trade_pnls: F64
    # time the run took where it ran (for overhead accounting); not part of the result
    run_seconds: float = 0.0

    def identical_to(self, other: TrialOutcome) -> bool:
        """Bit-for-bit equality (``nan`` equals ``nan``)."""
        return (
            self.key == other.key
            and json.dumps(self.stats, sort_keys=True) == json.dumps(other.stats, sort_keys=True)
            and self.daily_returns.tobytes() == other.daily_returns.tobytes()
            and self.trade_pnls.tobytes() == other.trade_pnls.tobytes()
        )


def daily_returns(result: RunResult) -> F64:
    """Simple returns of the equity at each UTC day's last bar close (first day against cash)."""
    equity = result.equity["equity"]
    if equity.empty:
        return np.zeros(0)
    days = pd.DatetimeIndex(equity.index).floor("D")
    closes = equity.groupby(days).last()
    previous = closes.shift(1)
    previous.iloc[0] = float(result.manifest.get("settings", {}).get("cash", closes.iloc[0]))
    return np.asarray((closes / previous - 1.0).to_numpy(dtype=np.float64))


def warm_up() -> None:
    """Load what a run needs on first use (numba's registries and cached kernels, lazy
    imports) with a tiny built-in backtest: a worker calls this once when it starts, so that
    this one-time cost is start-up, not the first trial's."""
    from backtestr.strategy.loader import load_strategy
    from backtestr.strategy.samples import MOVING_AVERAGE_CROSS

    n = 300
    closes = 1.1 + 0.001 * np.sin(np.arange(n) / 7.0)
    ts = np.int64(1_577_923_200 * 10**9) + np.arange(n, dtype=np.int64) * 60 * 10**9
    bars = BarArrays.from_ohlc(ts, closes, closes + 1e-4, closes - 1e-4, closes, np.ones(n))
    market = MarketData(
        Timeframe.parse("M1"), {"EURUSD": SymbolFeed(fx_instrument("EURUSD"), bars)}
    )
    Backtest(
        load_strategy(MOVING_AVERAGE_CROSS), market, EngineSettings(), {"fast": 2, "slow": 5}
    ).run()


def run_trial(
    payload: SweepPayload, params: Mapping[str, ParamValue], key: str | None = None
) -> TrialOutcome:
    """Run one parameter set; deterministic, no I/O.

    Raises
    ------
    StrategyError
        When the strategy fails with these parameters (the message names them).
    """
    started = time.perf_counter()
    try:
        market = payload.trial_market
        result = Backtest(payload.source, market, payload.settings, params).run()
    except StrategyError as error:
        shown = ", ".join(f"{k}={v}" for k, v in params.items())
        raise StrategyError(
            f"{error} (parameters: {shown})", path=error.path, line=error.line
        ) from error
    stats = result.stats.to_dict()
    value = stats.get(payload.objective)
    objective = float(value) if isinstance(value, int | float) else math.nan
    pnl = result.trades["pnl"] if "pnl" in result.trades else pd.Series(dtype=float)
    return TrialOutcome(
        key=key or trial_key(payload, params),
        params=dict(params),
        stats=stats,
        objective=objective,
        daily_returns=daily_returns(result),
        trade_pnls=np.asarray(pnl.to_numpy(dtype=np.float64)),
        run_seconds=time.perf_counter() - started,
    )
