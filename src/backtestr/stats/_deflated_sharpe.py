"""The probabilistic and the deflated Sharpe ratio (Bailey & López de Prado, 2012 and 2014).

A Sharpe ratio picked as the best of many trials is biased upward: even trials without any skill
show a positive maximum. The *deflated* Sharpe ratio (DSR) is the probability that the true
Sharpe ratio of the selected strategy exceeds the Sharpe ratio the best of ``N`` skill-less trials
would show by luck, given the sample length and the non-normality (skewness, kurtosis) of the
selected strategy's returns.

Units
-----
Every formula here works on the **per-period, non-annualised** Sharpe ratio
``mean(r) / std(r)`` of the period returns ``r`` (daily returns give a daily Sharpe ratio), and
``n_observations`` counts those periods. An annualised Sharpe ratio (as
``Statistics.sharpe_ratio`` reports) must first be divided by ``sqrt(periods_per_year)``:
:func:`sharpe_per_period` does that and :func:`sharpe_annualised` goes back. Passing an
annualised ratio would inflate the test statistic by ``sqrt(periods_per_year)`` and push every
probability to 1. :func:`expected_max_sharpe` is homogeneous: it returns a Sharpe ratio in the
units of the Sharpe ratios whose variance it is given.

Kurtosis is Pearson's (non-excess) kurtosis: 3 for a normal distribution.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from statistics import NormalDist

import numpy as np
import numpy.typing as npt
import pandas as pd

from backtestr.errors import ConfigError

__all__ = [
    "DeflatedSharpe",
    "deflated_sharpe_from_returns",
    "deflated_sharpe_ratio",
    "expected_max_sharpe",
    "probabilistic_sharpe_ratio",
    "sharpe_annualised",
    "sharpe_per_period",
]

_EULER_MASCHERONI = 0.5772156649015329
_STANDARD_NORMAL = NormalDist()


def sharpe_per_period(sharpe_ratio_annualised: float, periods_per_year: float) -> float:
    """Convert an annualised Sharpe ratio to the per-period ratio the formulas here expect.

    Examples
    --------
    >>> sharpe_per_period(2.0, 256.0)
    0.125
    """
    return sharpe_ratio_annualised / math.sqrt(_positive(periods_per_year, "periods_per_year"))


def sharpe_annualised(sharpe_ratio_per_period: float, periods_per_year: float) -> float:
    """Convert a per-period Sharpe ratio to an annualised one (the inverse of
    :func:`sharpe_per_period`)."""
    return sharpe_ratio_per_period * math.sqrt(_positive(periods_per_year, "periods_per_year"))


def probabilistic_sharpe_ratio(
    sharpe_ratio: float,
    n_observations: int,
    *,
    benchmark_sharpe: float = 0.0,
    skewness: float = 0.0,
    kurtosis: float = 3.0,
) -> float:
    """Probability that the true Sharpe ratio exceeds ``benchmark_sharpe`` (PSR).

    ``PSR = Φ((SR − SR*) · sqrt(T − 1) / sqrt(1 − γ₃·SR + (γ₄ − 1)/4 · SR²))`` with ``Φ`` the
    standard normal CDF, ``SR`` the observed and ``SR*`` the benchmark Sharpe ratio.

    Parameters
    ----------
    sharpe_ratio
        Observed Sharpe ratio, **per period** (not annualised; see :func:`sharpe_per_period`).
    n_observations
        ``T``, the number of period returns the Sharpe ratio was measured on (at least 2).
    benchmark_sharpe
        ``SR*``, per period.
    skewness, kurtosis
        ``γ₃`` and ``γ₄`` of the period returns; kurtosis is non-excess (3 when normal).

    Returns
    -------
    float
        A probability in ``[0, 1]``; 0.5 when the observed ratio equals the benchmark.

    Raises
    ------
    ConfigError
        For fewer than 2 observations, non-finite inputs, or moments no distribution has
        (``kurtosis < 1 + skewness²``, typically an *excess* kurtosis passed by mistake).

    Examples
    --------
    >>> probabilistic_sharpe_ratio(0.0, 250)
    0.5
    >>> round(probabilistic_sharpe_ratio(0.1, 251), 4)  # Φ(0.1 · sqrt(250) / sqrt(1.005))
    0.9426
    """
    _finite(sharpe_ratio, "sharpe_ratio")
    _finite(benchmark_sharpe, "benchmark_sharpe")
    count = _observations(n_observations)
    _check_moments(skewness, kurtosis)
    # never negative for real moments: it is at least (1 - skewness * SR / 2)²
    variance = 1.0 - skewness * sharpe_ratio + (kurtosis - 1.0) / 4.0 * sharpe_ratio**2
    difference = sharpe_ratio - benchmark_sharpe
    if variance <= 0.0 or difference == 0.0:
        # a degenerate (zero-width) estimate: certainly above, certainly below, or exactly equal
        return 0.5 if difference == 0.0 else float(difference > 0.0)
    return _STANDARD_NORMAL.cdf(difference * math.sqrt(count - 1) / math.sqrt(variance))


def expected_max_sharpe(n_trials: int, trials_sharpe_variance: float) -> float:
    """Expected maximum Sharpe ratio of ``n_trials`` independent trials without skill.

    ``E[max SR] ≈ sqrt(V) · ((1 − γ)·Φ⁻¹(1 − 1/N) + γ·Φ⁻¹(1 − 1/(N·e)))`` with ``γ`` the
    Euler–Mascheroni constant and ``V`` the variance of the trials' Sharpe ratios (the
    extreme-value approximation of Bailey & López de Prado, 2014). One trial has no selection
    bias: the expected maximum of a single zero-mean estimate is exactly 0, which is also where
    the approximation's limit is undefined.

    Parameters
    ----------
    n_trials
        ``N``, the number of independent trials the best was chosen from. Correlated trials count
        for fewer independent ones; passing the raw count then overstates the bias (conservative).
    trials_sharpe_variance
        ``V``, the variance of the trials' Sharpe ratios. The result is in the units of those
        Sharpe ratios (per period when they are per period).

    Examples
    --------
    >>> expected_max_sharpe(1, 0.04)
    0.0
    >>> round(expected_max_sharpe(100, 1.0), 4)
    2.5306
    """
    if isinstance(n_trials, bool) or not isinstance(n_trials, int | np.integer) or n_trials < 1:
        raise ConfigError(
            f"n_trials must be a whole number of at least 1, got {n_trials!r}: "
            "count every parameter set the best one was chosen from."
        )
    _finite(trials_sharpe_variance, "trials_sharpe_variance")
    if trials_sharpe_variance < 0.0:
        raise ConfigError(
            f"trials_sharpe_variance must not be negative, got {trials_sharpe_variance!r}."
        )
    if n_trials == 1:
        return 0.0
    count = int(n_trials)
    spread = ((1.0 - _EULER_MASCHERONI) * _STANDARD_NORMAL.inv_cdf(1.0 - 1.0 / count)) + (
        _EULER_MASCHERONI * _STANDARD_NORMAL.inv_cdf(1.0 - 1.0 / (count * math.e))
    )
    return math.sqrt(trials_sharpe_variance) * spread


def deflated_sharpe_ratio(
    sharpe_ratio: float,
    n_observations: int,
    *,
    n_trials: int,
    trials_sharpe_variance: float,
    skewness: float = 0.0,
    kurtosis: float = 3.0,
) -> float:
    """Probability that the selected strategy's true Sharpe ratio beats luck (DSR).

    The :func:`probabilistic_sharpe_ratio` against the :func:`expected_max_sharpe` of
    ``n_trials`` skill-less trials. All Sharpe quantities are **per period** (not annualised),
    ``trials_sharpe_variance`` included; ``skewness`` and ``kurtosis`` (non-excess) are those of
    the selected strategy's period returns. With one trial it equals the PSR against 0.

    Examples
    --------
    >>> round(deflated_sharpe_ratio(0.1, 1000, n_trials=1, trials_sharpe_variance=0.0), 4)
    0.9992
    >>> round(deflated_sharpe_ratio(0.1, 1000, n_trials=50, trials_sharpe_variance=0.002), 4)
    0.4774
    """
    benchmark = expected_max_sharpe(n_trials, trials_sharpe_variance)
    return probabilistic_sharpe_ratio(
        sharpe_ratio,
        n_observations,
        benchmark_sharpe=benchmark,
        skewness=skewness,
        kurtosis=kurtosis,
    )


# eq=False: field-wise == on arrays has no single truth value; compare the fields instead
@dataclass(frozen=True, eq=False)
class DeflatedSharpe:
    """The deflated Sharpe ratio of the best of several trials, with everything it was made of.

    Sharpe ratios are per period; ``*_annualised`` properties scale them when
    ``periods_per_year`` is known (``NaN`` otherwise).

    Attributes
    ----------
    deflated_sharpe_ratio
        Probability that the selected trial's true Sharpe ratio beats the best of ``n_trials``
        skill-less trials.
    probabilistic_sharpe_ratio
        Probability that it beats 0 (the PSR, ignoring the selection).
    sharpe_ratio
        The selected trial's per-period Sharpe ratio.
    expected_max_sharpe
        The per-period Sharpe ratio the best of ``n_trials`` skill-less trials reaches by luck.
    trial_sharpe_ratios
        Every trial's per-period Sharpe ratio, in column order.
    selected
        Column position of the selected trial.
    n_trials, n_observations
        ``N`` (the number of trials the bias is computed for) and ``T`` (periods).
    trials_sharpe_variance, skewness, kurtosis
        The remaining inputs of the formula (kurtosis non-excess).
    periods_per_year
        Annualisation factor of the periods, when known.
    """

    deflated_sharpe_ratio: float
    probabilistic_sharpe_ratio: float
    sharpe_ratio: float
    expected_max_sharpe: float
    trial_sharpe_ratios: npt.NDArray[np.float64]
    selected: int
    n_trials: int
    n_observations: int
    trials_sharpe_variance: float
    skewness: float
    kurtosis: float
    periods_per_year: float | None = None

    @property
    def sharpe_ratio_annualised(self) -> float:
        """The selected trial's Sharpe ratio, annualised."""
        return self._annualise(self.sharpe_ratio)

    @property
    def expected_max_sharpe_annualised(self) -> float:
        """The expected maximum Sharpe ratio of skill-less trials, annualised."""
        return self._annualise(self.expected_max_sharpe)

    def _annualise(self, value: float) -> float:
        if self.periods_per_year is None:
            return math.nan
        return sharpe_annualised(value, self.periods_per_year)


