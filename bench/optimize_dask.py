"""Dask executor speed: a 100-run grid on 200 000 M1 bars, serial vs a 2-worker LocalCluster.

The grid is the moving-average cross (``strategy.samples.MOVING_AVERAGE_CROSS``) over
``fast=5:50:5`` × ``slow=60:150:10`` (10 × 10 = 100 runs) on a synthetic EURUSD-like M1 random
walk with slow waves (weekdays only). Both executors run the same trials in this process's run:

- serial: one after another in this process (after one warm-up trial, so the kernels are
  compiled outside the timing);
- dask: ``DaskExecutor(workers=2)`` — a LocalCluster of 2 single-threaded worker processes. Its
  start-up (processes, payload scattered once, workers warmed) is reported on its own line; the
  sweep itself is timed from the first task submitted to the last result received.

Printed: throughput ratio (target ≥ 1.6x, issue 6 §4) and the per-task overhead share
(target < 5 %): 1 − (time spent inside the trials, from Dask's task stream) / (sweep wall time ×
workers), i.e. everything a worker slot spent not running a trial — scheduling, shipping
parameters and results, idle time at the end. The mean gap between two consecutive trials on a
worker is printed too, as a share of the mean trial.

The ratio needs a free core per worker. On a shared machine it is not: the bench therefore runs
serial and Dask in alternation (serial, Dask, Dask, serial: both see the same drifting load),
prints the share of a core each side actually got (CPU seconds / wall seconds), the CPU seconds
per run on each side (what Dask adds to a run), and — marked as derived — the ratio the same CPU
work would give with a free core per worker.

Usage: ``./dev bench optimize_dask [--bars 200000] [--workers 2]``.
"""

from __future__ import annotations

import argparse
import itertools
import time
from collections import defaultdict
from typing import Any

import numpy as np
import pandas as pd
from distributed import get_task_stream

from backtestr.engine import EngineSettings, MarketData, SymbolFeed
from backtestr.model import BarArrays, Timeframe, fx_instrument
from backtestr.optimize import ParamSpace, SerialExecutor, SweepPayload, run_trial, trial_key
from backtestr.optimize.dask import DaskExecutor, DaskSession
from backtestr.optimize.executors import Task
from backtestr.strategy.loader import load_strategy
from backtestr.strategy.samples import MOVING_AVERAGE_CROSS

GRID = ["fast=5:50:5", "slow=60:150:10"]


def sweep_bars(n: int, seed: int = 3) -> BarArrays:
    """An M1 random walk with slow waves (so the crosses trade and differ), weekdays only."""
    rng = np.random.default_rng(seed)
    steps = np.arange(n)
    close = 1.1 + 0.004 * np.sin(steps / 700) + np.cumsum(rng.normal(0, 0.00012, n))
    open_ = np.r_[close[0], close[:-1]]
    high = np.maximum(open_, close) + rng.exponential(0.00005, n)
    low = np.minimum(open_, close) - rng.exponential(0.00005, n)
    week, rest = np.divmod(steps.astype(np.int64), 5 * 1440)
    start = pd.Timestamp("2020-01-06", tz="UTC").value
    ts = start + (week * 7 * 1440 + rest) * 60 * 10**9
    return BarArrays.from_ohlc(ts, open_, high, low, close, np.ones(n))


def sweep_payload(n: int) -> SweepPayload:
    feed = SymbolFeed(fx_instrument("EURUSD"), sweep_bars(n))
    return SweepPayload(
        load_strategy(MOVING_AVERAGE_CROSS),
        MarketData(Timeframe.parse("M1"), {"EURUSD": feed}),
        EngineSettings(cash=100_000.0, leverage=30.0),
    )


def overheads(
    stream: list[dict[str, Any]], wall: float, workers: int
) -> tuple[float, float, float]:
    """(share of slot time not inside a trial, mean trial seconds, mean gap between trials)."""
    computes: dict[str, list[tuple[float, float]]] = defaultdict(list)
    for record in stream:
        for part in record["startstops"]:
            if part["action"] == "compute":
                computes[record["worker"]].append((part["start"], part["stop"]))
    spans = [stop - start for runs in computes.values() for start, stop in runs]
    gaps = []
    for runs in computes.values():
        runs.sort()
        gaps += [b[0] - a[1] for a, b in itertools.pairwise(runs)]
    share = 1.0 - sum(spans) / (wall * workers)
    return share, float(np.mean(spans)), float(np.mean(gaps)) if gaps else 0.0


