"""The Dask executor against real ``dask scheduler`` / ``dask worker`` processes and a
LocalCluster: same outcomes as the serial executor bit for bit, data shipped once per worker,
no result lost when a worker dies mid-sweep, clear errors."""

from __future__ import annotations

import os
import signal
import socket
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest

from backtestr.errors import ConfigError, StrategyError
from backtestr.optimize import (
    ParamSpace,
    SerialExecutor,
    SweepPayload,
    TrialOutcome,
    run_sweep,
    run_walk_forward,
)
from backtestr.optimize import dask as dask_executor
from backtestr.optimize.dask import DaskExecutor
from backtestr.optimize.executors import ExecutorError
from backtestr.strategy.loader import load_strategy
from tests.optimize.dask_cluster import RealCluster, real_cluster, worker_pid
from tests.optimize.dask_payloads import CountingPayload, times_unpickled
from tests.optimize.optimize_builders import ma_payload
from tests.optimize.walkforward_builders import hourly_payload

pytestmark = pytest.mark.timeout(900)

SPACE = ParamSpace.parse(["fast=5:15:5", "slow=20:40:10"], ["fast < slow"])


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RealCluster]:
    with real_cluster(tmp_path_factory.mktemp("dask"), workers=2) as running:
        yield running


def identical(a: Sequence[TrialOutcome], b: Sequence[TrialOutcome]) -> bool:
    return all(x.identical_to(y) for x, y in zip(a, b, strict=True))


def test_cluster_sweep_is_bit_identical_to_serial(cluster: RealCluster) -> None:
    payload = ma_payload()
    serial = run_sweep(payload, SPACE, executor=SerialExecutor())
    remote = run_sweep(payload, SPACE, executor=DaskExecutor(cluster=cluster.address))
    assert [o.key for o in remote.outcomes] == [o.key for o in serial.outcomes]
    assert identical(remote.outcomes, serial.outcomes)


def test_payload_is_unpickled_once_per_worker_not_per_task(cluster: RealCluster) -> None:
    payload = CountingPayload.of(ma_payload(n=1_000))
    space = ParamSpace.parse(["fast=2:12:1", "slow=20:40:10"])  # 33 tasks on 2 workers
    with cluster.client() as client:
        before: dict[str, int] = client.run(times_unpickled)
        result = run_sweep(payload, space, executor=DaskExecutor(cluster=cluster.address))
        after: dict[str, int] = client.run(times_unpickled)
    assert len(result.outcomes) == 33
    assert set(after) == set(before)
    assert {worker: after[worker] - before[worker] for worker in after} == dict.fromkeys(after, 1)


def test_strategy_error_cancels_the_rest_and_keeps_the_users_line(cluster: RealCluster) -> None:
    source = load_strategy(
        "PARAMETERS = {'d': 1}\n\ndef handle_data(context, data):\n    1 / context.params.d\n"
    )
    payload = SweepPayload(source, ma_payload().market, ma_payload().settings)
    seen: list[TrialOutcome] = []
    with pytest.raises(StrategyError, match=r"parameters: d=0") as error:
        run_sweep(
            payload,
            ParamSpace.parse(["d=0,1,2,3,4,5"]),
            executor=DaskExecutor(cluster=cluster.address),
            on_result=seen.append,
        )
    assert error.value.line == 4
    assert len(seen) < 6


# long enough trials that a worker can be killed while the sweep is running
LONG_PAYLOAD = ma_payload(n=40_000)
LONG_SPACE = ParamSpace.parse(["fast=4:9:1", "slow=30:40:10"])  # 12 trials


@pytest.fixture(scope="module")
def long_serial() -> list[TrialOutcome]:
    return list(run_sweep(LONG_PAYLOAD, LONG_SPACE, executor=SerialExecutor()).outcomes)


def test_worker_killed_mid_sweep_loses_nothing(
    tmp_path: Path, long_serial: list[TrialOutcome]
) -> None:
    payload, space = LONG_PAYLOAD, LONG_SPACE
    with real_cluster(tmp_path, workers=2) as running, running.client() as client:
        victim = worker_pid(client, sorted(client.nthreads())[0])
        saved: list[TrialOutcome] = []
        saved_before_kill: list[TrialOutcome] = []

        def save(outcome: TrialOutcome) -> None:
            saved.append(outcome)
            if len(saved) == 2:  # mid-sweep: the victim is busy with a trial of its own
                saved_before_kill.extend(saved)
                os.kill(victim, signal.SIGKILL)

        result = run_sweep(
            payload, space, executor=DaskExecutor(cluster=running.address), on_result=save
        )
        survivors = client.nthreads()
    assert [w.poll() is not None for w in running.workers if w.pid == victim] == [True]
    assert len(survivors) == 1
    assert len(saved) == 12
    assert {o.key for o in saved_before_kill} <= {o.key for o in result.outcomes}
    assert identical(result.outcomes, long_serial)


