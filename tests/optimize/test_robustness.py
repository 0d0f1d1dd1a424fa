"""The overfitting statistics of a sweep, from the outcomes its trials returned."""

import math

import numpy as np
import pytest

from backtestr.optimize import ParamSpace, run_sweep
from backtestr.optimize.robustness import assess_sweep
from backtestr.optimize.sweep import SweepResult
from backtestr.optimize.trial import TrialOutcome
from backtestr.stats import deflated_sharpe_from_returns, probability_of_backtest_overfitting
from tests.optimize.optimize_builders import ma_payload


def outcome(key: str, returns: np.ndarray, pnls: list[float]) -> TrialOutcome:
    sharpe = float(returns.mean() / returns.std(ddof=1))
    return TrialOutcome(key, {"k": key}, {"sharpe_ratio": sharpe}, sharpe, returns, np.array(pnls))


def noise_sweep(trials: int = 8, days: int = 200, seed: int = 4) -> SweepResult:
    rng = np.random.default_rng(seed)
    outcomes = [
        outcome(str(i), rng.normal(0.0, 0.01, days), list(rng.normal(5, 50, 30)))
        for i in range(trials)
    ]
    return SweepResult(outcomes, "sharpe_ratio", maximize=True)


def test_statistics_are_those_of_the_library_on_the_trials_matrix() -> None:
    sweep = noise_sweep()
    judged = assess_sweep(sweep, initial_equity=10_000.0, periods_per_year=260.0)
    matrix = np.column_stack([o.daily_returns for o in sweep.outcomes])
    best = int(np.argmax([o.objective for o in sweep.outcomes]))
    assert judged.deflated_sharpe is not None
    assert judged.overfitting is not None
    expected = deflated_sharpe_from_returns(matrix, selected=best, periods_per_year=260.0)
    assert judged.deflated_sharpe.deflated_sharpe_ratio == expected.deflated_sharpe_ratio
    assert judged.deflated_sharpe.selected == best
    assert judged.overfitting.pbo == probability_of_backtest_overfitting(matrix, 16).pbo
    assert judged.monte_carlo is not None
    assert judged.monte_carlo.method == "bootstrap"
    assert judged.notes == ()


def test_picking_the_best_of_many_costs_confidence() -> None:
    # the more trials the winner was picked from, the less its Sharpe ratio proves
    few = assess_sweep(noise_sweep(trials=2), initial_equity=10_000.0).deflated_sharpe
    many = assess_sweep(noise_sweep(trials=40), initial_equity=10_000.0).deflated_sharpe
    assert few is not None
    assert many is not None
    assert many.deflated_sharpe_ratio < many.probabilistic_sharpe_ratio
    assert many.expected_max_sharpe > few.expected_max_sharpe


def test_short_data_skips_pbo_and_says_why() -> None:
    judged = assess_sweep(noise_sweep(days=9), initial_equity=10_000.0)
    assert judged.overfitting is None
    assert any("PBO needs at least 10 days" in note for note in judged.notes)
    assert judged.to_dict()["probability_of_backtest_overfitting"] is None


def test_no_defined_objective_gives_nothing_but_a_note() -> None:
    flat = TrialOutcome("a", {}, {}, math.nan, np.zeros(20), np.zeros(0))
    judged = assess_sweep(SweepResult([flat], "sharpe_ratio", True), initial_equity=1.0)
    assert (judged.deflated_sharpe, judged.overfitting, judged.monte_carlo) == (None, None, None)
    assert judged.notes


def test_a_real_sweep_is_judged_and_plotted(tmp_path: pytest.TempPathFactory) -> None:
    sweep = run_sweep(ma_payload(n=20_000), ParamSpace.parse(["fast=5:15:5", "slow=30,60"]))
    judged = assess_sweep(sweep, initial_equity=10_000.0)
    numbers = judged.to_dict()
    assert 0.0 <= float(numbers["deflated_sharpe_ratio"]) <= 1.0  # type: ignore[arg-type]
    written = judged.plots(tmp_path / "sweep.png")  # type: ignore[operator]
    assert [p.name for p in written][-1] == "sweep-montecarlo.png"
    assert all(p.stat().st_size > 10_000 for p in written)
