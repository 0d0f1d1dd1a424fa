import math

import pytest

from backtestr.errors import ConfigError
from backtestr.optimize import (
    LocalPoolExecutor,
    ParamSpace,
    SerialExecutor,
    TrialOutcome,
    run_sweep,
)
from backtestr.optimize.executors import Executor, ExecutorSession, Task
from backtestr.optimize.trial import SweepPayload, run_trial
from tests.optimize.optimize_builders import ma_payload

SPACE = ParamSpace.parse(["fast=2:20:2", "slow=10:60:5"], ["fast < slow - 5"])


def _params(result_outcomes: list[TrialOutcome]) -> list[tuple[object, ...]]:
    return [tuple(o.params.values()) for o in result_outcomes]


def test_bayes_is_reproducible_with_a_seed_and_respects_constraints() -> None:
    payload = ma_payload(n=1_500, objective="total_return_pct")
    first = run_sweep(payload, SPACE, method="bayes", trials=14, seed=3)
    again = run_sweep(payload, SPACE, method="bayes", trials=14, seed=3)
    assert _params(list(first.outcomes)) == _params(list(again.outcomes))
    assert len(first.outcomes) == 14
    assert len({o.key for o in first.outcomes}) == 14  # no set run twice
    assert all(SPACE.allows(o.params) for o in first.outcomes)
    other = run_sweep(payload, SPACE, method="bayes", trials=14, seed=4)
    assert _params(list(other.outcomes)) != _params(list(first.outcomes))


class _ReversedSerial(Executor):
    """Completes every batch in reverse order: the search must not depend on it."""

    def __init__(self, slots: int) -> None:
        self._slots = slots

    @property
    def slots(self) -> int:
        return self._slots

    def open(self, payload: SweepPayload) -> ExecutorSession:
        return _Reversed(payload)


class _Reversed(ExecutorSession):
    def __init__(self, payload: SweepPayload) -> None:
        self.payload = payload

    def run(self, tasks: "list[Task]") -> "list[TrialOutcome]":  # type: ignore[override]
        return [run_trial(self.payload, params, key) for key, params in reversed(tasks)]

    def close(self) -> None:
        pass


def test_completion_order_does_not_change_the_search() -> None:
    payload = ma_payload(n=1_500, objective="total_return_pct")
    pooled = run_sweep(
        payload, SPACE, method="bayes", trials=12, seed=5, executor=LocalPoolExecutor(workers=2)
    )
    reversed_order = run_sweep(
        payload, SPACE, method="bayes", trials=12, seed=5, executor=_ReversedSerial(2)
    )
    assert _params(list(pooled.outcomes)) == _params(list(reversed_order.outcomes))
    assert all(
        a.identical_to(b) for a, b in zip(pooled.outcomes, reversed_order.outcomes, strict=True)
    )


def test_resumed_search_replays_done_trials_without_running_them() -> None:
    payload = ma_payload(n=1_500, objective="total_return_pct")
    full = run_sweep(payload, SPACE, method="bayes", trials=12, seed=1)
    done = {o.key: o for o in list(full.outcomes)[:7]}
    ran: list[TrialOutcome] = []
    resumed = run_sweep(
        payload, SPACE, method="bayes", trials=12, seed=1, done=done, on_result=ran.append
    )
    assert resumed.skipped == 7
    assert len(ran) == 5
    assert not {o.key for o in ran} & set(done)
    assert _params(list(resumed.outcomes)) == _params(list(full.outcomes))


def test_small_space_is_exhausted_not_looped_forever() -> None:
    space = ParamSpace.parse(["fast=5,10", "slow=30,40"], ["fast < slow"])
    result = run_sweep(
        ma_payload(n=1_500, objective="total_return_pct"), space, method="bayes", trials=50, seed=0
    )
    assert sorted(_params(list(result.outcomes))) == [(5, 30), (5, 40), (10, 30), (10, 40)]


def test_bayes_finds_a_good_set() -> None:
    payload = ma_payload(n=1_500, objective="total_return_pct")
    space = ParamSpace.parse(["fast=2:20:2", "slow=25:60:5"])
    grid = run_sweep(payload, space)
    bayes = run_sweep(payload, space, method="bayes", trials=25, seed=0)
    values = sorted(o.objective for o in grid.outcomes if not math.isnan(o.objective))
    # better than the grid's median: the search is guided, not a coin toss
    assert bayes.best.objective >= values[len(values) // 2]


def test_bayes_needs_a_trial_count() -> None:
    with pytest.raises(ConfigError, match="needs --trials"):
        run_sweep(ma_payload(n=500), SPACE, method="bayes")


def test_serial_and_pool_agree_for_one_slot_batches() -> None:
    payload = ma_payload(n=1_500, objective="total_return_pct")
    serial = run_sweep(payload, SPACE, method="bayes", trials=6, seed=2, executor=SerialExecutor())
    assert len(serial.outcomes) == 6
