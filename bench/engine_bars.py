"""Engine speed on M1 bars against backtesting.py 0.6.6, measured in the same run.

Three comparisons (issue 3, section 6), each on the same bars:

1. overhead per bar: a strategy that does nothing (``handle_data`` / ``next`` empty);
2. the seed SMA(10)/SMA(20) strategy, unchanged, against backtesting.py's idiomatic SmaCross
   (``self.I(SMA, ...)`` + ``crossover``);
3. precomputed indicators (``self.I`` in both), read per bar; ours declares with
   ``wake_on(crosses(fast, slow))`` that ``handle_data`` can act only where the averages cross,
   so the engine skips the other bars without calling Python (same trades as calling it on
   every bar: tests/strategy/test_wake_on.py).

The synthetic random walk trades far more often than real M1 prices do (the SMA cross turns
about every 36 bars), which makes fills weigh more than they would in practice; so the seed and
the indicator strategies are also run on real FXCM GBPUSD M1 bid bars (one month, 30 117 bars,
repeated end to end to the same length, each copy rescaled to start at the previous close).
That case is skipped when the real data (``BACKTESTR_REAL_DATA`` or ``<repo>/../shared/data/real``)
is absent.

Times are CPU seconds of this process (``time.process_time``) by default: both engines run
single-threaded in this process, and on a machine shared with other jobs CPU time measures the
work done rather than how long the scheduler kept us waiting (wall-clock ratios swung by 2x from
run to run there). ``--wall`` times by the wall clock instead. Each side is run ``--repeat``
times, alternating ours and theirs, and the best time counts.

Usage: ``./dev bench engine_bars [--bars 1000000] [--repeat 3] [--wall] [--case TEXT]``.
Prints bars/s and
ratios.
"""

from __future__ import annotations

import argparse
import os
import time
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
from backtesting import Backtest as PeerBacktest
from backtesting import Strategy as PeerStrategy
from backtesting.lib import crossover
from backtesting.test import SMA

from _synthetic import make_bars
from backtestr.engine import EngineSettings, MarketData, SymbolFeed
from backtestr.model import BarArrays, Timeframe, fx_instrument
from backtestr.strategy import Backtest
from backtestr.strategy.samples import SEED_STRATEGY

SEED = SEED_STRATEGY

EMPTY = """\
def handle_data(context, data):
    pass
"""

INDICATORS = """\
import numpy as np

def sma(close, n):
    out = np.full(len(close), np.nan)
    c = np.cumsum(np.r_[0.0, close])
    out[n - 1:] = (c[n:] - c[:-n]) / n
    return out

def initialize(context):
    context.fast = indicator(sma, "close", n=10)
    context.slow = indicator(sma, "close", n=20)
    # handle_data acts only where the averages cross: skip the other bars without Python
    wake_on(crosses(context.fast, context.slow))

def handle_data(context, data):
    fast = context.fast[-1]
    slow = context.slow[-1]
    if fast > slow and not context.portfolio.positions[context.symbol]:
        order_target_percent(context.symbol, 1.0)
    elif fast < slow and context.portfolio.positions[context.symbol]:
        order_target_percent(context.symbol, 0.0)
"""


class PeerEmpty(PeerStrategy):  # type: ignore[misc]
    def init(self) -> None:
        pass

    def next(self) -> None:
        pass


class PeerSmaCross(PeerStrategy):  # type: ignore[misc]
    """backtesting.py's README example, long only like the seed strategy."""

    def init(self) -> None:
        self.fast = self.I(SMA, self.data.Close, 10)
        self.slow = self.I(SMA, self.data.Close, 20)

    def next(self) -> None:
        if crossover(self.fast, self.slow):
            self.buy()
        elif crossover(self.slow, self.fast):
            self.position.close()


class PeerIndicators(PeerStrategy):  # type: ignore[misc]
    """Precomputed SMAs read per bar, without ``crossover`` (same logic as ours)."""

    def init(self) -> None:
        self.fast = self.I(SMA, self.data.Close, 10)
        self.slow = self.I(SMA, self.data.Close, 20)

    def next(self) -> None:
        fast, slow = self.fast[-1], self.slow[-1]
        if fast > slow and not self.position:
            self.buy()
        elif fast < slow and self.position:
            self.position.close()


def real_data_dir() -> Path:
    env = os.environ.get("BACKTESTR_REAL_DATA")
    return (
        Path(env)
        if env
        else Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "real"
    )


