import math
from pathlib import Path

import pytest

from backtestr import run
from backtestr.errors import ConfigError, StrategyError
from backtestr.optimize import (
    LocalPoolExecutor,
    ParamSpace,
    SerialExecutor,
    SweepPayload,
    TrialOutcome,
    run_sweep,
    run_trial,
    trial_key,
)
from backtestr.strategy.loader import load_strategy
from tests.optimize.optimize_builders import ma_payload

SPACE = ParamSpace.parse(["fast=5:15:5", "slow=20:40:10"], ["fast < slow"])


def test_trial_equals_a_plain_run_with_those_parameters() -> None:
    payload = ma_payload()
    outcome = run_trial(payload, {"fast": 5, "slow": 30})
    plain = run(
        payload.source, payload.market, cash=10_000.0, leverage=30.0,
        params={"fast": 5, "slow": 30},
    )  # fmt: skip
    assert outcome.stats == plain.stats.to_dict()
    assert outcome.trade_pnls.tolist() == plain.trades["pnl"].tolist()
    assert outcome.objective == plain.stats.sharpe_ratio
    growth = math.prod(1 + r for r in outcome.daily_returns)
    assert growth == pytest.approx(plain.final_equity / 10_000.0, rel=1e-12)


def test_grid_sweep_ranks_best_first_and_frames_every_trial() -> None:
    result = run_sweep(ma_payload(), SPACE)
    frame = result.frame()
    assert len(frame) == 9
    assert frame["objective"].is_monotonic_decreasing
    assert result.best.objective == frame["objective"].iloc[0]
    assert {"fast", "slow", "total_return_pct", "key"} <= set(frame.columns)


def test_lower_is_better_objective_is_minimised() -> None:
    result = run_sweep(ma_payload(objective="max_drawdown_pct"), SPACE)
    assert not result.maximize
    assert result.frame()["objective"].is_monotonic_increasing


def test_done_trials_are_skipped_and_new_ones_reported() -> None:
    payload = ma_payload()
    first: list[TrialOutcome] = []
    run_sweep(payload, SPACE, trials=4, on_result=first.append)
    assert len(first) == 4
    seen: list[TrialOutcome] = []
    again = run_sweep(payload, SPACE, done={o.key: o for o in first}, on_result=seen.append)
    assert again.skipped == 4
    assert len(seen) == 5
    assert {o.key for o in again.outcomes} == {o.key for o in first} | {o.key for o in seen}


def test_progress_counts_up_to_the_plan() -> None:
    calls: list[tuple[int, int]] = []
    run_sweep(
        ma_payload(),
        SPACE,
        method="random",
        trials=3,
        seed=1,
        progress=lambda d, t: calls.append((d, t)),
    )
    assert calls[0] == (0, 3)
    assert calls[-1] == (3, 3)


def test_local_pool_is_bit_identical_to_serial() -> None:
    payload = ma_payload()
    serial = run_sweep(payload, SPACE, executor=SerialExecutor())
    pooled = run_sweep(payload, SPACE, executor=LocalPoolExecutor(workers=2))
    assert [o.key for o in pooled.outcomes] == [o.key for o in serial.outcomes]
    assert all(a.identical_to(b) for a, b in zip(serial.outcomes, pooled.outcomes, strict=True))


def test_key_depends_on_parameters_data_and_settings_not_spelling() -> None:
    payload = ma_payload()
    assert trial_key(payload, {"fast": 5}) == trial_key(payload, {"fast": 5.0})
    assert trial_key(payload, {"fast": 5}) != trial_key(payload, {"fast": 6})
    assert trial_key(payload, {"fast": 5}) != trial_key(ma_payload(n=2_000), {"fast": 5})


def test_unknown_parameter_fails_before_any_run() -> None:
    with pytest.raises(ConfigError, match="Did you mean 'fast'"):
        run_sweep(ma_payload(), ParamSpace.parse(["fats=1:3"]))


def test_empty_space_after_constraints_is_an_error() -> None:
    with pytest.raises(ConfigError, match="No parameter set"):
        run_sweep(
            ma_payload(), ParamSpace.parse(["fast=30:40:10", "slow=10:20:10"], ["fast < slow"])
        )


def test_strategy_error_names_the_parameters() -> None:
    source = load_strategy(
        "PARAMETERS = {'d': 1}\n\ndef handle_data(context, data):\n    1 / context.params.d\n"
    )
    payload = SweepPayload(source, ma_payload().market, ma_payload().settings)
    with pytest.raises(StrategyError, match=r"parameters: d=0") as error:
        run_sweep(payload, ParamSpace.parse(["d=0,1"]), executor=LocalPoolExecutor(workers=2))
    assert error.value.line == 4


def test_a_worker_that_dies_is_replaced_and_its_trial_run_again(tmp_path: Path) -> None:
    marker = repr(str(tmp_path / "died-once"))
    source = load_strategy(
        "import multiprocessing, os\n"
        "PARAMETERS = {'fast': 10, 'slow': 20}\n"
        "def initialize(context):\n"
        f"    if multiprocessing.parent_process() is not None and not os.path.exists({marker}):\n"
        f"        open({marker}, 'w').close()\n"
        "        os._exit(1)  # the worker process dies mid-sweep, once\n"
        "def handle_data(context, data):\n"
        "    pass\n"
    )
    base = ma_payload(n=500)
    payload = SweepPayload(source, base.market, base.settings)
    # workers only: the calling process would otherwise finish these short runs before the
    # workers are up
    result = run_sweep(payload, SPACE, executor=LocalPoolExecutor(workers=2, use_caller=False))
    assert (tmp_path / "died-once").exists()
    assert len(result.outcomes) == 9


def test_spawned_workers_only_give_the_same_results() -> None:
    payload = ma_payload()
    caller = run_sweep(payload, SPACE, executor=LocalPoolExecutor(workers=2))
    spawned = run_sweep(payload, SPACE, executor=LocalPoolExecutor(workers=2, use_caller=False))
    assert all(a.identical_to(b) for a, b in zip(caller.outcomes, spawned.outcomes, strict=True))