def test_local_cluster_is_bit_identical_to_serial() -> None:
    payload = ma_payload()
    executor = DaskExecutor(workers=2)
    assert executor.slots == 2
    local = run_sweep(payload, SPACE, executor=executor)
    serial = run_sweep(payload, SPACE, executor=SerialExecutor())
    assert identical(local.outcomes, serial.outcomes)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_unreachable_scheduler_is_a_clear_error() -> None:
    address = f"tcp://127.0.0.1:{free_port()}"
    with pytest.raises(ExecutorError, match=rf"{address}.*dask scheduler"):
        run_sweep(ma_payload(), SPACE, executor=DaskExecutor(cluster=address))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"workers": 0}, "at least 1"),
        ({"cluster": " "}, "tcp://HOST:8786"),
        ({"retries": -1}, "0 or more"),
    ],
)
def test_bad_settings_are_config_errors(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        DaskExecutor(**kwargs)  # type: ignore[arg-type]


def test_malformed_address_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="nonsense"):
        run_sweep(ma_payload(), SPACE, executor=DaskExecutor(cluster="nonsense://x:1"))


def test_data_lost_with_every_worker_is_sent_again_to_new_workers(
    tmp_path: Path, long_serial: list[TrialOutcome], monkeypatch: pytest.MonkeyPatch
) -> None:
    payload, space = LONG_PAYLOAD, LONG_SPACE
    # the replacement worker must start meanwhile: slow on a busy test machine
    monkeypatch.setattr(dask_executor, "WORKERS_TIMEOUT_S", 180.0)
    with real_cluster(tmp_path, workers=1) as running:
        only = running.workers[0]
        saved: list[TrialOutcome] = []

        def save(outcome: TrialOutcome) -> None:
            saved.append(outcome)
            if len(saved) == 2:  # the only copy of the data dies with its worker
                only.kill()
                running.add_worker()

        result = run_sweep(
            payload, space, executor=DaskExecutor(cluster=running.address), on_result=save
        )
    assert only.poll() is not None
    assert len(saved) == 12
    assert identical(result.outcomes, long_serial)


def test_slots_are_the_clusters_threads_once_open(cluster: RealCluster) -> None:
    executor = DaskExecutor(cluster=cluster.address)
    assert executor.slots == 1  # unknown before connecting: at least one
    with executor.open(ma_payload(n=500)):
        assert executor.slots == 2


def test_waiting_for_more_workers_than_join_is_a_clear_error(
    cluster: RealCluster, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(dask_executor, "WORKERS_TIMEOUT_S", 1.0)  # not the default 30 s
    with pytest.raises(ExecutorError, match=r"has 2 worker\(s\), 3 needed.*dask worker"):
        DaskExecutor(cluster=cluster.address, workers=3).open(ma_payload(n=500))


def test_walk_forward_ships_the_data_once_for_every_window(cluster: RealCluster) -> None:
    serial = run_walk_forward(hourly_payload(15), SPACE, "train=6M,test=3M")
    payload = CountingPayload.of(hourly_payload(15))
    with cluster.client() as client:
        before: dict[str, int] = client.run(times_unpickled)
        remote = run_walk_forward(
            payload, SPACE, "train=6M,test=3M", executor=DaskExecutor(cluster=cluster.address)
        )
        after: dict[str, int] = client.run(times_unpickled)
    windows = len(remote.runs)
    assert windows == len(serial.runs) >= 3
    received = {worker: after[worker] - before[worker] for worker in after}
    # Scattered once from here. Between two windows no trial waits on a worker, and Dask's
    # active memory manager may then drop that worker's copy (it keeps one replica of idle
    # data); the next window's trial there copies it back from a peer. So: at least once per
    # worker, at most once per window — never once per trial.
    trials = sum(len(run.sweep.outcomes) for run in remote.runs)
    assert all(1 <= count <= windows for count in received.values()), received
    assert sum(received.values()) < trials
    for a, b in zip(serial.runs, remote.runs, strict=True):
        assert identical(a.sweep.outcomes, b.sweep.outcomes)
    assert remote.equity.equals(serial.equity)
