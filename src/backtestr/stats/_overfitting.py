"""Probability of backtest overfitting by combinatorially symmetric cross-validation (CSCV).

Bailey, Borwein, López de Prado & Zhu (2015), "The Probability of Backtest Overfitting". The
``T × N`` matrix of period returns of ``N`` trials is cut into ``S`` blocks of consecutive
periods. For each of the ``C(S, S/2)`` ways to pick half of the blocks as the in-sample set (the
other half is out of sample), the trial with the best in-sample metric is found and the relative
rank ``ω`` of its out-of-sample metric among all trials is turned into a logit
``λ = ln(ω / (1 − ω))``. The probability of backtest overfitting is the share of combinations
where the in-sample winner lands at or below the out-of-sample median (``λ ≤ 0``).

The built-in metrics add up over blocks, so each block is summarised once (sums of returns, of
squares, …) and every combination's metric comes from a matrix product of a 0/1 block mask with
those sums: all 12 870 combinations of 16 blocks cost about as much as a few passes over the data.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Literal, get_args

import numpy as np
import numpy.typing as npt
import pandas as pd

from backtestr.errors import ConfigError, did_you_mean

__all__ = [
    "OVERFITTING_METRICS",
    "BacktestOverfitting",
    "OverfittingMetric",
    "probability_of_backtest_overfitting",
]

OverfittingMetric = Literal["sharpe_ratio", "sortino_ratio", "mean_return", "total_return"]
OVERFITTING_METRICS: tuple[str, ...] = get_args(OverfittingMetric)

MetricFunction = Callable[[npt.NDArray[np.float64]], npt.NDArray[np.float64]]

_MAX_COMBINATIONS = 1_000_000  # C(22, 11) = 705 432 still fits; C(24, 12) = 2.7 M does not
_CHUNK_CELLS = 1 << 20  # combinations x trials evaluated at once: bounds the memory to ~8 MB/array


# eq=False: field-wise == on arrays has no single truth value; compare the fields instead
@dataclass(frozen=True, eq=False)
class BacktestOverfitting:
    """The outcome of CSCV: the probability of backtest overfitting and what it is made of.

    Arrays have one entry per combination, in the order of ``itertools.combinations``.

    Attributes
    ----------
    pbo
        Share of combinations whose in-sample best trial ranks at or below the out-of-sample
        median (logit ≤ 0): the probability that the selection overfits. 0 is good.
    logits
        ``λ = ln(ω / (1 − ω))`` with ``ω = rank / (N + 1)`` the out-of-sample relative rank of the
        in-sample best trial (rank 1 is the worst; ties share their average rank).
    in_sample, out_of_sample
        The metric of each combination's in-sample best trial on the in-sample and on the
        out-of-sample half: the performance degradation pairs.
    selected_trials
        Column position of each combination's in-sample best trial.
    metric
        Name of the metric (the function's ``__name__`` for a callable).
    n_splits, n_trials, n_observations
        ``S``, ``N`` and the number of periods used (the ``T mod S`` oldest periods are dropped
        so that the blocks have equal length).
    """

    pbo: float
    logits: npt.NDArray[np.float64]
    in_sample: npt.NDArray[np.float64]
    out_of_sample: npt.NDArray[np.float64]
    selected_trials: npt.NDArray[np.int64]
    metric: str
    n_splits: int
    n_trials: int
    n_observations: int

    @property
    def n_combinations(self) -> int:
        """``C(S, S/2)``, the number of in-sample/out-of-sample splits evaluated."""
        return len(self.logits)

    @property
    def probability_of_loss(self) -> float:
        """Share of combinations whose in-sample best trial has an out-of-sample metric below 0
        (a loss for the built-in metrics)."""
        return float(np.mean(self.out_of_sample < 0.0))

    @property
    def degradation_slope(self) -> float:
        """Least-squares slope of the out-of-sample on the in-sample metric of the selected
        trials; a negative slope means a better backtest promised a worse future. ``NaN`` when
        the in-sample values do not vary or are not all finite."""
        finite = np.isfinite(self.in_sample) & np.isfinite(self.out_of_sample)
        x, y = self.in_sample[finite], self.out_of_sample[finite]
        if len(x) < 2 or np.ptp(x) == 0.0:
            return math.nan
        x_centred = x - x.mean()
        return float(np.dot(x_centred, y - y.mean()) / np.dot(x_centred, x_centred))


def probability_of_backtest_overfitting(
    returns_matrix: pd.DataFrame | npt.ArrayLike,
    n_splits: int = 16,
    metric: OverfittingMetric | MetricFunction = "sharpe_ratio",
) -> BacktestOverfitting:
    """Estimate the probability that picking the best of ``N`` trials overfits (PBO, by CSCV).

    Parameters
    ----------
    returns_matrix
        ``T × N`` period returns as fractions (rows: periods, oldest first; columns: trials),
        e.g. the daily returns of each parameter set of a sweep. Periods in which a trial holds
        no position are 0.0, not missing.
    n_splits
        ``S``, the number of blocks: even, at least 2, at most ``T``. 16 gives 12 870
        combinations; more blocks give more combinations but shorter, noisier blocks.
    metric
        How a trial is ranked on a set of periods: ``"sharpe_ratio"`` (mean over standard
        deviation, per period; the paper's choice), ``"sortino_ratio"`` (mean over the root mean
        square of the losses), ``"mean_return"`` or ``"total_return"`` (compounded). Or a function
        from a ``rows × N`` array to ``N`` scores, higher is better; it is called twice per
        combination, so it is much slower than the built-in metrics.

    Returns
    -------
    BacktestOverfitting

    Raises
    ------
    ConfigError
        For an odd or too large ``n_splits``, fewer periods than blocks, fewer than 2 trials,
        missing values, an unknown metric, or returns of -100 % or less with ``"total_return"``.

    Examples
    --------
    >>> rng = np.random.default_rng(1)
    >>> noise = rng.normal(0.0, 0.01, size=(400, 6))
    >>> noise[:, 2] += 0.02  # one trial is better in every period
    >>> result = probability_of_backtest_overfitting(noise, n_splits=8)
    >>> result.pbo, result.n_combinations, set(result.selected_trials.tolist())
    (0.0, 70, {2})
    """
    splits = _checked_splits(n_splits)
    matrix = _checked_matrix(returns_matrix, splits)
    periods, trials = matrix.shape
    used = periods - periods % splits
    matrix = matrix[periods - used :]  # drop the oldest remainder: blocks of equal length
    blocks = np.arange(splits)
    chosen = np.array(list(itertools.combinations(blocks, splits // 2)), dtype=np.intp)
    in_sample_mask = np.zeros((len(chosen), splits), dtype=bool)
    in_sample_mask[np.arange(len(chosen))[:, np.newaxis], chosen] = True

    scores: Iterable[_Scores]
    if callable(metric):
        name = getattr(metric, "__name__", "metric")
        scores = _callable_scores(matrix, in_sample_mask, metric)
    else:
        name = _checked_metric_name(metric)
        scores = _block_scores(matrix, in_sample_mask, name)

    selected = np.empty(len(chosen), dtype=np.int64)
    logits = np.empty(len(chosen), dtype=np.float64)
    in_sample = np.empty(len(chosen), dtype=np.float64)
    out_of_sample = np.empty(len(chosen), dtype=np.float64)
    for start, stop, in_scores, out_scores in scores:
        rows = np.arange(stop - start)
        # an undefined score (NaN) ranks below every defined one, in and out of sample
        best = np.argmax(np.where(np.isnan(in_scores), -np.inf, in_scores), axis=1)
        ranked = np.where(np.isnan(out_scores), -np.inf, out_scores)
        winner = ranked[rows, best][:, np.newaxis]
        # 1 is the worst rank; ties share their average rank
        rank = np.sum(ranked < winner, axis=1) + (np.sum(ranked == winner, axis=1) + 1) / 2
        relative = rank / (trials + 1)
        selected[start:stop] = best
        logits[start:stop] = np.log(relative / (1.0 - relative))
        in_sample[start:stop] = in_scores[rows, best]
        out_of_sample[start:stop] = out_scores[rows, best]
    return BacktestOverfitting(
        pbo=float(np.mean(logits <= 0.0)),
        logits=logits,
        in_sample=in_sample,
        out_of_sample=out_of_sample,
        selected_trials=selected,
        metric=name,
        n_splits=splits,
        n_trials=trials,
        n_observations=used,
    )


_Scores = tuple[int, int, npt.NDArray[np.float64], npt.NDArray[np.float64]]


def _block_scores(
    matrix: npt.NDArray[np.float64], in_sample_mask: npt.NDArray[np.bool_], metric: str
) -> Iterator[_Scores]:
    """In- and out-of-sample scores of every trial, chunk by chunk of combinations (a
    generator, so only one chunk of scores is alive at a time)."""
    splits = in_sample_mask.shape[1]
    periods, trials = matrix.shape
    length = periods // splits
    half = length * (splits // 2)  # periods on each side of every split
    if metric == "total_return" and np.any(matrix <= -1.0):
        row, column = (int(position) for position in np.argwhere(matrix <= -1.0)[0])
        raise ConfigError(
            f"total_return cannot compound a return of -100 % or less (row {row}, column "
            f"{column}): use metric='sharpe_ratio' or 'mean_return'."
        )
    # centring on each trial's overall mean keeps the sum of squares free of cancellation
    centre = matrix.mean(axis=0)
    centred = (matrix - centre).reshape(splits, length, trials)
    parts: list[npt.NDArray[np.float64]] = [centred.sum(axis=1), (centred**2).sum(axis=1)]
    if metric == "sortino_ratio":
        losses = np.minimum(matrix, 0.0).reshape(splits, length, trials)
        parts.append((losses**2).sum(axis=1))
    if metric == "total_return":
        parts.append(np.log1p(matrix).reshape(splits, length, trials).sum(axis=1))
    block_sums = np.stack(parts)  # (statistic, block, trial)
    totals = block_sums.sum(axis=1)

    step = max(1, _CHUNK_CELLS // trials)
    weights = in_sample_mask.astype(np.float64)
    for start in range(0, len(weights), step):
        stop = min(start + step, len(weights))
        inside = np.einsum("cb,kbn->kcn", weights[start:stop], block_sums)
        outside = totals[:, np.newaxis, :] - inside
        in_scores = _score(inside, half, centre, metric)
        yield start, stop, in_scores, _score(outside, half, centre, metric)


def _score(
    sums: npt.NDArray[np.float64], count: int, centre: npt.NDArray[np.float64], metric: str
) -> npt.NDArray[np.float64]:
    mean: npt.NDArray[np.float64] = sums[0] / count + centre
    if metric == "mean_return":
        return mean
    if metric == "total_return":
        compounded: npt.NDArray[np.float64] = np.expm1(sums[2])
        return compounded
    if metric == "sortino_ratio":
        downside = np.sqrt(sums[2] / count)
        return _ratio(mean, downside)
    variance = np.maximum(sums[1] - sums[0] ** 2 / count, 0.0) / max(count - 1, 1)
    return _ratio(mean, np.sqrt(variance))


def _ratio(
    numerator: npt.NDArray[np.float64], denominator: npt.NDArray[np.float64]
) -> npt.NDArray[np.float64]:
    """``numerator / denominator`` where a zero risk gives 0 for zero return and ±inf otherwise
    (a flat trial that never traded is neither good nor bad)."""
    result = np.zeros_like(numerator)
    risky = denominator > 0.0
    np.divide(numerator, denominator, out=result, where=risky)
    result[~risky & (numerator > 0.0)] = np.inf
    result[~risky & (numerator < 0.0)] = -np.inf
    return result


def _callable_scores(
    matrix: npt.NDArray[np.float64],
    in_sample_mask: npt.NDArray[np.bool_],
    metric: MetricFunction,
) -> list[_Scores]:
    splits = in_sample_mask.shape[1]
    periods, trials = matrix.shape
    block_of_row = np.repeat(np.arange(splits), periods // splits)
    inside = np.empty((len(in_sample_mask), trials), dtype=np.float64)
    outside = np.empty_like(inside)
    for index, mask in enumerate(in_sample_mask):
        rows = mask[block_of_row]
        inside[index] = _call_metric(metric, matrix[rows], trials)
        outside[index] = _call_metric(metric, matrix[~rows], trials)
    return [(0, len(inside), inside, outside)]


def _call_metric(
    metric: MetricFunction, rows: npt.NDArray[np.float64], trials: int
) -> npt.NDArray[np.float64]:
    scores = np.asarray(metric(rows), dtype=np.float64)
    if scores.shape != (trials,):
        raise ConfigError(
            f"The metric function must return one score per trial (shape ({trials},)) for a "
            f"rows × trials array, but returned shape {scores.shape}."
        )
    return scores


def _checked_splits(n_splits: int) -> int:
    if (
        isinstance(n_splits, bool)
        or not isinstance(n_splits, int | np.integer)
        or n_splits < 2
        or n_splits % 2
    ):
        raise ConfigError(
            f"n_splits must be an even whole number of at least 2, got {n_splits!r}: the periods "
            "are cut into that many blocks, half of them in sample (16 is usual)."
        )
    count = math.comb(int(n_splits), int(n_splits) // 2)
    if count > _MAX_COMBINATIONS:
        raise ConfigError(
            f"n_splits={n_splits} gives {count:,} combinations, more than {_MAX_COMBINATIONS:,}: "
            "use 22 or fewer (16 is usual)."
        )
    return int(n_splits)


def _checked_matrix(values: pd.DataFrame | npt.ArrayLike, splits: int) -> npt.NDArray[np.float64]:
    try:
        matrix = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as error:
        raise ConfigError(f"The returns matrix must hold numbers: {error}.") from error
    if matrix.ndim != 2:
        raise ConfigError(
            f"The returns matrix must be 2-dimensional (periods × trials), got shape "
            f"{matrix.shape}."
        )
    periods, trials = matrix.shape
    if trials < 2:
        raise ConfigError(
            f"The returns matrix has {trials} trial column(s): overfitting needs a choice, so "
            "pass at least 2 trials (one column per parameter set)."
        )
    if periods < splits:
        raise ConfigError(
            f"The returns matrix has {periods} period(s), fewer than n_splits={splits}: every "
            "block needs at least one period. Use fewer splits or a longer history."
        )
    bad = np.argwhere(~np.isfinite(matrix))
    if len(bad):
        row, column = (int(position) for position in bad[0])
        raise ConfigError(
            f"The returns matrix has a missing or infinite value at row {row}, column {column} "
            f"({len(bad)} in all): fill periods without a position with 0.0."
        )
    return matrix


def _checked_metric_name(metric: str) -> str:
    if metric not in OVERFITTING_METRICS:
        raise ConfigError(
            f"Unknown metric {metric!r}: use one of {', '.join(OVERFITTING_METRICS)} or a "
            f"function.{did_you_mean(str(metric), OVERFITTING_METRICS)}"
        )
    return metric