def deflated_sharpe_from_returns(
    returns_matrix: pd.DataFrame | npt.ArrayLike,
    *,
    selected: int | None = None,
    n_trials: int | None = None,
    periods_per_year: float | None = None,
) -> DeflatedSharpe:
    """Deflate the Sharpe ratio of the best trial of a sweep, from the trials' period returns.

    Every quantity comes from one matrix, so all are in the same (per-period) units: each
    column's Sharpe ratio is ``mean / std`` (sample standard deviation, ``ddof=1``) of its
    returns; their variance (``ddof=1``) is ``V``; skewness and kurtosis are the sample moments
    (``m₃ / m₂^1.5`` and ``m₄ / m₂²``) of the selected column, as in the paper.

    Parameters
    ----------
    returns_matrix
        ``T × N`` period returns (rows: periods, oldest first; columns: trials), e.g. daily
        returns of each parameter set of a sweep, as excess returns over the risk-free rate when
        it is not zero. The same matrix feeds ``probability_of_backtest_overfitting``.
    selected
        Column position of the trial to judge; ``None`` takes the highest Sharpe ratio.
    n_trials
        ``N`` for the selection bias; ``None`` uses the number of columns. Pass more when more
        trials were run than the matrix holds, fewer to count clusters of similar trials once.
    periods_per_year
        Only for the annualised views of the result.

    Raises
    ------
    ConfigError
        For a matrix with fewer than 2 rows, missing or infinite values, or a trial whose returns
        are constant but not zero (an infinite Sharpe ratio).

    Examples
    --------
    >>> returns = np.array([[0.01, 0.02], [-0.01, 0.0], [0.02, 0.01], [0.0, 0.01]])
    >>> result = deflated_sharpe_from_returns(returns)
    >>> result.selected, round(result.sharpe_ratio, 4)
    (1, 1.2247)
    """
    matrix = _returns_matrix(returns_matrix)
    periods, trials = matrix.shape
    sharpe_ratios = _column_sharpe_ratios(matrix)
    if selected is None:
        chosen = int(np.argmax(sharpe_ratios))
    elif not -trials <= selected < trials:
        raise ConfigError(
            f"selected={selected} is not a column of the returns matrix (it has {trials})."
        )
    else:
        chosen = selected % trials
    count = trials if n_trials is None else n_trials
    if trials == 1 and count > 1:
        raise ConfigError(
            f"n_trials={count} but the returns matrix holds 1 trial: the selection bias needs the "
            "spread of the trials' Sharpe ratios, so pass the returns of every trial (or at least "
            "2 of them)."
        )
    variance = float(np.var(sharpe_ratios, ddof=1)) if trials > 1 else 0.0
    skewness, kurtosis = _moments(matrix[:, chosen])
    sharpe = float(sharpe_ratios[chosen])
    benchmark = expected_max_sharpe(count, variance)
    return DeflatedSharpe(
        deflated_sharpe_ratio=probabilistic_sharpe_ratio(
            sharpe, periods, benchmark_sharpe=benchmark, skewness=skewness, kurtosis=kurtosis
        ),
        probabilistic_sharpe_ratio=probabilistic_sharpe_ratio(
            sharpe, periods, skewness=skewness, kurtosis=kurtosis
        ),
        sharpe_ratio=sharpe,
        expected_max_sharpe=benchmark,
        trial_sharpe_ratios=sharpe_ratios,
        selected=chosen,
        n_trials=count,
        n_observations=periods,
        trials_sharpe_variance=variance,
        skewness=skewness,
        kurtosis=kurtosis,
        periods_per_year=(
            None if periods_per_year is None else _positive(periods_per_year, "periods_per_year")
        ),
    )