def real_bars(n: int) -> BarArrays | None:
    """FXCM GBPUSD M1 bid bars repeated to ``n`` bars, on the same weekday clock as make_bars."""
    path = real_data_dir() / "nautilus_fx" / "fxcm_gbpusd-m1-bid-2012.csv"
    if not path.exists():
        return None
    month = pd.read_csv(path)[["open", "high", "low", "close"]].to_numpy(dtype=np.float64)
    copies = -(-n // len(month))
    # each copy is rescaled so that it opens where the previous one closed: no jumps
    scale = np.cumprod(np.r_[1.0, np.full(copies - 1, month[-1, 3] / month[0, 0])])
    ohlc = (month[None, :, :] * scale[:, None, None]).reshape(-1, 4)[:n]
    ts = make_bars(n).ts_ns
    return BarArrays.from_ohlc(ts, ohlc[:, 0], ohlc[:, 1], ohlc[:, 2], ohlc[:, 3], np.ones(n))


def peer_frame(bars: BarArrays) -> pd.DataFrame:
    index = pd.DatetimeIndex(pd.to_datetime(bars.ts_ns, utc=True)).tz_localize(None)
    return pd.DataFrame(
        {"Open": bars.open, "High": bars.high, "Low": bars.low, "Close": bars.close,
         "Volume": bars.volume},
        index=index,
    )  # fmt: skip


def timed(function: Callable[[], object], clock: Callable[[], float]) -> tuple[float, object]:
    start = clock()
    result = function()
    return clock() - start, result


def ours(source: str, bars: BarArrays) -> Callable[[], object]:
    data = MarketData(Timeframe.parse("M1"), {"EURUSD": SymbolFeed(fx_instrument("EURUSD"), bars)})
    return lambda: Backtest(source, data, EngineSettings(cash=100_000.0)).run()


def theirs(strategy: type, frame: pd.DataFrame) -> Callable[[], object]:
    def run() -> object:
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            return PeerBacktest(frame, strategy, cash=100_000.0, commission=0.0).run()

    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--bars", type=int, default=1_000_000)
    # best of 3: a process's first run of either engine also pays the kernel handing it fresh
    # memory (page faults: ~0.2 s of ours on a 1M-bar run here); later runs reuse freed memory
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--wall", action="store_true", help="time by the wall clock")
    parser.add_argument("--case", default="", help="run only the cases whose name contains this")
    args = parser.parse_args()
    clock = time.perf_counter if args.wall else time.process_time
    bars = make_bars(args.bars)
    frame = peer_frame(bars)
    ours(SEED, make_bars(500))()  # compile the kernels once, outside the timings
    cases = [
        ("empty strategy (engine overhead)", EMPTY, PeerEmpty, 10.0),
        ("seed SMA 10/20 vs idiomatic SmaCross", SEED, PeerSmaCross, 3.0),
        ("precomputed indicators", INDICATORS, PeerIndicators, 10.0),
    ]
    real = real_bars(args.bars)
    runs = [(name, source, peer, target, bars, frame) for name, source, peer, target in cases]
    if real is None:
        print(f"(real data not found in {real_data_dir()}: real GBPUSD cases skipped)")
    else:
        real_frame = peer_frame(real)
        for name, source, peer, target in cases[1:]:
            runs.append((f"{name} [real GBPUSD]", source, peer, target, real, real_frame))
    runs = [run for run in runs if args.case in run[0]]
    print(f"{args.bars:,} M1 bars; best of {args.repeat}; {'wall' if args.wall else 'CPU'} time")
    for name, source, peer, target, data, data_frame in runs:
        our_time = their_time = float("inf")
        for _ in range(args.repeat):
            elapsed, result = timed(ours(source, data), clock)
            our_time = min(our_time, elapsed)
            elapsed, their_stats = timed(theirs(peer, data_frame), clock)
            their_time = min(their_time, elapsed)
        trades = result.stats.total_trades  # type: ignore[attr-defined]
        their_trades = their_stats["# Trades"]  # type: ignore[index]
        ratio = their_time / our_time
        verdict = "OK" if ratio >= target else "BELOW TARGET"
        print(
            f"{name:55s} ours {args.bars / our_time:12,.0f} bars/s ({our_time:6.2f} s, "
            f"{trades} trades) | backtesting.py {args.bars / their_time:10,.0f} bars/s "
            f"({their_time:6.2f} s, {their_trades} trades) | x{ratio:5.1f} "
            f"(target x{target:g}) {verdict}"
        )


if __name__ == "__main__":
    main()
