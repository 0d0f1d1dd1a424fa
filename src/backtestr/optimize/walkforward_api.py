"""``backtestr.walk_forward``: one call from a strategy and stored data to a walk-forward
analysis (the keyword arguments of ``backtestr.optimize`` plus ``walk_forward=``)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from backtestr.engine import (
    EngineSettings,
    MarketData,
    ModellingMode,
    PositionMode,
    parse_commission,
    parse_slippage,
)
from backtestr.engine.costs import CommissionModel, SlippageModel
from backtestr.errors import ConfigError
from backtestr.optimize.executors import Executor, LocalPoolExecutor, SerialExecutor
from backtestr.optimize.space import ParamSpace
from backtestr.optimize.trial import SweepPayload, freeze_market
from backtestr.optimize.walkforward import WalkForwardResult, run_walk_forward
from backtestr.strategy.base import Strategy
from backtestr.strategy.loader import StrategySource, load_strategy

__all__ = ["walk_forward"]

ParamSpec = str | int | float | bool | Sequence[str | int | float | bool]


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
        ``"local"`` (a process pool over ``workers`` cores, default all) or ``"serial"``; or an
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
    space = ParamSpace.parse(_param_texts(params), constraints)
    runner = _executor(executor, workers, cluster)
    settings = EngineSettings(
        cash=cash,
        currency=currency,
        leverage=leverage,
        mode=ModellingMode.parse(mode),
        trade_on_close=trade_on_close,
        position_mode=PositionMode.HEDGING if hedging else PositionMode.NETTING,
        commission=(parse_commission(commission) if isinstance(commission, str) else commission)
        or parse_commission("0"),
        slippage=(parse_slippage(slippage) if isinstance(slippage, str) else slippage)
        or parse_slippage("0"),
        spread_pips=spread_pips,
    )
    source = strategy if isinstance(strategy, StrategySource) else load_strategy(strategy)
    if data is None:
        market = _stored_market(home, symbol, symbols, timeframe, start, end, mode, currency)
    else:
        market = freeze_market(data)
    payload = SweepPayload(source, market, settings, objective=objective)
    return run_walk_forward(
        payload,
        space,
        walk_forward,
        method=method,
        trials=trials,
        seed=seed,
        maximize=maximize,
        executor=runner,
        progress=progress,
    )


def _param_texts(params: Mapping[str, ParamSpec] | Sequence[str]) -> list[str]:
    if isinstance(params, str):
        return [params]
    if not isinstance(params, Mapping):
        return list(params)
    texts = []
    for name, spec in params.items():
        if isinstance(spec, str | int | float | bool):
            texts.append(f"{name}={str(spec).lower() if isinstance(spec, bool) else spec}")
        else:
            texts.append(f"{name}={','.join(str(value) for value in spec)}")
    return texts


def _executor(executor: str | Executor, workers: int | None, cluster: str | None) -> Executor:
    if isinstance(executor, Executor):
        return executor
    name = executor.lower()
    if cluster is not None and name != "dask":
        raise ConfigError(f"cluster={cluster!r} needs executor='dask'.")
    if name == "serial":
        return SerialExecutor()
    if name == "local":
        return LocalPoolExecutor(workers)
    raise ConfigError(f"Unknown executor '{executor}': use 'local' (a process pool) or 'serial'.")


def _stored_market(
    home: str | Path | None,
    symbol: str | None,
    symbols: Sequence[str],
    timeframe: str,
    start: str | None,
    end: str | None,
    mode: str | ModellingMode,
    currency: str,
) -> MarketData:
    """The run's data from the store, every timeframe a worker may ask for loaded once."""
    import pandas as pd

    from backtestr.app.paths import resolve_home
    from backtestr.data.store import Store
    from backtestr.strategy.feed import market_from_store

    wanted = list(dict.fromkeys(s.upper() for s in ([symbol] if symbol else []) + [*symbols]))
    if not wanted:
        raise ConfigError(
            "Say which symbol to trade: walk_forward(..., symbol='EURUSD') or pass data=."
        )

    def utc_ns(text: str | None) -> int | None:
        if text is None:
            return None
        stamp = pd.Timestamp(text)
        stamp = stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")
        return int(stamp.value)

    with Store.open(resolve_home(home)) as store:
        market = market_from_store(
            store, wanted, timeframe, start_ns=utc_ns(start), end_ns=utc_ns(end), mode=mode,
            currency=currency,
        )  # fmt: skip
        return freeze_market(market)  # reads the store: before it closes
