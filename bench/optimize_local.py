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
  task sends back);
- the same two sweeps end to end on stored data, as ``backtestr optimize`` runs them
  (``run_stored_sweep``: read every timeframe from the store, hash it, save the results in
  the catalog as they complete, a batch at most every second — a write per result, ~50 ms of
  CPU each, held the calling process's main thread ~200 ms a time in the pool, behind the
  GIL of the trial its other thread runs): the serial executor against the local pool, each
  on its own
  copy of one data home (a sweep on a home that already holds its results would reuse them).
  There the pool's worker processes start while the data is read, as they do for a user; the
  re-run of the best set afterwards is left out (``save_best=False``): it is one run in this
  process after the sweep, the same on both sides, and no part of the sweep's throughput.

The header says whether the installed packages are compiled to bytecode. When they are not (an
environment synced without ``--compile-bytecode`` and run with ``PYTHONDONTWRITEBYTECODE``),
every worker compiles numpy, pandas and numba from source, seconds that an installed BackTestr
(pip compiles on install; Python caches on first import) does not pay; ``./dev`` compiles.

The first ratio is the strict one: its timed region starts when the sweep is asked for with
the data already in memory, so the pool's whole start-up (spawn, imports, numba cache) is in
it, hidden only behind the trials this process runs meanwhile.

Usage: ``./dev bench optimize_local [--bars 200000] [--workers 2] [--fast 5:50:5]
[--slow 60:150:10] [--no-stored]``.
"""

from __future__ import annotations

import argparse
import math
import os
import pickle
import shutil
import statistics
import tempfile
import threading
import time
from collections.abc import Sequence
from pathlib import Path

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


def write_home(folder: Path, bars: int) -> Path:
    """A data home holding the synthetic M1 bars, imported from a CSV as a user's would be."""
    # imported here: the pool's spawned workers re-import this module when they start
    import pyarrow as pa
    import pyarrow.csv as pacsv

    from backtestr.data.store import Store

    data = make_bars(bars)
    columns = {name: getattr(data, name) for name in ("open", "high", "low", "close", "volume")}
    table = pa.table({"timestamp": pa.array(data.ts_ns.astype("datetime64[ns]")), **columns})
    pacsv.write_csv(table, folder / "EURUSD_M1.csv")
    home = folder / "home"
    with Store.open(home) as store:
        store.import_file(folder / "EURUSD_M1.csv", symbol="EURUSD", tz="UTC")
    return home


def timed_stored_sweep(home: Path, space: ParamSpace, executor: Executor) -> float:
    """Wall time of ``backtestr optimize``'s sweep on ``home`` (data read included)."""
    from backtestr.optimize.api import run_stored_sweep

    start = time.perf_counter()
    run_stored_sweep(
        load_strategy(MOVING_AVERAGE_CROSS), space, EngineSettings(cash=100_000.0), home=home,
        symbols=["EURUSD"], objective="total_return_pct", executor=executor, save_best=False,
    )  # fmt: skip
    wall = time.perf_counter() - start
    _join_retiring_pools()
    return wall


def _join_retiring_pools() -> None:
    for thread in threading.enumerate():  # the workers exit in the background: wait for them
        if thread.name == "backtestr-pool-retire":
            thread.join()


def stored_comparison(bars: int, space: ParamSpace, workers: int) -> None:
    with tempfile.TemporaryDirectory(prefix="bench-optimize-") as folder:
        started = time.perf_counter()
        home = write_home(Path(folder), bars)
        twin = Path(folder) / "home-pool"
        shutil.copytree(home, twin)
        print(f"stored data home written in {time.perf_counter() - started:.1f} s")
        serial = timed_stored_sweep(home, space, SerialExecutor())
        print(f"stored, serial    : {serial:7.1f} s (data read from the store included)")
        pooled = timed_stored_sweep(twin, space, LocalPoolExecutor(workers=workers))
        print(f"stored, local pool: {pooled:7.1f} s (workers start while the data is read)")
        print(f"end-to-end ratio pool/serial on stored data: {serial / pooled:.2f}x")


def packages_compiled() -> bool:
    """Whether a new process reads numpy's, pandas's and numba's bytecode rather than compiling
    their sources (what a worker process's start-up mostly is)."""
    import importlib.util

    import numba
    import pandas

    return all(
        os.path.exists(importlib.util.cache_from_source(module.__file__ or ""))
        for module in (numba, pandas)
    )


def _children_cpu() -> float:
    times = os.times()
    return times.children_user + times.children_system


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--bars", type=int, default=200_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--fast", default="5:50:5")
    parser.add_argument("--slow", default="60:150:10")
    parser.add_argument(
        "--no-stored", action="store_true", help="skip the end-to-end sweeps on stored data"
    )
    args = parser.parse_args()
    payload = payload_for(args.bars)
    space = ParamSpace.parse([f"fast={args.fast}", f"slow={args.slow}"])
    tasks = sum(1 for _ in space.grid())
    run_trial(payload_for(500), {"fast": 5, "slow": 20})  # compile/load kernels outside timings
    payload_mb = len(pickle.dumps(payload, protocol=pickle.HIGHEST_PROTOCOL)) / 1e6
    print(f"{tasks} runs on {args.bars:,} M1 bars; payload {payload_mb:.1f} MB pickled")
    # the machine is shared: the load says how much of the ratio is contention
    compiled = "yes" if packages_compiled() else "NO: every worker compiles them from source"
    print(f"installed packages compiled to bytecode: {compiled}")
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
    _join_retiring_pools()  # the workers exit in the background: count them
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
    if not args.no_stored:
        stored_comparison(args.bars, space, args.workers)
    print("load average after: {:.1f} {:.1f} {:.1f}".format(*os.getloadavg()))


if __name__ == "__main__":
    main()
