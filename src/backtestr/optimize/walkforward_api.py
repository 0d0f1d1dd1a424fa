"""``backtestr.walk_forward``: one call from a strategy and stored data to a walk-forward
analysis (the keyword arguments of ``backtestr.optimize`` plus ``walk_forward=``).

On stored data every trial is saved in the catalog within a second of completing (see
:class:`~backtestr.optimize.records.SweepRecorder`), under an id derived from
the whole specification (as a sweep's), so running the same analysis again resumes it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from backtestr.app.paths import resolve_home
from backtestr.data.store import Store
from backtestr.engine import EngineSettings, MarketData, ModellingMode
from backtestr.engine.costs import CommissionModel, SlippageModel
from backtestr.errors import ConfigError
from backtestr.optimize.api import check_objective, param_texts
from backtestr.optimize.executors import Executor, make_executor
from backtestr.optimize.records import SweepRecorder, load_done, sweep_id, sweep_spec
from backtestr.optimize.space import ParamSpace
from backtestr.optimize.sweep import SearchMethod, objective_direction
from backtestr.optimize.trial import SweepPayload, freeze_market
from backtestr.optimize.walkforward import WalkForwardResult, run_walk_forward
from backtestr.optimize.windows import WalkForwardSpec
from backtestr.strategy.base import Strategy
from backtestr.strategy.feed import market_from_store
from backtestr.strategy.loader import StrategySource, load_strategy
from backtestr.strategy.run import engine_settings, utc_ns

__all__ = ["StoredWalkForward", "run_stored_walk_forward", "walk_forward"]

ParamSpec = str | int | float | bool | Sequence[str | int | float | bool]


@dataclass(frozen=True, slots=True, eq=False)
class StoredWalkForward:
    """A walk-forward analysis on stored data and the id its trials are saved under."""

    result: WalkForwardResult
    sweep_id: str


def walk_forward(
    strategy: str | Path | type[Strategy] | StrategySource,
    *,
    walk_forward: str,
    params: Mapping[str, ParamSpec] | Sequence[str],
    symbol: str | None = None,
    symbols: Sequence[str] = (),
    timeframe: str = "M1",
    start: str | None = None,
    end: str | None = None,
    data: MarketData | None = None,
    constraints: Sequence[str] = (),
    method: str = "grid",
    trials: int | None = None,
    objective: str = "sharpe_ratio",
    maximize: bool | None = None,
    executor: str | Executor = "local",
    workers: int | None = None,
    cluster: str | None = None,
    seed: int = 0,
    home: str | Path | None = None,
    cash: float = 100_000.0,
    currency: str = "USD",
    leverage: float | None = None,
    commission: str | CommissionModel | None = None,
    slippage: str | SlippageModel | None = None,
    spread_pips: float = 0.0,
    mode: str | ModellingMode = ModellingMode.OHLC,
    trade_on_close: bool = False,
    hedging: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> WalkForwardResult:
    """Walk-forward analysis of ``strategy``: optimise ``params`` on each training window, run
    the best set on the test window after it, chain the out-of-sample results.

    Parameters
    ----------
    walk_forward
        The windows: ``"train=6M,test=1M"``, optionally ``,anchored`` (always train from the
        data start) and ``,step=2M`` (default: the test length). Units D, W, M (months), Y.
    params
        The ranges: ``{"fast": "5:50:5", "slow": [20, 50, 100]}`` or ``["fast=5:50:5", …]``
        (``start:stop:step`` with stop included, a list, or one fixed value).
    symbol, symbols, timeframe, start, end, home
        The stored data to use, as for :func:`backtestr.run` (or pass ``data=``).
    constraints
        Conditions such as ``"fast < slow"``.
    method, trials, seed, objective, maximize
        The search in each training window (``grid``, ``random``), what it ranks by (a key of
        ``Statistics.to_dict()``) and in which direction (default: up, except drawdowns and
        volatility).
    executor, workers, cluster
        ``"local"`` (a process pool over ``workers`` cores, default all), ``"serial"`` or
        ``"dask"`` (``cluster`` address, or a local cluster of ``workers``); or an
        :class:`~backtestr.optimize.executors.Executor`.
    cash, currency, leverage, commission, slippage, spread_pips, mode, trade_on_close, hedging
        Account and cost settings, as for :func:`backtestr.run`. Test runs always close what is
        open at their window's end.
    progress
        Called with ``(trials finished, trials planned)``.

    Returns
    -------
    WalkForwardResult
        ``.windows`` (DataFrame, one row per window), ``.equity`` (chained out-of-sample
        equity), ``.stats``, ``.trades``, ``.efficiency`` and ``.plot(path)``.

    Examples
    --------
    >>> result = backtestr.walk_forward(  # doctest: +SKIP
    ...     "sma_cross.py", symbol="EURUSD", timeframe="H1", walk_forward="train=6M,test=1M",
    ...     params={"fast": "5:50:5", "slow": "20:200:10"}, constraints=["fast < slow"])
    >>> result.windows[["test_start", "fast", "slow", "oos_objective"]]  # doctest: +SKIP
    >>> result.plot("walk_forward.png")  # doctest: +SKIP
    """
    space = ParamSpace.parse(param_texts(params), constraints)
    runner = (
        executor if isinstance(executor, Executor) else make_executor(executor, workers, cluster)
    )
    settings = engine_settings(
        cash=cash, currency=currency, leverage=leverage, commission=commission,
        slippage=slippage, spread_pips=spread_pips, mode=mode, trade_on_close=trade_on_close,
        hedging=hedging,
    )  # fmt: skip
    source = strategy if isinstance(strategy, StrategySource) else load_strategy(strategy)
    if data is not None:
        payload = SweepPayload(source, freeze_market(data), settings, objective=objective)
        return run_walk_forward(
            payload, space, walk_forward, method=method, trials=trials, seed=seed,
            maximize=maximize, executor=runner, progress=progress,
        )  # fmt: skip
    wanted = [s for s in ([symbol] if symbol else []) + [*symbols] if s]
    if not wanted:
        raise ConfigError(
            "Say which symbol to trade: walk_forward(..., symbol='EURUSD') or pass data=."
        )
    stored = run_stored_walk_forward(
        source, space, settings, walk_forward, home=resolve_home(home), symbols=wanted,
        timeframe=timeframe, start_ns=utc_ns(start), end_ns=utc_ns(end), method=method,
        trials=trials, objective=objective, maximize=maximize, executor=runner, seed=seed,
        progress=progress,
    )  # fmt: skip
    return stored.result


def run_stored_walk_forward(
    source: StrategySource,
    space: ParamSpace,
    settings: EngineSettings,
    walk_forward: str | WalkForwardSpec,
    *,
    home: Path,
    symbols: Sequence[str],
    timeframe: str = "M1",
    start_ns: int | None = None,
    end_ns: int | None = None,
    method: str | SearchMethod = SearchMethod.GRID,
    trials: int | None = None,
    objective: str = "sharpe_ratio",
    maximize: bool | None = None,
    executor: Executor,
    seed: int = 0,
    progress: Callable[[int, int], None] | None = None,
) -> StoredWalkForward:
    """The walk-forward behind :func:`walk_forward` and ``backtestr optimize --walk-forward``
    on stored data: trials saved as they complete (within a second), those of an earlier
    identical run reused."""
    spec = (
        walk_forward
        if isinstance(walk_forward, WalkForwardSpec)
        else WalkForwardSpec.parse(walk_forward)
    )
    search = SearchMethod.parse(method)
    check_objective(objective)
    wanted = list(dict.fromkeys(s.upper() for s in symbols))
    # the pool's worker processes start up (seconds of imports) while the data is read; the
    # sweep's session takes them over
    with executor:
        with Store.open(home) as store:
            market = market_from_store(
                store, wanted, timeframe, start_ns=start_ns, end_ns=end_ns, mode=settings.mode,
                currency=settings.currency,
            )  # fmt: skip
            payload = SweepPayload(source, freeze_market(market), settings, objective)
            data_hash = payload.data_hash
            description = sweep_spec(
                payload, space, method=search.value, trials=trials, seed=seed,
                maximize=objective_direction(objective, maximize), start_ns=start_ns,
                end_ns=end_ns, data_hash=data_hash,
            )  # fmt: skip
            description["walk_forward"] = str(walk_forward)
            analysis = sweep_id(description)
            store.save_sweep(analysis, description)
            done = load_done(store, analysis, [], objective)
        with SweepRecorder(home, analysis) as recorder:
            result = run_walk_forward(
                payload, space, spec, method=search, trials=trials, seed=seed,
                maximize=maximize, executor=executor, done=done, on_result=recorder,
                progress=progress,
            )  # fmt: skip
        return StoredWalkForward(result, analysis)
