"""Sweep throughput: the local process pool against the same runs one after another in one
process, measured in the same run (issue 6, section 4).

A grid of the moving-average cross (``fast`` × ``slow``, 100 sets by default) on synthetic M1
bars (200 000 by default, the random walk of ``engine_bars``). Printed:

- throughput ratio: serial wall time / pool wall time (target ≥ 1.8x with 2 workers);
- per-task overhead as a share of a run (target < 5 %): once every worker is up, the workers'
  time not spent inside ``run_trial`` (scheduling, shipping
  parameters and outcomes), per task, divided by the mean run time. Worker start-up (spawn,
  imports, receiving the payload, loading the numba cache) is measured and reported on its own:
  it is paid once per sweep, not per task, and the pool runs trials in this process meanwhile;
- the CPU each side obtained: on a shared machine a pool that gets less than its cores cannot
  reach the ratio, whatever its overhead;
- the payload's pickled size (what each worker receives once) and an outcome's size (what each
  task sends back).

Usage: ``./dev bench optimize_local [--bars 200000] [--workers 2] [--fast 5:50:5]
[--slow 60:150:10]``.
"""

from __future__ import annotations

import argparse
import math
import os
import pickle
import statistics
import threading
import time
from collections.abc import Sequence

from _synthetic import make_bars
from backtestr.engine import EngineSettings, MarketData, SymbolFeed
from backtestr.model import Timeframe, fx_instrument
from backtestr.optimize import (
    Executor,
    LocalPoolExecutor,
    ParamSpace,
    SerialExecutor,
    SweepPayload,
    TrialOutcome,
    run_sweep,
    run_trial,
)
from backtestr.strategy.loader import load_strategy
from backtestr.strategy.samples import MOVING_AVERAGE_CROSS


def payload_for(bars: int) -> SweepPayload:
    market = MarketData(
        Timeframe.parse("M1"), {"EURUSD": SymbolFeed(fx_instrument("EURUSD"), make_bars(bars))}
    )
    return SweepPayload(
        load_strategy(MOVING_AVERAGE_CROSS),
        market,
        EngineSettings(cash=100_000.0),
        objective="total_return_pct",
    )


def timed_sweep(
    payload: SweepPayload, space: ParamSpace, executor: Executor
) -> tuple[float, list[tuple[float, TrialOutcome]]]:
    """Wall time of the sweep and each outcome with its arrival time (from the start)."""
    arrivals: list[tuple[float, TrialOutcome]] = []
    start = time.perf_counter()
    run_sweep(
        payload,
        space,
        executor=executor,
        on_result=lambda o: arrivals.append((time.perf_counter() - start, o)),
    )
    return time.perf_counter() - start, arrivals


def worker_startup_seconds() -> float:
    """Start-up of one spawned worker process (spawn, imports, payload, numba cache): a fresh
    one-process pool runs one tiny trial; its run time is subtracted."""
    start = time.perf_counter()
    with LocalPoolExecutor(workers=1, use_caller=False).open(payload_for(500)) as session:
        (outcome,) = session.run([("tiny", {"fast": 5, "slow": 20})])
    return time.perf_counter() - start - outcome.run_seconds


def overhead_share(
    arrivals: Sequence[tuple[float, TrialOutcome]], workers: int, steady_from: float
) -> float:
    """Per-task overhead as a share of the mean run: from ``steady_from`` (every worker up),
    the workers' time not spent inside run_trial, per task completed in that window (the idle
    tail of the last round is not counted: a worker with nothing left to do is no task's
    overhead)."""
    steady = sorted((a for a in arrivals if a[0] >= steady_from), key=lambda item: item[0])
    if len(steady) < 2:  # the sweep was over before the workers were up
        return math.nan
    finish = [at for at, _ in steady]
    tail_idle = sum(finish[-1] - at for at in finish[-workers:-1]) if workers > 1 else 0.0
    busy = (finish[-1] - steady_from) * workers - tail_idle
    runs = [o.run_seconds for _, o in steady]
    # the first task of each worker in the window started before it: count only its part
    started_before = sum(max(0.0, steady_from - (at - o.run_seconds)) for at, o in steady)
    return max(0.0, busy - sum(runs) + started_before) / len(runs) / statistics.fmean(runs)


