"""Walk-forward analysis: windows optimised without look-ahead, the winners traded out of sample,
and the out-of-sample runs chained into one account."""

from __future__ import annotations

import math
from collections import Counter

import numpy as np
import pandas as pd
import pytest

from backtestr import run
from backtestr.engine import slice_market
from backtestr.errors import ConfigError
from backtestr.optimize import (
    LocalPoolExecutor,
    ParamSpace,
    SerialExecutor,
    TrialOutcome,
    WalkForwardResult,
    WalkForwardSpec,
    run_sweep,
    run_walk_forward,
)
from backtestr.stats import compute_statistics
from tests.optimize import walkforward_builders as builders
from tests.optimize.walkforward_builders import hourly_payload, spy_payload

SPACE = ParamSpace.parse(["fast=5:15:5", "slow=30,60"], ["fast < slow"])
SPEC = "train=6M,test=3M"


@pytest.fixture(scope="module")
def result() -> WalkForwardResult:
    return run_walk_forward(hourly_payload(24), SPACE, SPEC)


def test_training_never_sees_a_price_from_at_or_after_the_window_end() -> None:
    payload = spy_payload(months=8)
    spec = WalkForwardSpec.parse("train=3M,test=1M,anchored")
    builders.SEEN.clear()
    outcome = run_walk_forward(
        payload, ParamSpace.parse(["p=1,2"]), spec, executor=SerialExecutor()
    )
    bars = payload.market.feeds["EURUSD"].bars
    close_before = dict(zip(bars.ts_ns + 3_600 * 10**9, bars.close, strict=True))
    origin = int(bars.ts_ns[0]) + 3_600 * 10**9  # the first decision: the first bar's close
    windows = [run.window for run in outcome.runs]
    assert len(windows) == 5
    train_runs = Counter(end for first, end, _ in builders.SEEN if first == origin)
    # two trials per window, each deciding up to its training end and not one bar further
    assert train_runs == Counter({w.train_end_ns: 2 for w in windows})
    for _first, last, highest in builders.SEEN:
        # prices rise with time: the highest price seen (bid, closes, coarser bars' highs) is
        # the close of the run's last bar, so nothing later leaked in
        assert highest == close_before[last]
    test_runs = {(first, last) for first, last, _ in builders.SEEN if first != origin}
    hour = 3_600 * 10**9
    assert test_runs == {(w.test_start_ns + hour, w.test_end_ns) for w in windows}


def test_each_window_picks_what_a_sweep_on_its_training_data_alone_picks(
    result: WalkForwardResult,
) -> None:
    payload = hourly_payload(24)
    for run_ in result.runs:
        window = run_.window
        cut = payload.with_market(
            slice_market(payload.market, window.train_start_ns, window.train_end_ns)
        )
        alone = run_sweep(cut, SPACE)
        assert run_.best is not None
        assert run_.best.key == alone.best.key  # same data hash whichever way it was cut
        assert run_.best.identical_to(alone.best)


def test_the_test_run_is_a_plain_run_of_the_best_parameters_on_the_test_window(
    result: WalkForwardResult,
) -> None:
    payload = hourly_payload(24)
    run_ = result.runs[2]
    assert run_.best is not None
    assert run_.test is not None
    window = run_.window
    market = slice_market(payload.market, window.test_start_ns, window.test_end_ns)
    plain = run(payload.source, market, cash=10_000.0, leverage=30.0, params=run_.best.params)
    assert plain.stats.to_dict() == run_.test.stats.to_dict()
    assert plain.equity.index[0] == window.times()["test_start"]
    assert plain.equity.index[-1] < window.times()["test_end"]


def test_out_of_sample_equity_chains_the_windows_returns(result: WalkForwardResult) -> None:
    equity = result.equity
    assert equity.iloc[0] == pytest.approx(10_000.0)
    assert equity.index.is_monotonic_increasing
    assert equity.index.is_unique
    growth = 1.0
    for run_ in result.runs:
        assert run_.test is not None
        test = run_.test.equity["equity"]
        part = equity.loc[test.index]
        np.testing.assert_allclose(part.to_numpy(), (test * growth).to_numpy(), rtol=1e-12)
        growth *= test.iloc[-1] / 10_000.0
    assert equity.iloc[-1] == pytest.approx(10_000.0 * growth, rel=1e-12)
    assert equity.index[0] == result.windows["test_start"].iloc[0]


