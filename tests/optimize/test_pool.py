"""The local process pool started ahead of its payload (LocalPoolExecutor.start)."""

from __future__ import annotations

import multiprocessing
import time

from backtestr.optimize import LocalPoolExecutor, ParamSpace, SerialExecutor, run_sweep
from tests.optimize.optimize_builders import ma_payload

SPACE = ParamSpace.parse(["fast=5:15:5", "slow=20:40:10"], ["fast < slow"])


def _children_gone(before: set[int], patience_s: float = 30.0) -> bool:
    """Whether the child processes started since ``before`` have all ended (a terminated
    process takes a moment to be reaped, so this waits; it measures nothing)."""
    deadline = time.monotonic() + patience_s
    while time.monotonic() < deadline:
        if not {p.pid for p in multiprocessing.active_children()} - before:
            return True
        time.sleep(0.05)
    return False


def test_pool_started_before_the_payload_gives_the_serial_results() -> None:
    payload = ma_payload()
    serial = run_sweep(payload, SPACE, executor=SerialExecutor())
    executor = LocalPoolExecutor(workers=2, use_caller=False)
    executor.start()  # as a sweep on stored data does before reading the data
    pooled = run_sweep(payload, SPACE, executor=executor)
    executor.close()
    assert all(a.identical_to(b) for a, b in zip(serial.outcomes, pooled.outcomes, strict=True))


def test_one_executor_runs_sweep_after_sweep_each_on_its_own_data() -> None:
    small, large = ma_payload(n=1_500), ma_payload(n=3_000)
    executor = LocalPoolExecutor(workers=2, use_caller=False)
    for payload in (small, large):
        with executor:
            pooled = run_sweep(payload, SPACE, executor=executor)
        serial = run_sweep(payload, SPACE, executor=SerialExecutor())
        assert all(a.identical_to(b) for a, b in zip(serial.outcomes, pooled.outcomes, strict=True))


def test_started_pool_never_opened_stops_its_workers_on_close() -> None:
    before = {p.pid for p in multiprocessing.active_children()}
    executor = LocalPoolExecutor(workers=3)
    executor.start()
    started = {p.pid for p in multiprocessing.active_children()} - before
    assert len(started) == 2  # the calling process is the third worker
    executor.close()
    executor.close()  # idempotent
    assert _children_gone(before)


def test_single_worker_pool_starts_no_process() -> None:
    before = {p.pid for p in multiprocessing.active_children()}
    with LocalPoolExecutor(workers=1) as executor:
        assert not {p.pid for p in multiprocessing.active_children()} - before
        result = run_sweep(ma_payload(n=500), SPACE, executor=executor)
    assert len(result.outcomes) == len(list(SPACE.grid()))
