"""How far to trust a sweep's winner: the deflated Sharpe ratio of the best trial, the
probability of backtest overfitting (CSCV) over all trials, and a Monte Carlo bootstrap of the
best run's trades — computed from what the trials already returned (their daily returns and
trade P&L), so no backtest runs again."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from backtestr.errors import ConfigError
from backtestr.optimize.sweep import SweepResult
from backtestr.stats import (
    BacktestOverfitting,
    DeflatedSharpe,
    TradeMonteCarlo,
    deflated_sharpe_from_returns,
    monte_carlo_trades,
    probability_of_backtest_overfitting,
)

__all__ = ["SweepRobustness", "assess_sweep"]

# CSCV splits the days into this many blocks at most (C(16, 8) = 12,870 combinations) and wants
# at least this many days in each block for a Sharpe ratio to mean something
MAX_SPLITS = 16
MIN_DAYS_PER_BLOCK = 5


@dataclass(frozen=True, slots=True, eq=False)
class SweepRobustness:
    """The overfitting statistics of a sweep; a part that could not be computed is ``None``
    with the reason in ``notes``."""

    deflated_sharpe: DeflatedSharpe | None
    overfitting: BacktestOverfitting | None
    monte_carlo: TradeMonteCarlo | None
    notes: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, object]:
        """The headline numbers, JSON-ready (``None`` when not computed or undefined)."""

        def number(value: float | None) -> float | None:
            return None if value is None or not math.isfinite(value) else float(value)

        dsr, pbo, mc = self.deflated_sharpe, self.overfitting, self.monte_carlo
        result: dict[str, object] = {
            "deflated_sharpe_ratio": number(dsr.deflated_sharpe_ratio) if dsr else None,
            "probabilistic_sharpe_ratio": number(dsr.probabilistic_sharpe_ratio) if dsr else None,
            "probability_of_backtest_overfitting": number(pbo.pbo) if pbo else None,
            "pbo_splits": pbo.n_splits if pbo else None,
            "notes": list(self.notes),
        }
        if mc is not None:
            for level, row in mc.quantiles.iterrows():
                tag = f"p{round(float(str(level)) * 100):02d}"
                result[f"mc_final_return_pct_{tag}"] = number(row["final_return_pct"])
                result[f"mc_max_drawdown_pct_{tag}"] = number(row["max_drawdown_pct"])
            result["mc_ruin_probability"] = number(mc.ruin_probability)
        return result

    def plots(self, path: Path) -> list[Path]:
        """Write each statistic's plot beside ``path`` (``<stem>-dsr.png``, ``-pbo``,
        ``-montecarlo``); returns the files written."""
        from backtestr.report import (
            plot_deflated_sharpe,
            plot_monte_carlo,
            plot_pbo,
            save_figure,
        )

        suffix = path.suffix or ".png"
        written = []
        if self.deflated_sharpe is not None:
            figure = plot_deflated_sharpe(self.deflated_sharpe)
            written.append(save_figure(figure, path.with_name(f"{path.stem}-dsr{suffix}")))
        if self.overfitting is not None:
            figure = plot_pbo(self.overfitting)
            written.append(save_figure(figure, path.with_name(f"{path.stem}-pbo{suffix}")))
        if self.monte_carlo is not None:
            figure = plot_monte_carlo(self.monte_carlo)
            written.append(save_figure(figure, path.with_name(f"{path.stem}-montecarlo{suffix}")))
        return written


def assess_sweep(
    result: SweepResult,
    *,
    initial_equity: float,
    periods_per_year: float = 252.0,
    simulations: int = 1000,
    seed: int = 0,
) -> SweepRobustness:
    """The robustness statistics of ``result``'s best trial among all its trials.

    ``periods_per_year`` converts the per-day Sharpe ratios into annual ones for display.
    """
    notes: list[str] = []
    ranked = [o for o in result.ranked() if not math.isnan(o.objective)]
    if not ranked:
        return SweepRobustness(None, None, None, ("no trial has a defined objective",))
    best = ranked[0]
    lengths = {len(o.daily_returns) for o in result.outcomes}
    dsr = pbo = None
    if len(lengths) != 1:
        notes.append("trials cover different days: no deflated Sharpe ratio or PBO")
    else:
        matrix = np.column_stack([o.daily_returns for o in result.outcomes])
        selected = next(i for i, o in enumerate(result.outcomes) if o.key == best.key)
        days = matrix.shape[0]
        try:
            dsr = deflated_sharpe_from_returns(
                matrix, selected=selected, periods_per_year=periods_per_year
            )
        except ConfigError as error:
            notes.append(f"deflated Sharpe ratio: {error}")
        splits = min(MAX_SPLITS, days // MIN_DAYS_PER_BLOCK // 2 * 2)
        if matrix.shape[1] < 2:
            notes.append("PBO needs at least 2 trials")
        elif splits < 2:
            notes.append(
                f"PBO needs at least {2 * MIN_DAYS_PER_BLOCK} days of data, the sweep has {days}"
            )
        else:
            try:
                pbo = probability_of_backtest_overfitting(matrix, n_splits=splits)
            except ConfigError as error:
                notes.append(f"PBO: {error}")
    monte_carlo = None
    if len(best.trade_pnls) >= 2:
        # bootstrap (draw trades with replacement): a shuffle would keep the final return fixed
        monte_carlo = monte_carlo_trades(
            best.trade_pnls, initial_equity, n_sims=simulations, seed=seed, method="bootstrap"
        )
    else:
        notes.append("Monte Carlo needs at least 2 trades in the best run")
    return SweepRobustness(dsr, pbo, monte_carlo, tuple(notes))
