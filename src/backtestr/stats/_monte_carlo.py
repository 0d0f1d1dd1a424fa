"""Monte Carlo resampling of a trade sequence: how lucky was the order of the trades?

A backtest shows one order of its trades; the same trades in another order give another drawdown.
Resampling the sequence many times shows the range of drawdowns (and, with the bootstrap, of
returns) the same edge could have produced.

- ``"shuffle"`` permutes the trades: every path has the same final return (the sum of the trades'
  P&L), only the path, and so the drawdown, changes.
- ``"bootstrap"`` draws as many trades with replacement: final returns vary too.

Trades are added as money P&L (equity = initial equity + running sum), i.e. at the size they were
traded. A strategy that sizes positions by its equity would have traded other sizes in another
order; resampling money P&L ignores that and so reads the sequence risk of the sizes it saw.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, get_args

import numpy as np
import numpy.typing as npt
import pandas as pd

from backtestr.errors import ConfigError, did_you_mean

__all__ = ["MONTE_CARLO_METHODS", "MonteCarloMethod", "TradeMonteCarlo", "monte_carlo_trades"]

MonteCarloMethod = Literal["shuffle", "bootstrap"]
MONTE_CARLO_METHODS: tuple[str, ...] = get_args(MonteCarloMethod)

_CHUNK_CELLS = 1 << 21  # simulations x trades resampled at once: bounds memory (~16 MB/array)


# eq=False: field-wise == on arrays has no single truth value; compare the fields instead
@dataclass(frozen=True, eq=False)
class TradeMonteCarlo:
    """Distributions of final return and maximum drawdown over resampled trade sequences.

    Attributes
    ----------
    simulations
        One row per simulated sequence, columns ``final_return_pct`` (final equity over initial
        equity, minus 1, in percent) and ``max_drawdown_pct`` (deepest fall below the running
        peak, in percent of the peak, 0 to 100; the initial equity counts as a peak).
    quantiles
        The columns of ``simulations`` at the requested quantile levels (index: the levels, e.g.
        0.05, 0.5, 0.95).
    observed_final_return_pct, observed_max_drawdown_pct
        The same two figures for the trades in their actual order.
    ruin_probability
        Share of simulations whose equity reached zero or below at some trade (their drawdown is
        100 %).
    method, n_trades, initial_equity, seed
        How the simulations were made.
    """

    simulations: pd.DataFrame
    quantiles: pd.DataFrame
    observed_final_return_pct: float
    observed_max_drawdown_pct: float
    ruin_probability: float
    method: str
    n_trades: int
    initial_equity: float
    seed: int | None


def monte_carlo_trades(
    trade_pnls: pd.Series | Sequence[float] | npt.NDArray[np.float64],
    initial_equity: float,
    n_sims: int = 1000,
    seed: int | None = 0,
    method: MonteCarloMethod = "shuffle",
    quantiles: Sequence[float] = (0.05, 0.5, 0.95),
) -> TradeMonteCarlo:
    """Resample the trade sequence ``n_sims`` times and measure return and drawdown of each path.

    Parameters
    ----------
    trade_pnls
        Net P&L of each closed trade in account currency, in the order they closed, e.g.
        ``trades["pnl"]`` of a run.
    initial_equity
        Equity before the first trade, in account currency (positive).
    n_sims
        Number of resampled sequences (at least 1).
    seed
        Seed of the random generator: the same seed gives the same simulations. ``None`` draws a
        fresh seed from the operating system (not reproducible).
    method
        ``"shuffle"`` (permutation: final return fixed, path varies) or ``"bootstrap"`` (draws with
        replacement: both vary).
    quantiles
        Levels in ``[0, 1]`` reported in ``quantiles`` of the result.

    Returns
    -------
    TradeMonteCarlo

    Raises
    ------
    ConfigError
        For no trades, non-finite P&L, a non-positive initial equity, ``n_sims < 1``, an unknown
        method or a quantile level outside ``[0, 1]``.

    Examples
    --------
    >>> result = monte_carlo_trades([100.0, -50.0, 25.0, -75.0, 200.0], 1_000.0, n_sims=200)
    >>> sorted(set(result.simulations["final_return_pct"].round(9)))
    [20.0]
    >>> result.quantiles.index.tolist()
    [0.05, 0.5, 0.95]
    """
    pnls = _checked_pnls(trade_pnls)
    equity = _checked_initial_equity(initial_equity)
    count = _checked_simulations(n_sims)
    chosen_method = _checked_method(method)
    levels = _checked_quantiles(quantiles)

    generator = np.random.default_rng(seed)
    final_return = np.empty(count, dtype=np.float64)
    max_drawdown = np.empty(count, dtype=np.float64)
    ruined = np.empty(count, dtype=bool)
    step = max(1, _CHUNK_CELLS // len(pnls))
    for start in range(0, count, step):
        stop = min(start + step, count)
        if chosen_method == "shuffle":
            paths = generator.permuted(np.broadcast_to(pnls, (stop - start, len(pnls))), axis=1)
        else:
            paths = pnls[generator.integers(0, len(pnls), size=(stop - start, len(pnls)))]
        final_return[start:stop], max_drawdown[start:stop], ruined[start:stop] = _path_statistics(
            paths, equity
        )
    observed_return, observed_drawdown, _ = _path_statistics(pnls[np.newaxis, :], equity)
    simulations = pd.DataFrame({"final_return_pct": final_return, "max_drawdown_pct": max_drawdown})
    simulations.index.name = "simulation"
    table = simulations.quantile(list(levels))
    table.index.name = "quantile"
    return TradeMonteCarlo(
        simulations=simulations,
        quantiles=table,
        observed_final_return_pct=float(observed_return[0]),
        observed_max_drawdown_pct=float(observed_drawdown[0]),
        ruin_probability=float(np.mean(ruined)),
        method=chosen_method,
        n_trades=len(pnls),
        initial_equity=equity,
        seed=seed,
    )


def _path_statistics(
    paths: npt.NDArray[np.float64], initial_equity: float
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64], npt.NDArray[np.bool_]]:
    """Final return %, maximum drawdown % and ruin of each row of trade P&L."""
    equity = initial_equity + np.cumsum(paths, axis=1)
    # the starting equity is the first peak: a losing first trade is already a drawdown
    peaks = np.maximum(np.maximum.accumulate(equity, axis=1), initial_equity)
    depth = np.max(1.0 - equity / peaks, axis=1)
    ruined = np.min(equity, axis=1) <= 0.0
    # below zero equity a "drawdown" over 100 % means nothing: the account is gone
    drawdown = np.where(ruined, 100.0, np.maximum(depth, 0.0) * 100.0)
    final = (equity[:, -1] / initial_equity - 1.0) * 100.0
    return final, drawdown, ruined


def _checked_pnls(
    values: pd.Series | Sequence[float] | npt.NDArray[np.float64],
) -> npt.NDArray[np.float64]:
    try:
        pnls = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as error:
        raise ConfigError(f"trade_pnls must be numbers (one P&L per trade): {error}.") from error
    if pnls.ndim != 1 or len(pnls) == 0:
        raise ConfigError(
            f"trade_pnls must be a non-empty list of trade P&L, got shape {pnls.shape}: pass "
            "trades['pnl'] of a run that closed at least one trade."
        )
    bad = np.flatnonzero(~np.isfinite(pnls))
    if len(bad):
        raise ConfigError(
            f"trade_pnls[{int(bad[0])}] is {pnls[bad[0]]!r}: every trade P&L must be a finite "
            "number."
        )
    return pnls


def _checked_initial_equity(value: float) -> float:
    if not (math.isfinite(value) and value > 0.0):
        raise ConfigError(
            f"initial_equity must be a positive amount, got {value!r}: pass the starting cash."
        )
    return float(value)


def _checked_simulations(value: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
        raise ConfigError(f"n_sims must be a whole number of at least 1, got {value!r}.")
    return int(value)


def _checked_method(method: str) -> str:
    if method not in MONTE_CARLO_METHODS:
        raise ConfigError(
            f"Unknown Monte Carlo method {method!r}: use 'shuffle' or 'bootstrap'."
            f"{did_you_mean(str(method), MONTE_CARLO_METHODS)}"
        )
    return method


def _checked_quantiles(levels: Sequence[float]) -> tuple[float, ...]:
    chosen = tuple(float(level) for level in levels)
    if not chosen or any(not 0.0 <= level <= 1.0 for level in chosen):
        raise ConfigError(
            f"quantiles must be levels between 0 and 1 (e.g. 0.05, 0.5, 0.95), got {levels!r}."
        )
    return chosen
