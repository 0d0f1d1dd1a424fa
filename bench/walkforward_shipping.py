"""Walk-forward on a local process pool: the data shipped once for all windows (one session,
each window's trials cut in the worker) against a pool started per window with that window's
data (what a plain loop of sweeps over cut payloads does). Same trials, measured in one run.

Usage: ``./dev bench walkforward_shipping [--months 24] [--workers 2]``. Prints seconds and the
ratio; results are checked to be identical.
"""

from __future__ import annotations

import argparse
import dataclasses
import time

import numpy as np
import pandas as pd

from backtestr.bars import aggregate_bars
from backtestr.engine import EngineSettings, MarketData, SymbolFeed, slice_market
from backtestr.model import BarArrays, Timeframe, fx_instrument
from backtestr.optimize import (
    LocalPoolExecutor,
    ParamSpace,
    SweepPayload,
    WalkForwardSpec,
    freeze_market,
    run_sweep,
    run_walk_forward,
)
from backtestr.strategy.loader import load_strategy
from backtestr.strategy.samples import MOVING_AVERAGE_CROSS


def payload(months: int) -> SweepPayload:
    start = pd.Timestamp("2022-01-01", tz="UTC")
    n = int((start + pd.DateOffset(months=months) - start) / pd.Timedelta(hours=1))
    rng = np.random.default_rng(5)
    close = 1.1 + 0.004 * np.sin(np.arange(n) / 90) + np.cumsum(rng.normal(0, 0.0004, n))
    opens = np.r_[close[0], close[:-1]]
    ts = int(start.value) + np.arange(n, dtype=np.int64) * 3_600 * 10**9
    bars = BarArrays.from_ohlc(
        ts, opens, np.maximum(opens, close), np.minimum(opens, close), close, np.ones(n)
    )

    def coarser(symbol: str, timeframe: Timeframe) -> BarArrays:
        return aggregate_bars(bars, "H1", timeframe)

    market = MarketData(
        Timeframe.parse("H1"), {"EURUSD": SymbolFeed(fx_instrument("EURUSD"), bars)}, coarser
    )
    return SweepPayload(
        load_strategy(MOVING_AVERAGE_CROSS),
        freeze_market(market),
        EngineSettings(cash=10_000.0, leverage=30.0),
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--months", type=int, default=24)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    whole = payload(args.months)
    space = ParamSpace.parse(["fast=5:20:5", "slow=30:90:30"], ["fast < slow"])
    spec = WalkForwardSpec.parse("train=6M,test=1M")
    executor = LocalPoolExecutor(args.workers)

    begin = time.perf_counter()
    shared = run_walk_forward(whole, space, spec, executor=executor)
    shared_s = time.perf_counter() - begin

    begin = time.perf_counter()
    per_window = []
    for run in shared.runs:
        window = run.window
        cut = slice_market(whole.market, window.train_start_ns, window.train_end_ns)
        per_window.append(
            run_sweep(dataclasses.replace(whole, market=cut), space, executor=executor)
        )
    separate_s = time.perf_counter() - begin

    for run, sweep in zip(shared.runs, per_window, strict=True):
        pairs = zip(run.sweep.outcomes, sweep.outcomes, strict=True)
        assert all(a.identical_to(b) for a, b in pairs), "results differ"
    trials = sum(len(s.outcomes) for s in per_window)
    print(f"{len(shared.runs)} windows, {trials} trials, {args.workers} workers")
    print(
        f"one session, data shipped once : {shared_s:7.2f} s (incl. {len(shared.runs)} test runs)"
    )
    print(f"a pool per window, cut data    : {separate_s:7.2f} s (sweeps only)")
    print(f"ratio (per window / shared)    : {separate_s / shared_s:7.2f}x")


if __name__ == "__main__":
    main()
