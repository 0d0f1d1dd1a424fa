"""Probability of backtest overfitting (CSCV): a plain reference, limits, properties, errors."""

from __future__ import annotations

import itertools
import math

import numpy as np
import numpy.typing as npt
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats as scipy_stats

from backtestr.errors import ConfigError
from backtestr.stats import OVERFITTING_METRICS, probability_of_backtest_overfitting


def _sharpe(rows: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    result: npt.NDArray[np.float64] = rows.mean(axis=0) / rows.std(axis=0, ddof=1)
    return result


def _reference_cscv(
    matrix: npt.NDArray[np.float64], splits: int
) -> tuple[list[float], list[int], list[float], list[float]]:
    """CSCV written out step by step as the paper describes it, one combination at a time."""
    blocks = np.array_split(matrix[len(matrix) % splits :], splits)
    logits, winners, in_sample, out_of_sample = [], [], [], []
    for chosen in itertools.combinations(range(splits), splits // 2):
        train = np.vstack([blocks[index] for index in chosen])
        test = np.vstack([blocks[index] for index in range(splits) if index not in chosen])
        train_scores, test_scores = _sharpe(train), _sharpe(test)
        best = int(np.argmax(train_scores))
        rank = scipy_stats.rankdata(test_scores)[best]  # 1 = worst, ties averaged
        relative = rank / (matrix.shape[1] + 1)
        logits.append(math.log(relative / (1 - relative)))
        winners.append(best)
        in_sample.append(float(train_scores[best]))
        out_of_sample.append(float(test_scores[best]))
    return logits, winners, in_sample, out_of_sample


@pytest.mark.parametrize(("periods", "trials", "splits"), [(203, 9, 8), (120, 2, 4), (64, 30, 10)])
def test_matches_a_step_by_step_reference(periods: int, trials: int, splits: int) -> None:
    matrix = np.random.default_rng(periods).normal(0.0003, 0.01, size=(periods, trials))
    result = probability_of_backtest_overfitting(matrix, n_splits=splits)
    logits, winners, in_sample, out_of_sample = _reference_cscv(matrix, splits)
    assert result.n_combinations == math.comb(splits, splits // 2)
    assert result.selected_trials.tolist() == winners
    np.testing.assert_allclose(result.logits, logits, rtol=1e-12)
    np.testing.assert_allclose(result.in_sample, in_sample, rtol=1e-9)
    np.testing.assert_allclose(result.out_of_sample, out_of_sample, rtol=1e-9)
    assert result.pbo == np.mean(np.array(logits) <= 0)
    assert result.n_observations == periods - periods % splits


def test_a_callable_metric_agrees_with_the_built_in_one() -> None:
    matrix = np.random.default_rng(8).normal(0.0, 0.01, size=(160, 6))
    built_in = probability_of_backtest_overfitting(matrix, n_splits=8)
    custom = probability_of_backtest_overfitting(matrix, n_splits=8, metric=_sharpe)
    assert custom.metric == "_sharpe"
    assert custom.selected_trials.tolist() == built_in.selected_trials.tolist()
    np.testing.assert_allclose(custom.logits, built_in.logits)
    np.testing.assert_allclose(custom.out_of_sample, built_in.out_of_sample, rtol=1e-9)


def test_many_trials_are_scored_in_chunks_with_the_same_outcome() -> None:
    # 12 870 combinations x 120 trials is more than one chunk of scores holds
    matrix = np.random.default_rng(10).normal(0.0, 0.01, size=(160, 120))
    chunked = probability_of_backtest_overfitting(matrix, n_splits=16)
    direct = probability_of_backtest_overfitting(matrix, n_splits=16, metric=_sharpe)
    assert chunked.selected_trials.tolist() == direct.selected_trials.tolist()
    np.testing.assert_allclose(chunked.logits, direct.logits)


@pytest.mark.parametrize(
    ("metric", "score"),
    [
        ("mean_return", lambda rows: rows.mean(axis=0)),
        ("total_return", lambda rows: np.prod(1 + rows, axis=0) - 1),
        (
            "sortino_ratio",
            lambda rows: rows.mean(axis=0) / np.sqrt(np.mean(np.minimum(rows, 0) ** 2, axis=0)),
        ),
    ],
)
def test_each_built_in_metric_matches_its_definition(metric: str, score: object) -> None:
    matrix = np.random.default_rng(9).normal(0.0002, 0.01, size=(96, 5))
    fast = probability_of_backtest_overfitting(matrix, n_splits=6, metric=metric)  # type: ignore[arg-type]
    slow = probability_of_backtest_overfitting(matrix, n_splits=6, metric=score)  # type: ignore[arg-type]
    assert fast.metric == metric
    assert fast.selected_trials.tolist() == slow.selected_trials.tolist()
    np.testing.assert_allclose(fast.in_sample, slow.in_sample, rtol=1e-9)
    np.testing.assert_allclose(fast.out_of_sample, slow.out_of_sample, rtol=1e-9)
    np.testing.assert_allclose(fast.logits, slow.logits)


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(2, 12), st.sampled_from([2, 4, 6, 8]))
def test_pbo_is_a_share_of_logits_in_zero_one(seed: int, trials: int, splits: int) -> None:
    matrix = np.random.default_rng(seed).normal(0.0, 0.01, size=(splits * 5 + seed % 3, trials))
    result = probability_of_backtest_overfitting(matrix, n_splits=splits)
    assert 0.0 <= result.pbo <= 1.0
    assert result.pbo == np.mean(result.logits <= 0.0)
    bound = math.log(trials)  # ω lies in [1/(N+1), N/(N+1)]
    assert np.all(np.abs(result.logits) <= bound + 1e-12)
    assert 0.0 <= result.probability_of_loss <= 1.0


@settings(max_examples=25, deadline=None)
@given(
    st.integers(0, 2**32 - 1),
    st.integers(2, 10),
    st.sampled_from(OVERFITTING_METRICS),
    st.floats(0.001, 0.05),
)
def test_a_trial_better_in_every_period_is_never_overfit(
    seed: int, trials: int, metric: str, edge: float
) -> None:
    rng = np.random.default_rng(seed)
    matrix = rng.normal(0.0, 0.01, size=(80, trials))
    best = seed % trials
    # the dominant trial earns more than every other trial in every single period
    matrix[:, best] = matrix.max(axis=1) + edge
    result = probability_of_backtest_overfitting(matrix, n_splits=8, metric=metric)  # type: ignore[arg-type]
    assert result.pbo == 0.0
    assert set(result.selected_trials.tolist()) == {best}
    assert np.allclose(result.logits, math.log(trials))


def test_noise_trials_overfit_half_the_time() -> None:
    # Without skill the in-sample winner's out-of-sample rank is uniform on 1..N, so for even N
    # P(logit <= 0) = 1/2 exactly. One matrix gives a noisy PBO (its 70 combinations share the same
    # data; across seeds its standard deviation is about 0.15), so average 40 independent
    # matrices: standard error ~0.15/sqrt(40) ~ 0.024, and 0.08 is more than 3 standard errors.
    pbos = [
        probability_of_backtest_overfitting(
            np.random.default_rng(seed).normal(0.0, 0.01, size=(240, 10)), n_splits=8
        ).pbo
        for seed in range(40)
    ]
    assert float(np.mean(pbos)) == pytest.approx(0.5, abs=0.08)


def test_overfit_selection_degrades_out_of_sample() -> None:
    # the paper's cautionary case: noise only, so the in-sample best is just lucky
    matrix = np.random.default_rng(21).normal(0.0, 0.01, size=(800, 50))
    result = probability_of_backtest_overfitting(matrix, n_splits=16)
    assert result.n_combinations == 12_870
    assert result.degradation_slope < 0.0
    assert np.mean(result.out_of_sample) < np.mean(result.in_sample)


def test_a_dataframe_drops_the_oldest_periods_to_make_equal_blocks() -> None:
    matrix = np.random.default_rng(2).normal(0.0, 0.01, size=(103, 4))
    frame = pd.DataFrame(matrix, columns=["a", "b", "c", "d"])
    result = probability_of_backtest_overfitting(frame, n_splits=10)
    trimmed = probability_of_backtest_overfitting(matrix[3:], n_splits=10)
    assert result.n_observations == 100
    np.testing.assert_array_equal(result.logits, trimmed.logits)


def test_flat_trials_count_as_a_sharpe_of_zero() -> None:
    matrix = np.zeros((40, 3))
    matrix[:, 0] = np.random.default_rng(1).normal(-0.001, 0.01, 40)
    result = probability_of_backtest_overfitting(matrix, n_splits=4)
    assert np.all(np.isfinite(result.logits))
    assert math.isnan(
        probability_of_backtest_overfitting(np.zeros((8, 2)), n_splits=4).degradation_slope
    )


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"n_splits": 7}, "even"),
        ({"n_splits": 0}, "even"),
        ({"n_splits": True}, "even"),
        ({"n_splits": 26}, "combinations"),
        ({"n_splits": 64}, "n_splits=64"),
        ({"metric": "sharpe"}, "Did you mean 'sharpe_ratio'"),
        ({"metric": lambda rows: rows.mean()}, "one score per trial"),
    ],
)
def test_bad_arguments_are_named(arguments: dict[str, object], message: str) -> None:
    matrix = np.random.default_rng(0).normal(size=(40, 3))
    with pytest.raises(ConfigError, match=message):
        probability_of_backtest_overfitting(matrix, **arguments)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("matrix", "message"),
    [
        (np.zeros((40, 1)), "1 trial"),
        (np.zeros(40), "2-dimensional"),
        (np.zeros((10, 3)), "10 period"),
        (np.where(np.eye(20, 3) > 0, np.nan, 0.0), "row 0, column 0"),
        ([["x", "y"]] * 20, "numbers"),
    ],
)
def test_bad_matrices_are_named(matrix: object, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        probability_of_backtest_overfitting(matrix, n_splits=16)  # type: ignore[arg-type]


def test_total_return_refuses_a_total_loss() -> None:
    matrix = np.zeros((16, 2))
    matrix[5, 1] = -1.0
    with pytest.raises(ConfigError, match=r"row 5, column 1"):
        probability_of_backtest_overfitting(matrix, n_splits=4, metric="total_return")
