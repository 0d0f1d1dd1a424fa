"""SweepRecorder: outcomes saved in the catalog in batches, each within its window."""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path

import pytest

from backtestr.data.store import Store
from backtestr.optimize import TrialOutcome, run_trial
from backtestr.optimize.records import SweepRecorder
from tests.optimize.optimize_builders import ma_payload


class FakeClock:
    def __init__(self) -> None:
        self.now_s = 0.0

    def __call__(self) -> float:
        return self.now_s


@pytest.fixture(scope="module")
def outcomes() -> list[TrialOutcome]:
    outcome = run_trial(ma_payload(n=300), {"fast": 5, "slow": 10})
    return [dataclasses.replace(outcome, key=f"key-{i}") for i in range(5)]


@pytest.fixture
def home(tmp_path: Path) -> Path:
    with Store.open(tmp_path) as store:
        store.save_sweep("s", {})
    return tmp_path


def stored_keys(home: Path) -> list[str]:
    with Store.open(home) as store:
        _, records = store.load_sweep("s")
    return [r.key for r in records]


def test_outcomes_within_the_window_of_a_write_wait_for_the_next_one(
    home: Path, outcomes: list[TrialOutcome]
) -> None:
    clock = FakeClock()
    # a window no timer reaches during the test: the fake clock alone decides
    recorder = SweepRecorder(home, "s", window_s=3_600.0, clock=clock)
    recorder(outcomes[0])  # nothing written yet: written at once
    assert (recorder.saved, recorder.waiting, recorder.writes) == (1, 0, 1)
    clock.now_s = 1_000.0
    recorder(outcomes[1])
    recorder(outcomes[2])
    assert (recorder.saved, recorder.waiting) == (1, 2)
    assert stored_keys(home) == ["key-0"]
    clock.now_s = 3_600.0  # a window after the last write: everything waiting goes, in order
    recorder(outcomes[3])
    assert (recorder.saved, recorder.waiting, recorder.writes) == (4, 0, 2)
    assert stored_keys(home) == ["key-0", "key-1", "key-2", "key-3"]
    recorder.close()
    assert recorder.writes == 2  # nothing left to write


def test_leaving_the_block_writes_what_waits_also_on_an_error(
    home: Path, outcomes: list[TrialOutcome]
) -> None:
    recorder = SweepRecorder(home, "s", window_s=3_600.0, clock=FakeClock())

    def interrupted_sweep() -> None:
        with recorder:
            for outcome in outcomes[:3]:
                recorder(outcome)
            assert recorder.waiting == 2
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        interrupted_sweep()
    assert (recorder.saved, recorder.waiting) == (3, 0)
    assert stored_keys(home) == ["key-0", "key-1", "key-2"]


def test_a_waiting_outcome_is_written_within_the_window_without_another_arriving(
    home: Path, outcomes: list[TrialOutcome]
) -> None:
    recorder = SweepRecorder(home, "s", window_s=0.05)
    recorder(outcomes[0])
    recorder(outcomes[1])
    deadline = time.monotonic() + 30.0  # generous: the timer writes after 0.05 s
    while recorder.saved < 2 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert (recorder.saved, recorder.waiting) == (2, 0)
    assert stored_keys(home) == ["key-0", "key-1"]


def test_outcomes_saved_twice_are_kept_once(home: Path, outcomes: list[TrialOutcome]) -> None:
    with SweepRecorder(home, "s") as recorder:
        recorder(outcomes[0])
        recorder(outcomes[0])
    assert stored_keys(home) == ["key-0"]
