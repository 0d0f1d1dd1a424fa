"""Monte Carlo resampling of trade sequences: invariants, determinism, paths checked by hand."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from backtestr.errors import ConfigError
from backtestr.stats import monte_carlo_trades

trade_lists = st.lists(st.floats(-500.0, 500.0, allow_nan=False), min_size=1, max_size=60)


def test_the_observed_path_is_measured_as_traded() -> None:
    # equity 1000 -> 1100 -> 1050 -> 1075 -> 1000 -> 1200: deepest fall 1100 -> 1000 = 9.09 %
    result = monte_carlo_trades([100.0, -50.0, 25.0, -75.0, 200.0], 1_000.0, n_sims=10)
    assert result.observed_final_return_pct == pytest.approx(20.0)
    assert result.observed_max_drawdown_pct == pytest.approx(100 / 1100 * 100)
    assert (result.n_trades, result.initial_equity, result.method) == (5, 1_000.0, "shuffle")


def test_a_losing_first_trade_is_a_drawdown_from_the_initial_equity() -> None:
    result = monte_carlo_trades([-200.0, 300.0], 1_000.0, n_sims=1)
    assert result.observed_max_drawdown_pct == pytest.approx(20.0)


@settings(max_examples=40, deadline=None)
@given(trade_lists, st.integers(0, 2**32 - 1))
def test_shuffling_keeps_the_final_return_exactly(pnls: list[float], seed: int) -> None:
    result = monte_carlo_trades(pnls, 100_000.0, n_sims=50, seed=seed)
    expected = (100_000.0 + math.fsum(pnls)) / 100_000.0 * 100.0 - 100.0
    np.testing.assert_allclose(result.simulations["final_return_pct"], expected, atol=1e-9)
    assert result.observed_final_return_pct == pytest.approx(expected, abs=1e-9)


def test_shuffling_changes_the_drawdown() -> None:
    pnls = np.random.default_rng(4).normal(10.0, 100.0, 200)
    result = monte_carlo_trades(pnls, 10_000.0, n_sims=500, seed=1)
    drawdowns = result.simulations["max_drawdown_pct"]
    assert drawdowns.nunique() > 400
    assert drawdowns.min() < result.observed_max_drawdown_pct < drawdowns.max()
    # every trade sequence with a loss has a drawdown; none goes beyond the sum of all losses
    worst_case = -pnls[pnls < 0].sum() / 10_000.0 * 100.0
    assert drawdowns.min() > 0.0
    assert drawdowns.max() <= worst_case


def test_sorted_trades_bound_the_drawdown_of_every_order() -> None:
    # losses first is the worst order there is: the path falls by all losses from the start
    pnls = [50.0, -30.0, 80.0, -60.0, -10.0, 40.0]
    result = monte_carlo_trades(pnls, 1_000.0, n_sims=300, seed=2)
    worst = monte_carlo_trades(sorted(pnls), 1_000.0, n_sims=1).observed_max_drawdown_pct
    assert worst == pytest.approx(10.0)
    assert result.simulations["max_drawdown_pct"].max() == pytest.approx(worst)


@settings(max_examples=30, deadline=None)
@given(trade_lists, st.integers(0, 2**32 - 1))
def test_bootstrap_quantiles_are_ordered(pnls: list[float], seed: int) -> None:
    result = monte_carlo_trades(
        pnls, 10_000.0, n_sims=200, seed=seed, method="bootstrap", quantiles=(0.05, 0.5, 0.95)
    )
    for column in ("final_return_pct", "max_drawdown_pct"):
        low, middle, high = result.quantiles[column].tolist()
        assert low <= middle <= high
    assert result.quantiles.index.tolist() == [0.05, 0.5, 0.95]
    assert result.simulations["max_drawdown_pct"].between(0.0, 100.0).all()


def test_bootstrap_draws_only_the_trades_given() -> None:
    # two draws, each +10 or -10 on an equity of 100: the final return is -20, 0 or +20 %
    result = monte_carlo_trades([10.0, -10.0], 100.0, n_sims=400, seed=3, method="bootstrap")
    finals = result.simulations["final_return_pct"]
    assert set(np.round(finals, 9)) == {-20.0, 0.0, 20.0}


def test_the_same_seed_gives_the_same_simulations() -> None:
    pnls = pd.Series(np.random.default_rng(0).normal(5.0, 50.0, 120))
    for method in ("shuffle", "bootstrap"):
        first = monte_carlo_trades(pnls, 5_000.0, n_sims=300, seed=42, method=method)  # type: ignore[arg-type]
        again = monte_carlo_trades(pnls, 5_000.0, n_sims=300, seed=42, method=method)  # type: ignore[arg-type]
        other = monte_carlo_trades(pnls, 5_000.0, n_sims=300, seed=43, method=method)  # type: ignore[arg-type]
        pd.testing.assert_frame_equal(first.simulations, again.simulations)
        assert not first.simulations["max_drawdown_pct"].equals(
            other.simulations["max_drawdown_pct"]
        )


def test_many_simulations_of_many_trades_are_chunked_alike() -> None:
    # more cells than one chunk holds: the chunks together still give n_sims rows
    pnls = np.random.default_rng(6).normal(1.0, 20.0, 5_000)
    result = monte_carlo_trades(pnls, 100_000.0, n_sims=600, seed=0)
    assert len(result.simulations) == 600
    assert result.simulations["max_drawdown_pct"].nunique() > 500


def test_a_ruinous_sequence_counts_as_a_total_drawdown() -> None:
    result = monte_carlo_trades([-600.0, -600.0, 2_000.0], 1_000.0, n_sims=100, seed=0)
    assert result.ruin_probability == pytest.approx(
        float((result.simulations["max_drawdown_pct"] == 100.0).mean())
    )
    # the two losses come first in a third of the orders (2 of the 6 permutations)
    assert 0.2 < result.ruin_probability < 0.5


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"trade_pnls": []}, "non-empty"),
        ({"trade_pnls": [[1.0, 2.0]]}, "non-empty"),
        ({"trade_pnls": [1.0, math.inf]}, r"trade_pnls\[1\]"),
        ({"trade_pnls": ["a"]}, "numbers"),
        ({"initial_equity": 0.0}, "initial_equity"),
        ({"n_sims": 0}, "n_sims"),
        ({"method": "boostrap"}, "Did you mean 'bootstrap'"),
        ({"quantiles": (0.5, 95)}, "between 0 and 1"),
    ],
)
def test_bad_input_is_named(arguments: dict[str, object], message: str) -> None:
    call: dict[str, object] = {"trade_pnls": [1.0, -1.0], "initial_equity": 100.0, **arguments}
    with pytest.raises(ConfigError, match=message):
        monte_carlo_trades(**call)  # type: ignore[arg-type]