def test_trades_are_scaled_to_the_chained_account_and_add_up(result: WalkForwardResult) -> None:
    assert len(result.trades) == sum(len(r.test.trades) for r in result.runs if r.test)
    # every test run closes what it holds at its end, so trades explain the whole curve
    assert result.trades["pnl"].sum() == pytest.approx(result.equity.iloc[-1] - 10_000.0)
    stats = result.stats
    assert stats.total_trades == len(result.trades)
    assert stats.total_return_pct == pytest.approx((result.equity.iloc[-1] / 10_000 - 1) * 100)
    again = compute_statistics(result.equity, result.trades, initial_cash=10_000.0)
    assert again.max_drawdown_pct == stats.max_drawdown_pct


def test_windows_frame_reports_parameters_and_both_objectives(result: WalkForwardResult) -> None:
    frame = result.windows
    assert len(frame) == 6
    assert list(frame["window"]) == list(range(6))
    assert {"fast", "slow", "is_objective", "oos_objective", "efficiency"} <= set(frame.columns)
    for row, run_ in zip(frame.itertuples(), result.runs, strict=True):
        assert run_.best is not None
        assert run_.test is not None
        assert (row.fast, row.slow) == (run_.best.params["fast"], run_.best.params["slow"])
        assert row.is_objective == run_.best.objective
        assert row.oos_objective == run_.test.stats.sharpe_ratio
        assert row.efficiency == pytest.approx(
            row.oos_return_ann_pct / row.is_return_ann_pct
        ) or math.isnan(row.efficiency)
    mean_is = frame["is_return_ann_pct"].mean()
    assert result.efficiency == pytest.approx(result.stats.return_ann_pct / mean_is)


def test_a_local_pool_gives_the_same_walk_forward_bit_for_bit(result: WalkForwardResult) -> None:
    pooled = run_walk_forward(
        hourly_payload(24), SPACE, SPEC, executor=LocalPoolExecutor(workers=2)
    )
    for a, b in zip(result.runs, pooled.runs, strict=True):
        assert [o.key for o in a.sweep.outcomes] == [o.key for o in b.sweep.outcomes]
        assert all(
            x.identical_to(y) for x, y in zip(a.sweep.outcomes, b.sweep.outcomes, strict=True)
        )
    assert pooled.equity.equals(result.equity)


def test_resuming_skips_every_trial_already_done_in_any_window() -> None:
    payload = hourly_payload(12)
    saved: list[TrialOutcome] = []
    first = run_walk_forward(payload, SPACE, "train=4M,test=2M", on_result=saved.append)
    assert len(saved) == 4 * 6  # 4 windows of 6 sets each, all with distinct keys
    assert len({o.key for o in saved}) == len(saved)
    fresh: list[TrialOutcome] = []
    again = run_walk_forward(
        payload, SPACE, "train=4M,test=2M", done={o.key: o for o in saved}, on_result=fresh.append
    )
    assert fresh == []
    assert again.trials_skipped == len(saved)
    assert again.equity.equals(first.equity)


def test_progress_counts_trials_over_all_windows() -> None:
    calls: list[tuple[int, int]] = []
    run_walk_forward(
        hourly_payload(12),
        SPACE,
        "train=4M,test=2M",
        method="random",
        trials=2,
        progress=lambda done, total: calls.append((done, total)),
    )
    assert calls[0] == (0, 8)
    assert calls[-1] == (8, 8)
    assert [done for done, _ in calls] == sorted(done for done, _ in calls)


def test_data_too_short_for_one_window_is_a_clear_error() -> None:
    with pytest.raises(ConfigError, match=r"too short for one walk-forward window of train=1Y"):
        run_walk_forward(hourly_payload(6), SPACE, "train=1Y,test=1M")


def test_a_window_without_a_defined_objective_stays_out_of_the_market() -> None:
    # slow=2000 hours never gets enough history in a 2-month training window: no trade
    space = ParamSpace.parse(["fast=5", "slow=2000"])
    outcome = run_walk_forward(hourly_payload(6), space, "train=2M,test=1M")
    assert all(run_.best is None and run_.test is None for run_ in outcome.runs)
    assert (outcome.equity == 10_000.0).all()
    assert outcome.windows["fast"].isna().all()
    assert outcome.stats.total_trades == 0


def test_plot_is_saved(result: WalkForwardResult, tmp_path: pd.Timestamp) -> None:
    figure = result.plot(tmp_path / "wf.png")  # type: ignore[operator]
    assert len(figure.axes) == 3
    assert (tmp_path / "wf.png").read_bytes().startswith(b"\x89PNG")  # type: ignore[operator]
