"""``backtestr.optimize``: a parameter sweep on stored data, saved in the catalog as it runs.

The adapter around the pure sweep: it reads the market from the store once (every timeframe
the strategy may ask for, see :func:`~backtestr.optimize.trial.freeze_market`), closes the
store, runs the sweep on an executor saving the results as they complete (in batches, each
within a second: :class:`~backtestr.optimize.records.SweepRecorder`), and finally re-runs the
best parameter set in full and saves it as a normal run (``backtestr runs show ID``).
"""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from backtestr.app.paths import resolve_home
from backtestr.data.store import Store
from backtestr.engine import (
    EngineSettings,
    ModellingMode,
    RunResult,
)
from backtestr.engine.costs import CommissionModel, SlippageModel
from backtestr.errors import ConfigError, did_you_mean
from backtestr.optimize.executors import Executor, make_executor
from backtestr.optimize.records import (
    SweepRecorder,
    load_done,
    record_from_outcome,
    sweep_id,
    sweep_spec,
)
from backtestr.optimize.space import ParamSpace
from backtestr.optimize.sweep import (
    SearchMethod,
    SweepResult,
    objective_direction,
    plan,
    run_sweep,
)
from backtestr.optimize.trial import SweepPayload, freeze_market, trial_key
from backtestr.stats import Statistics
from backtestr.strategy.backtest import Backtest
from backtestr.strategy.base import Strategy
from backtestr.strategy.feed import market_from_store
from backtestr.strategy.loader import StrategySource, load_strategy
from backtestr.strategy.run import engine_settings, utc_ns
from backtestr.strategy.stored import save_run_result

__all__ = ["StoredSweep", "optimize", "param_texts", "run_stored_sweep"]

ParamSpec = Mapping[str, object] | Sequence[str]


@dataclass(frozen=True, slots=True, eq=False)
class StoredSweep:
    """A finished sweep: its results, the id it is stored under, and the best set's full run
    (saved as ``best_run_id``; ``None`` when no trial has a defined objective)."""

    result: SweepResult
    sweep_id: str
    home: Path
    best_run_id: str | None
    best_run: RunResult | None

    def frame(self) -> pd.DataFrame:
        frame = self.result.frame()
        frame.attrs.update(
            sweep_id=self.sweep_id,
            best_run_id=self.best_run_id,
            objective=self.result.objective,
            maximize=self.result.maximize,
            skipped=self.result.skipped,
        )
        return frame


def param_texts(params: ParamSpec) -> list[str]:
    """``{"fast": "5:50:5", "mode": ["a", "b"], "n": 3}`` or ``["fast=5:50:5"]`` as the
    ``name=spec`` texts of ``--param``."""
    if isinstance(params, str):
        raise ConfigError(
            f"params must be a mapping or a list of 'name=spec' texts, got the text {params!r}."
        )
    if isinstance(params, Mapping):
        texts = []
        for name, spec in params.items():
            if isinstance(spec, list | tuple | range):
                spec = ",".join(str(v) for v in spec)
            texts.append(f"{name}={spec}")
        return texts
    return [str(text) for text in params]


def run_stored_sweep(
    source: StrategySource,
    space: ParamSpace,
    settings: EngineSettings,
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
    save_best: bool = True,
    on_loaded: Callable[[str, int], None] | None = None,
) -> StoredSweep:
    """The sweep behind :func:`optimize` and ``backtestr optimize``, on typed inputs.

    ``on_loaded(sweep_id, trials already stored)`` is called once the data is read and before
    any trial runs.
    """
    search = SearchMethod.parse(method)
    wanted = list(dict.fromkeys(s.upper() for s in symbols))
    if not wanted:
        raise ConfigError("Say which symbol to trade: symbol='EURUSD' (--symbol EURUSD).")
    check_objective(objective)  # before any process starts or any data is read
    # the pool's worker processes start up (seconds of imports) while the data is read; the
    # sweep's session takes them over
    with executor:
        with Store.open(home) as store:
            market = market_from_store(
                store,
                wanted,
                timeframe,
                start_ns=start_ns,
                end_ns=end_ns,
                mode=settings.mode,
                currency=settings.currency,
            )
            payload = SweepPayload(source, freeze_market(market), settings, objective)
            data_hash = payload.data_hash
            go_up = objective_direction(objective, maximize)
            spec = sweep_spec(
                payload, space, method=search.value, trials=trials, seed=seed, maximize=go_up,
                start_ns=start_ns, end_ns=end_ns, data_hash=data_hash,
            )  # fmt: skip
            sweep = sweep_id(spec)
            store.save_sweep(sweep, spec)
            planned = [] if search is SearchMethod.BAYES else plan(space, search, trials, seed)
            keys = [trial_key(payload, params, data_hash) for params in planned]
            done = load_done(store, sweep, keys, objective)
        # the store is closed while trials run; results are saved in batches as they complete
        # (each within a second), and all of them when the sweep stops, by error or Ctrl-C too
        if on_loaded is not None:
            on_loaded(sweep, len(done))
        with SweepRecorder(home, sweep) as recorder:
            result = run_sweep(
                payload, space, method=search, trials=trials, seed=seed, maximize=go_up,
                executor=executor, done=done, on_result=recorder, progress=progress,
            )  # fmt: skip
        best_run_id: str | None = None
        best_run: RunResult | None = None
        ranked = result.ranked()
        if save_best and ranked and not math.isnan(ranked[0].objective):
            best_run = Backtest(source, payload.market, settings, result.best.params).run()
        with Store.open(home) as store:
            # results taken from other sweeps become members of this one too
            _, own = store.load_sweep(sweep)
            mine = {r.key for r in own}
            for outcome in result.outcomes:
                if outcome.key not in mine:
                    store.save_trial(sweep, record_from_outcome(outcome))
            if best_run is not None:
                best_run_id = _saved_already(store, best_run)
                if best_run_id is None:
                    stem = (
                        Path(source.filename).stem if source.filename.endswith(".py") else "sweep"
                    )
                    best_run_id = save_run_result(store, best_run, f"{stem}-best")
        return StoredSweep(result, sweep, home, best_run_id, best_run)