def serial_round(payload: SweepPayload, tasks: list[Task]) -> tuple[float, float, list[Any]]:
    """(wall seconds, CPU seconds, outcomes) of ``tasks`` run one after another here."""
    wall, cpu = time.perf_counter(), time.process_time()
    with SerialExecutor().open(payload) as session:
        outcomes = list(session.run(tasks))
    return time.perf_counter() - wall, time.process_time() - cpu, outcomes


def dask_round(session: DaskSession, tasks: list[Task]) -> tuple[float, float, float, list[Any]]:
    """(wall seconds, CPU seconds of the worker processes, CPU seconds of this process — the
    client, and the scheduler of a local cluster —, outcomes) of ``tasks`` on Dask."""
    before: dict[str, float] = session.client.run(time.process_time)
    wall, here = time.perf_counter(), time.process_time()
    outcomes = list(session.run(tasks))
    wall, here = time.perf_counter() - wall, time.process_time() - here
    after: dict[str, float] = session.client.run(time.process_time)
    return wall, sum(after[w] - before[w] for w in after), here, outcomes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--bars", type=int, default=200_000)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    payload = sweep_payload(args.bars)
    space = ParamSpace.parse(GRID)
    data_hash = payload.data_hash
    tasks = [(trial_key(payload, p, data_hash), p) for p in space.grid()]
    halves = [tasks[: len(tasks) // 2], tasks[len(tasks) // 2 :]]
    print(f"{len(tasks)} runs of the MA cross on {args.bars:,} M1 bars, {args.workers} workers")
    run_trial(payload, dict(tasks[0][1]))  # compile the kernels outside the timing

    start = time.perf_counter()
    with DaskExecutor(workers=args.workers).open(payload) as session:
        startup = time.perf_counter() - start
        print(f"dask start-up {startup:6.1f} s (cluster, payload scattered once, workers warmed)")
        # serial, dask, dask, serial: both see the same (shared, drifting) machine load
        with get_task_stream(client=session.client) as stream:
            s1 = serial_round(payload, halves[0])
            d1 = dask_round(session, halves[0])
            d2 = dask_round(session, halves[1])
            s2 = serial_round(payload, halves[1])
        records = list(stream.data)
    serial_time, serial_cpu = s1[0] + s2[0], s1[1] + s2[1]
    dask_time, dask_cpu = d1[0] + d2[0], d1[1] + d2[1]
    serial = {o.key: o for o in s1[2] + s2[2]}
    outcomes = d1[3] + d2[3]
    driver_cpu = d1[2] + d2[2]
    same = len(outcomes) == len(serial) and all(o.identical_to(serial[o.key]) for o in outcomes)
    n = len(tasks)
    for name, wall, cpu in [("serial", serial_time, serial_cpu), ("dask", dask_time, dask_cpu)]:
        print(f"{name:7s} {wall:6.1f} s  {n / wall:5.2f} runs/s  {cpu / n:.3f} CPU s/run")
    print(f"outcomes identical to serial: {same}")
    ratio = serial_time / dask_time
    verdict = "OK" if ratio >= 1.6 else "BELOW TARGET"
    print(f"throughput ratio dask/serial: x{ratio:.2f} (target x1.6) {verdict}")
    print(f"  counting the start-up: x{serial_time / (dask_time + startup):.2f}")
    got = dask_cpu / (dask_time * args.workers)
    print(
        f"  the workers got {got:.0%} of a core each (serial: "
        f"{serial_cpu / serial_time:.0%}); below ~95% the machine was busy with other work"
    )
    print(f"  this process (client + local scheduler) used {driver_cpu / dask_time:.0%} of a core")
    share, trial, gap = overheads(records, dask_time, args.workers)
    # derived, not measured: what the same work would give with a free core per worker
    free = args.workers * (serial_cpu / dask_cpu) * (1 - share)
    print(f"  with a free core per worker (derived from the CPU seconds): about x{free:.2f}")
    verdict = "OK" if share < 0.05 else "ABOVE TARGET"
    print(
        f"per-task overhead: {share:.1%} of worker time outside the trials (target < 5%) "
        f"{verdict}; mean gap between trials {gap * 1000:.1f} ms = {gap / trial:.2%} of a run"
    )


if __name__ == "__main__":
    main()
