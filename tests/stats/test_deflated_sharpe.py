"""Probabilistic and deflated Sharpe ratio: paper values, limits, properties, scipy as a peer."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats as scipy_stats

from backtestr.errors import ConfigError
from backtestr.stats import (
    deflated_sharpe_from_returns,
    deflated_sharpe_ratio,
    expected_max_sharpe,
    probabilistic_sharpe_ratio,
    sharpe_annualised,
    sharpe_per_period,
)

sharpe_values = st.floats(-0.5, 0.5, allow_nan=False)
observation_counts = st.integers(2, 5_000)


def test_a_sharpe_equal_to_its_benchmark_has_even_odds() -> None:
    assert probabilistic_sharpe_ratio(0.0, 250) == 0.5
    assert probabilistic_sharpe_ratio(0.08, 500, benchmark_sharpe=0.08, skewness=-1.0) == 0.5


def test_the_papers_numerical_example() -> None:
    # Bailey & López de Prado (2014), "The Deflated Sharpe Ratio", numerical example: annualised
    # SR 2.5 over 1250 daily returns (250 a year), best of 100 trials whose annualised Sharpe
    # ratios have variance 0.5, skewness -3, kurtosis 10 -> SR0 = 0.1132 per day, DSR = 0.9004
    sharpe = sharpe_per_period(2.5, 250)
    variance = 0.5 / 250  # a variance scales with the square of the Sharpe ratio's unit
    assert expected_max_sharpe(100, variance) == pytest.approx(0.1132, abs=5e-5)
    dsr = deflated_sharpe_ratio(
        sharpe, 1250, n_trials=100, trials_sharpe_variance=variance, skewness=-3.0, kurtosis=10.0
    )
    assert dsr == pytest.approx(0.9004, abs=5e-5)


def test_psr_matches_a_direct_scipy_computation_on_real_moments() -> None:
    returns = np.random.default_rng(11).standard_t(df=4, size=750) * 0.01 + 0.0006
    sharpe = float(np.mean(returns) / np.std(returns, ddof=1))
    skewness = float(scipy_stats.skew(returns))
    kurtosis = float(scipy_stats.kurtosis(returns, fisher=False))
    z = (sharpe - 0.02) * math.sqrt(len(returns) - 1)
    z /= math.sqrt(1 - skewness * sharpe + (kurtosis - 1) / 4 * sharpe**2)
    expected = float(scipy_stats.norm.cdf(z))
    got = probabilistic_sharpe_ratio(
        sharpe, len(returns), benchmark_sharpe=0.02, skewness=skewness, kurtosis=kurtosis
    )
    assert got == pytest.approx(expected, rel=1e-12)


def test_expected_max_matches_scipy_and_approximates_the_true_maximum() -> None:
    gamma = float(np.euler_gamma)
    for trials in (2, 10, 1_000):
        formula = (1 - gamma) * scipy_stats.norm.ppf(1 - 1 / trials) + gamma * scipy_stats.norm.ppf(
            1 - 1 / (trials * math.e)
        )
        assert expected_max_sharpe(trials, 4.0) == pytest.approx(2.0 * formula, rel=1e-12)
    # the extreme-value approximation is close to the simulated mean maximum of N(0, 1) draws
    maxima = np.random.default_rng(5).standard_normal((20_000, 100)).max(axis=1)
    # 20 000 maxima have a standard error of ~0.003; the approximation's own bias is ~0.02 at N=100
    assert expected_max_sharpe(100, 1.0) == pytest.approx(float(maxima.mean()), abs=0.05)


def test_one_trial_has_no_selection_bias() -> None:
    assert expected_max_sharpe(1, 0.3) == 0.0
    psr = probabilistic_sharpe_ratio(0.07, 400, skewness=-0.5, kurtosis=5.0)
    dsr = deflated_sharpe_ratio(
        0.07, 400, n_trials=1, trials_sharpe_variance=0.3, skewness=-0.5, kurtosis=5.0
    )
    assert dsr == psr


@given(st.integers(1, 10_000), st.floats(1e-6, 10.0))
def test_expected_max_grows_with_the_number_of_trials(trials: int, variance: float) -> None:
    assert expected_max_sharpe(trials + 1, variance) > expected_max_sharpe(trials, variance)


@given(sharpe_values, observation_counts, st.integers(2, 1_000), st.floats(1e-6, 0.05))
def test_more_trials_deflate_more(
    sharpe: float, observations: int, trials: int, variance: float
) -> None:
    fewer = deflated_sharpe_ratio(
        sharpe, observations, n_trials=trials, trials_sharpe_variance=variance
    )
    more = deflated_sharpe_ratio(
        sharpe, observations, n_trials=trials * 2, trials_sharpe_variance=variance
    )
    assert 0.0 <= more <= fewer <= 1.0


@given(
    sharpe_values,
    observation_counts,
    st.floats(-0.5, 0.5),
    st.floats(-2.0, 2.0),
    st.floats(0.0, 20.0),
)
def test_psr_is_a_probability_rising_with_the_sharpe_ratio(
    sharpe: float, observations: int, benchmark: float, skewness: float, extra_kurtosis: float
) -> None:
    kurtosis = 1.0 + skewness**2 + extra_kurtosis
    low = probabilistic_sharpe_ratio(
        sharpe, observations, benchmark_sharpe=benchmark, skewness=skewness, kurtosis=kurtosis
    )
    assert 0.0 <= low <= 1.0
    if sharpe > benchmark:
        assert low >= 0.5
    if sharpe < benchmark:
        assert low <= 0.5
    higher = probabilistic_sharpe_ratio(
        sharpe,
        observations,
        benchmark_sharpe=benchmark - 0.01,
        skewness=skewness,
        kurtosis=kurtosis,
    )
    assert higher >= low


def test_fat_tails_and_negative_skew_lower_the_confidence() -> None:
    normal = probabilistic_sharpe_ratio(0.1, 500)
    assert probabilistic_sharpe_ratio(0.1, 500, kurtosis=12.0) < normal
    assert probabilistic_sharpe_ratio(0.1, 500, skewness=-2.0, kurtosis=12.0) < (
        probabilistic_sharpe_ratio(0.1, 500, kurtosis=12.0)
    )


def test_annualising_round_trips() -> None:
    assert sharpe_per_period(sharpe_annualised(0.05, 260.0), 260.0) == pytest.approx(0.05)
    assert sharpe_annualised(0.1, 252.0) == pytest.approx(0.1 * math.sqrt(252))


def test_from_returns_selects_the_best_trial_and_measures_it_per_period() -> None:
    rng = np.random.default_rng(3)
    matrix = rng.normal(0.0, 0.01, size=(500, 20))
    matrix[:, 7] += 0.002
    result = deflated_sharpe_from_returns(pd.DataFrame(matrix), periods_per_year=252.0)
    assert result.selected == 7
    column = matrix[:, 7]
    assert result.sharpe_ratio == pytest.approx(column.mean() / column.std(ddof=1))
    assert result.skewness == pytest.approx(float(scipy_stats.skew(column)))
    assert result.kurtosis == pytest.approx(float(scipy_stats.kurtosis(column, fisher=False)))
    sharpe_ratios = matrix.mean(axis=0) / matrix.std(axis=0, ddof=1)
    np.testing.assert_allclose(result.trial_sharpe_ratios, sharpe_ratios)
    assert result.trials_sharpe_variance == pytest.approx(np.var(sharpe_ratios, ddof=1))
    assert (result.n_trials, result.n_observations) == (20, 500)
    assert result.deflated_sharpe_ratio == deflated_sharpe_ratio(
        result.sharpe_ratio,
        500,
        n_trials=20,
        trials_sharpe_variance=result.trials_sharpe_variance,
        skewness=result.skewness,
        kurtosis=result.kurtosis,
    )
    assert result.deflated_sharpe_ratio < result.probabilistic_sharpe_ratio
    assert result.sharpe_ratio_annualised == pytest.approx(result.sharpe_ratio * math.sqrt(252))
    assert result.expected_max_sharpe_annualised == pytest.approx(
        result.expected_max_sharpe * math.sqrt(252)
    )


def test_from_returns_with_a_chosen_trial_and_trial_count() -> None:
    matrix = np.random.default_rng(4).normal(0.0005, 0.01, size=(300, 5))
    result = deflated_sharpe_from_returns(matrix, selected=-1, n_trials=200)
    assert result.selected == 4
    assert result.n_trials == 200
    assert math.isnan(result.sharpe_ratio_annualised)
    assert result.expected_max_sharpe == expected_max_sharpe(200, result.trials_sharpe_variance)


def test_a_trial_that_never_trades_has_a_sharpe_of_zero() -> None:
    matrix = np.zeros((50, 3))
    matrix[:, 1] = np.random.default_rng(2).normal(0.001, 0.01, 50)
    result = deflated_sharpe_from_returns(matrix)
    assert result.trial_sharpe_ratios[0] == 0.0
    assert result.trial_sharpe_ratios[2] == 0.0


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: probabilistic_sharpe_ratio(0.1, 1), "n_observations"),
        (lambda: probabilistic_sharpe_ratio(0.1, 2.5), "n_observations"),  # type: ignore[arg-type]
        (lambda: probabilistic_sharpe_ratio(math.nan, 100), "sharpe_ratio"),
        (lambda: probabilistic_sharpe_ratio(0.1, 100, kurtosis=0.0), "add 3 to an excess"),
        (lambda: probabilistic_sharpe_ratio(0.1, 100, skewness=2.0, kurtosis=4.0), "1 \\+ skew"),
        (lambda: expected_max_sharpe(0, 1.0), "n_trials"),
        (lambda: expected_max_sharpe(10, -1.0), "negative"),
        (lambda: sharpe_per_period(1.0, 0.0), "periods_per_year"),
        (lambda: deflated_sharpe_from_returns([[0.1, 0.2]]), "shape"),
        (lambda: deflated_sharpe_from_returns([[0.1, math.nan], [0.0, 0.1]]), "row 0, column 1"),
        (lambda: deflated_sharpe_from_returns([[0.1, 0.2], [0.1, 0.3]]), "Trial 0"),
        (lambda: deflated_sharpe_from_returns([[0.1, 0.2], [0.0, 0.3]], selected=2), "selected"),
        (lambda: deflated_sharpe_from_returns([["a"], ["b"]]), "numbers"),
        (lambda: deflated_sharpe_from_returns([[0.1], [0.0]], n_trials=5), "holds 1 trial"),
    ],
)
def test_bad_input_is_named(call: object, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        call()  # type: ignore[operator]


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 2**32 - 1))
def test_dsr_from_returns_is_a_probability(seed: int) -> None:
    matrix = np.random.default_rng(seed).normal(0.0, 0.01, size=(60, 8))
    result = deflated_sharpe_from_returns(matrix)
    assert 0.0 <= result.deflated_sharpe_ratio <= result.probabilistic_sharpe_ratio <= 1.0
    assert result.expected_max_sharpe > 0.0