def _children_cpu() -> float:
    times = os.times()
    return times.children_user + times.children_system


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--bars", type=int, default=200_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--fast", default="5:50:5")
    parser.add_argument("--slow", default="60:150:10")
    args = parser.parse_args()
    payload = payload_for(args.bars)
    space = ParamSpace.parse([f"fast={args.fast}", f"slow={args.slow}"])
    tasks = sum(1 for _ in space.grid())
    run_trial(payload_for(500), {"fast": 5, "slow": 20})  # compile/load kernels outside timings
    payload_mb = len(pickle.dumps(payload, protocol=pickle.HIGHEST_PROTOCOL)) / 1e6
    print(f"{tasks} runs on {args.bars:,} M1 bars; payload {payload_mb:.1f} MB pickled")
    # the machine is shared: the load says how much of the ratio is contention
    print("load average before: {:.1f} {:.1f} {:.1f}".format(*os.getloadavg()))

    cpu_before = time.process_time()
    serial_wall, serial = timed_sweep(payload, space, SerialExecutor())
    serial_cpu = time.process_time() - cpu_before
    serial_runs = sum(o.run_seconds for _, o in serial)
    print(
        f"serial      : {serial_wall:7.1f} s  ({tasks / serial_wall:.2f} runs/s, "
        f"mean run {serial_runs / tasks:.2f} s)"
    )
    children_before, own_before = _children_cpu(), time.process_time()
    pool_wall, pooled = timed_sweep(payload, space, LocalPoolExecutor(workers=args.workers))
    for thread in threading.enumerate():  # the workers exit in the background: count them
        if thread.name == "backtestr-pool-retire":
            thread.join()
    # this process runs trials too; the spawned workers have exited: their CPU time is known
    pool_cpu = _children_cpu() - children_before + time.process_time() - own_before
    outcome_kb = len(pickle.dumps(pooled[0][1], protocol=pickle.HIGHEST_PROTOCOL)) / 1e3
    startup = worker_startup_seconds()
    share = overhead_share(
        pooled, args.workers, startup + statistics.fmean(o.run_seconds for _, o in pooled)
    )
    pool_mean = statistics.fmean(o.run_seconds for _, o in pooled)
    print(
        f"local pool  : {pool_wall:7.1f} s  ({tasks / pool_wall:.2f} runs/s, "
        f"{args.workers} workers, mean run {pool_mean:.2f} s)"
    )
    ratio = serial_wall / pool_wall
    print(f"throughput ratio pool/serial: {ratio:.2f}x (target >= 1.8x)")
    print(
        f"per-task overhead: {share * 100:.2f} % of a run (target < 5 %); outcome {outcome_kb:.1f}"
        f" kB; worker process start-up (once per sweep) {startup:.2f} s = "
        f"{startup / pool_mean:.2f} runs"
    )
    slowdown = pool_mean / (serial_runs / tasks)
    print(f"a run in a worker takes {slowdown:.2f}x the wall time of a run in the serial process")
    # what the processes got of the CPU: below 1 core per process, others were using the machine
    print(
        f"CPU obtained: serial {serial_cpu / serial_wall:.2f} of 1 core; pool "
        f"{pool_cpu / pool_wall:.2f} of {args.workers} cores (CPU time serial {serial_cpu:.1f} s,"
        f" workers {pool_cpu:.1f} s incl. start-up)"
    )
    # the ratio the same CPU work gives when each process has a core to itself
    print(
        f"CPU-bound ratio (pool with {args.workers} free cores): "
        f"{serial_cpu / (pool_cpu / args.workers):.2f}x"
    )
    print("load average after: {:.1f} {:.1f} {:.1f}".format(*os.getloadavg()))


if __name__ == "__main__":
    main()