def _saved_already(store: Store, result: RunResult) -> str | None:
    """The id of a saved run with the same inputs as ``result`` (a resumed sweep's best run is
    saved once), or ``None``."""
    wanted = json.dumps(dict(result.manifest), sort_keys=True, default=str)
    for row in store.list_runs():
        inputs = {k: v for k, v in row.manifest.items() if k != "stats"}
        if json.dumps(inputs, sort_keys=True, default=str) == wanted:
            return row.run_id
    return None


def check_objective(objective: str) -> None:
    """Fail before any run on an objective that is no statistic."""
    names = [f.name for f in dataclasses.fields(Statistics)]
    if objective not in names:
        raise ConfigError(
            f"Unknown objective '{objective}': use a statistic such as sharpe_ratio, "
            "total_return_pct or max_drawdown_pct." + did_you_mean(objective, names)
        )


def optimize(
    strategy: str | Path | type[Strategy] | StrategySource,
    *,
    symbol: str,
    params: ParamSpec,
    symbols: Sequence[str] = (),
    timeframe: str = "M1",
    start: str | None = None,
    end: str | None = None,
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
) -> pd.DataFrame:
    """Sweep ``strategy``'s parameters on stored data; results best first.

    Every result is saved in the catalog within a second of completing, so running the same
    call again resumes: trials already stored are not run again. A sweep stopped by an error or
    Ctrl-C saves all it computed; one killed outright loses at most its last second of results.
    The best set is re-run in full and saved as a normal run.

    Parameters
    ----------
    params
        The ranges: ``{"fast": "5:50:5", "slow": "20:200:10"}`` (``start:stop:step``, stop
        included), lists (``{"mode": ["a", "b"]}``), or ``["fast=5:50:5", …]`` texts.
    constraints
        Conditions such as ``"fast < slow"``; sets breaking one are never run.
    method
        ``grid`` (every allowed set; ``trials`` caps it), ``random`` (``trials`` sets) or
        ``bayes`` (Optuna TPE, ``trials`` sets).
    objective, maximize
        The statistic to rank by; by default drawdowns and volatility are minimised, every
        other statistic maximised.
    executor, workers, cluster
        ``local`` (a process pool over ``workers`` cores, default all), ``serial`` or ``dask``
        (``cluster="tcp://host:8786"``, or a local cluster of ``workers``), or an
        :class:`~backtestr.optimize.Executor`.
    start, end
        ISO 8601 UTC; ``end`` exclusive.
    progress
        Called with ``(trials finished, trials planned)``.

    Returns
    -------
    pandas.DataFrame
        One row per trial, best first: the parameters, every statistic, ``objective`` and
        ``key``. ``frame.attrs`` holds ``sweep_id`` and ``best_run_id``.

    Examples
    --------
    >>> frame = backtestr.optimize("ma.py", symbol="EURUSD", timeframe="H1",
    ...     params={"fast": "5:50:5", "slow": "20:200:10"}, constraints=["fast < slow"])
    ...     # doctest: +SKIP
    >>> frame.attrs["best_run_id"]  # doctest: +SKIP
    """

    source = strategy if isinstance(strategy, StrategySource) else load_strategy(strategy)
    space = ParamSpace.parse(param_texts(params), list(constraints))
    settings = engine_settings(
        cash=cash, currency=currency, leverage=leverage, commission=commission,
        slippage=slippage, spread_pips=spread_pips, mode=mode, trade_on_close=trade_on_close,
        hedging=hedging,
    )  # fmt: skip
    stored = run_stored_sweep(
        source,
        space,
        settings,
        home=resolve_home(home),
        symbols=[symbol, *symbols],
        timeframe=timeframe,
        start_ns=utc_ns(start),
        end_ns=utc_ns(end),
        method=method,
        trials=trials,
        objective=objective,
        maximize=maximize,
        executor=make_executor(executor, workers, cluster),
        seed=seed,
        progress=progress,
    )
    return stored.frame()
