"""The block-sum CSCV against CSCV one combination at a time, and the Monte Carlo of trades.

Usage: ./dev bench robustness [TRIALS]   (default 100 trials, 2 000 periods, 16 blocks)

The baseline is the same probability_of_backtest_overfitting with the Sharpe ratio passed as a
function: it slices the rows of every one of the 12 870 combinations and scores them, as a plain
implementation of the paper does. Both give the same logits (checked here); we print the median
time of each and the ratio, measured in this run: the machine is shared, absolute times are noise.
"""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Callable

import numpy as np
import numpy.typing as npt

from backtestr.stats import monte_carlo_trades, probability_of_backtest_overfitting


def _median_seconds(function: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def _sharpe(rows: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    result: npt.NDArray[np.float64] = rows.mean(axis=0) / rows.std(axis=0, ddof=1)
    return result


def main() -> None:
    trials = int(sys.argv[1]) if len(sys.argv) > 1 else 100
    returns = np.random.default_rng(42).normal(0.0, 0.01, size=(2_000, trials))

    fast = probability_of_backtest_overfitting(returns, n_splits=16)
    slow = probability_of_backtest_overfitting(returns, n_splits=16, metric=_sharpe)
    np.testing.assert_allclose(fast.logits, slow.logits)
    block_sums = _median_seconds(lambda: probability_of_backtest_overfitting(returns), repeat=5)
    per_combination = _median_seconds(
        lambda: probability_of_backtest_overfitting(returns, metric=_sharpe), repeat=1
    )
    print(f"CSCV, 2 000 periods x {trials} trials, 16 blocks ({fast.n_combinations:,} splits)")
    print(f"  block sums (ours)        {block_sums:8.3f} s")
    print(f"  one split at a time      {per_combination:8.3f} s")
    print(f"  ratio                    {per_combination / block_sums:8.1f}x faster")

    pnls = np.random.default_rng(7).normal(5.0, 100.0, 2_000)
    shuffle = _median_seconds(lambda: monte_carlo_trades(pnls, 100_000.0, n_sims=10_000), 3)
    looped = (
        _median_seconds(
            lambda: [monte_carlo_trades(pnls, 100_000.0, n_sims=1, seed=s) for s in range(1_000)], 1
        )
        * 10
    )
    print("Monte Carlo, 2 000 trades x 10 000 shuffles")
    print(f"  one call                 {shuffle:8.3f} s")
    print(f"  one call per simulation  {looped:8.3f} s (1 000 calls, scaled to 10 000)")
    print(f"  ratio                    {looped / shuffle:8.1f}x faster")


if __name__ == "__main__":
    main()