def _returns_matrix(values: pd.DataFrame | npt.ArrayLike) -> npt.NDArray[np.float64]:
    try:
        matrix = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as error:
        raise ConfigError(f"The returns matrix must hold numbers: {error}.") from error
    if matrix.ndim == 1:
        matrix = matrix[:, np.newaxis]
    if matrix.ndim != 2 or matrix.shape[0] < 2 or matrix.shape[1] < 1:
        raise ConfigError(
            f"The returns matrix has shape {matrix.shape}: it needs one row per period (at least "
            "2) and one column per trial."
        )
    bad = np.argwhere(~np.isfinite(matrix))
    if len(bad):
        row, column = (int(position) for position in bad[0])
        raise ConfigError(
            f"The returns matrix has a missing or infinite value at row {row}, column {column} "
            f"({len(bad)} in all): fill periods without a position with 0.0."
        )
    return matrix


def _column_sharpe_ratios(matrix: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    means = matrix.mean(axis=0)
    deviations = matrix.std(axis=0, ddof=1)
    flat = deviations == 0.0
    if np.any(flat & (means != 0.0)):
        column = int(np.argmax(flat & (means != 0.0)))
        raise ConfigError(
            f"Trial {column} returns the same non-zero amount every period: its Sharpe ratio is "
            "infinite. Check the returns matrix (are these prices rather than returns?)."
        )
    # a trial that never trades has flat equity: no excess return and no risk, a Sharpe of 0
    safe = np.where(flat, 1.0, deviations)
    ratios: npt.NDArray[np.float64] = np.where(flat, 0.0, means / safe)
    return ratios


def _moments(returns: npt.NDArray[np.float64]) -> tuple[float, float]:
    centred = returns - returns.mean()
    second = float(np.mean(centred**2))
    if second == 0.0:
        return 0.0, 3.0  # constant returns: no shape to measure; the normal's moments are neutral
    return float(np.mean(centred**3)) / second**1.5, float(np.mean(centred**4)) / second**2


def _check_moments(skewness: float, kurtosis: float) -> None:
    _finite(skewness, "skewness")
    _finite(kurtosis, "kurtosis")
    # every distribution has kurtosis >= 1 + skewness²; a small tolerance absorbs rounding
    if kurtosis < 1.0 + skewness**2 - 1e-9:
        raise ConfigError(
            f"kurtosis={kurtosis!r} with skewness={skewness!r} is impossible (kurtosis is at least "
            "1 + skewness²). Pass Pearson's kurtosis, 3 for a normal distribution: add 3 to an "
            "excess kurtosis."
        )


def _observations(n_observations: int) -> int:
    if (
        isinstance(n_observations, bool)
        or not isinstance(n_observations, int | np.integer)
        or n_observations < 2
    ):
        raise ConfigError(
            f"n_observations must be a whole number of at least 2, got {n_observations!r}: "
            "the number of period returns the Sharpe ratio was measured on."
        )
    return int(n_observations)


def _finite(value: float, name: str) -> None:
    if not math.isfinite(value):
        raise ConfigError(f"{name} must be a finite number, got {value!r}.")


def _positive(value: float, name: str) -> float:
    if not (math.isfinite(value) and value > 0.0):
        raise ConfigError(f"{name} must be a positive number, got {value!r}.")
    return float(value)
