"""The seed SMA(10)/SMA(20) cross here and in three peers, on the same synthetic M1 bars.

Issue 3, section 6: "also compare with backtrader and NautilusTrader". Each engine runs its
idiomatic version of the same strategy: long all-in while SMA(10) of closes is above SMA(20),
flat while below; market orders, no costs, 100 000 cash.

- BackTestr: the seed strategy, unchanged (``data.history(...).mean()`` per bar).
- backtesting.py 0.6.6: its README SmaCross (``self.I(SMA, ...)`` precomputed + ``crossover``),
  the same class as engine_bars.py.
- backtrader: ``bt.ind.SMA`` + ``bt.ind.CrossOver`` in a ``bt.Strategy``, a ``PandasData`` feed,
  ``AllInSizerInt``, ``TradeAnalyzer``; ``Cerebro()`` with its defaults (``preload=True``,
  ``runonce=True``: indicators are computed in one vectorised pass before ``next`` is called
  per bar; ``stdstats=True``: the cash/value, trades and buy/sell observers). ``--backtrader-next``
  adds a row with ``runonce=False``, where the indicators advance bar by bar with the strategy
  (what the seed strategy does), about twice as slow.
- NautilusTrader: BacktestEngine, 1-minute bars, a Strategy subclass with two registered
  ``SimpleMovingAverage`` indicators and market orders (bench/_nautilus_peer.py). Two rows: the
  default, whose ``run()`` ends with its portfolio analysis (statistics, as the other engines
  compute theirs), and ``run_analysis=False``, the event loop alone; the analysis appends to
  pandas objects a row at a time, so its share grows with the number of trades. NautilusTrader
  pins pandas<3, which the dev environment has outgrown, so it runs in a subprocess in an
  environment of its own: the ``nautilus`` dependency group, synced into ``.venv-nautilus`` by
  this script (a few seconds, untimed).

Bars: bench/_synthetic_bars.py (the generator of engine_bars.py), same seed for every engine.
backtrader and NautilusTrader run a few thousand bars/s here, so they get ``--slow-bars`` bars
(default 200 000, about two minutes for the whole script); BackTestr and backtesting.py run on
those same bars, so every ratio and trade count compares the same work, and once more on
``--bars`` (default 1 000 000, the size of engine_bars.py). Timed, best of ``--repeat``:
building the engine from prepared data and running it (each peer's data frame or bar objects
are made before the timer starts); our strategy's kernels are compiled once beforehand.

Entries are the positions each engine opened (filled buys), open or closed at the end; the
peers differ by a trade or so because of conventions:

- the seed strategy goes long on the first bar where SMA(10) > SMA(20); backtesting.py and
  backtrader wait for a cross (``crossover``/``CrossOver``), so they skip a first up-trend that
  is already running when both averages exist; NautilusTrader's EMACross examples compare the
  values like the seed does, and so does this one;
- fills: BackTestr, backtesting.py and backtrader fill market orders at the next bar's open;
  NautilusTrader fills them at once, at the decision bar's close (its bar execution has already
  replayed that bar's open, high, low and close). On these bars each open equals the previous
  close, so the fill prices are the same;
- NautilusTrader's 5-decimal EUR/USD rounds the prices to 0.00001, which can move the rare
  cross where the two averages are within that of each other;
- sizing: whole units worth the equity at the decision bar's close everywhere;
- final equity: BackTestr closes a position still open on the last bar (``close_at_end``), the
  peers value it at the last close: the same number.

Usage: ``./dev bench engine_peers [--bars 1000000] [--slow-bars 200000] [--repeat 1]
[--backtrader-next] [--no-nautilus]``. Prints bars/s, entries and BackTestr/peer ratios.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import backtrader as bt
import numpy as np
import pandas as pd

from engine_bars import SEED, PeerSmaCross, make_bars, ours, peer_frame, theirs, timed

REPO = Path(__file__).resolve().parents[1]
NAUTILUS_ENV = REPO / ".venv-nautilus"


@dataclass(frozen=True)
class Measured:
    engine: str
    bars: int
    seconds: float
    entries: int
    final_equity: float


class BacktraderSmaCross(bt.Strategy):  # type: ignore[misc]
    """backtrader's canonical SMA cross, long only."""

    params = (("fast", 10), ("slow", 20))

    def __init__(self) -> None:
        fast = bt.ind.SMA(period=self.p.fast)
        slow = bt.ind.SMA(period=self.p.slow)
        self.crossover = bt.ind.CrossOver(fast, slow)

    def next(self) -> None:
        if not self.position:
            if self.crossover > 0:
                self.buy()
        elif self.crossover < 0:
            self.close()


def backtrader_run(frame: pd.DataFrame, runonce: bool) -> Callable[[], object]:
    def run() -> object:
        cerebro = bt.Cerebro(runonce=runonce)
        cerebro.adddata(
            bt.feeds.PandasData(dataname=frame, timeframe=bt.TimeFrame.Minutes, compression=1)
        )
        cerebro.addstrategy(BacktraderSmaCross)
        cerebro.addsizer(bt.sizers.AllInSizerInt)
        cerebro.broker.setcash(100_000.0)
        cerebro.addanalyzer(bt.analyzers.TradeAnalyzer, _name="trades")
        return cerebro.run()[0]

    return run


def measure_ours(n: int, repeat: int) -> Measured:
    seconds, result = timed(ours(SEED, make_bars(n)), repeat)
    # positions left open are closed on the last bar (close_at_end): every entry is a trade
    stats = result.stats  # type: ignore[attr-defined]
    return Measured("BackTestr (seed strategy)", n, seconds, stats.total_trades, stats.final_equity)


def measure_backtesting_py(n: int, repeat: int) -> Measured:
    seconds, stats = timed(theirs(PeerSmaCross, peer_frame(make_bars(n))), repeat)
    closed = len(stats._trades)  # type: ignore[attr-defined]
    still_open = bool(stats._strategy.position)  # type: ignore[attr-defined]
    equity = float(stats["Equity Final [$]"])  # type: ignore[index]
    return Measured("backtesting.py 0.6.6 (SmaCross)", n, seconds, closed + still_open, equity)


def measure_backtrader(n: int, repeat: int, runonce: bool) -> Measured:
    frame = peer_frame(make_bars(n))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # its sources have invalid escapes (SyntaxWarning)
        seconds, strategy = timed(backtrader_run(frame, runonce), repeat)
    total = strategy.analyzers.trades.get_analysis().total  # type: ignore[attr-defined]
    mode = "default, runonce=True" if runonce else "runonce=False"
    equity = strategy.broker.getvalue()  # type: ignore[attr-defined]
    return Measured(
        f"backtrader {bt.__version__} ({mode})", n, seconds, total.get("total", 0), equity
    )


def uv_binary() -> str | None:
    local = REPO / ".tools" / "bin" / "uv"  # what ./dev installs
    return str(local) if local.exists() else shutil.which("uv")


def measure_nautilus(n: int, repeat: int) -> list[Measured] | str:
    """NautilusTrader in its own environment; a sentence saying why not when it cannot run."""
    uv = uv_binary()
    if uv is None:
        return "uv not found (run ./dev once: it installs .tools/bin/uv)"
    env = {**os.environ, "UV_PROJECT_ENVIRONMENT": str(NAUTILUS_ENV)}
    sync = subprocess.run(
        [uv, "sync", "--frozen", "--quiet", "--only-group", "nautilus", "--python", sys.executable],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if sync.returncode != 0:
        return f"could not install the nautilus group: {sync.stderr.strip()[-500:]}"
    python = NAUTILUS_ENV / "bin" / "python"
    probe = subprocess.run(
        [python, "-c", "import nautilus_trader"], capture_output=True, text=True, check=False
    )
    if probe.returncode != 0:
        return (
            f"nautilus_trader is not importable on Python {sys.version.split()[0]} "
            f"(the locked 1.221.0 has wheels for CPython 3.11-3.13 only): "
            f"{probe.stderr.strip().splitlines()[-1]}"
        )
    script = Path(__file__).with_name("_nautilus_peer.py")
    run = subprocess.run(
        [python, script, "--bars", str(n), "--repeat", str(repeat)],
        capture_output=True,
        text=True,
        check=False,
    )
    if run.returncode != 0:
        return f"NautilusTrader run failed: {run.stderr.strip()[-800:]}"
    rows: list[dict[str, Any]] = json.loads(run.stdout.strip().splitlines()[-1])
    return [
        Measured(
            f"NautilusTrader {row['version']} ({row['mode']})",
            n,
            float(row["seconds"]),
            int(row["entries"]),
            float(row["final_equity"]),
        )
        for row in rows
    ]


def show(row: Measured, reference: Measured | None) -> None:
    ratio = (
        "" if reference is None else f" | BackTestr {row.seconds / reference.seconds:6.1f}x as fast"
    )
    print(
        f"  {row.engine:52s} {row.bars:>9,} bars {row.bars / row.seconds:12,.0f} bars/s "
        f"({row.seconds:7.2f} s) {row.entries:6d} entries, equity {row.final_equity:10,.2f}"
        f"{ratio}",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--bars", type=int, default=1_000_000, help="for BackTestr, backtesting.py")
    parser.add_argument("--slow-bars", type=int, default=200_000, help="for every engine")
    parser.add_argument("--repeat", type=int, default=1, help="best of this many runs")
    parser.add_argument(
        "--backtrader-next", action="store_true", help="also backtrader with runonce=False"
    )
    parser.add_argument("--no-nautilus", action="store_true", help="skip NautilusTrader")
    args = parser.parse_args()
    np.seterr(all="ignore")
    ours(SEED, make_bars(500))()  # compile the kernels once, outside the timings

    print(
        f"SMA(10)/SMA(20) cross, synthetic M1 bars, best of {args.repeat}; 100 000 cash, no costs."
    )
    print("Ratios: peer time / BackTestr time on the same bars.")
    print(f"{args.slow_bars:,} bars, every engine:", flush=True)
    reference = measure_ours(args.slow_bars, args.repeat)
    show(reference, None)
    show(measure_backtesting_py(args.slow_bars, args.repeat), reference)
    show(measure_backtrader(args.slow_bars, args.repeat, runonce=True), reference)
    if args.backtrader_next:
        show(measure_backtrader(args.slow_bars, args.repeat, runonce=False), reference)
    if args.no_nautilus:
        print("  NautilusTrader: skipped (--no-nautilus)")
    else:
        print("  (NautilusTrader: syncing .venv-nautilus, then both runs in a subprocess …)")
        nautilus = measure_nautilus(args.slow_bars, args.repeat)
        if isinstance(nautilus, list):
            for row in nautilus:
                show(row, reference)
        else:
            print(f"  NautilusTrader: not measured: {nautilus}", flush=True)

    if args.bars != args.slow_bars:
        print(f"{args.bars:,} bars, the fast engines:", flush=True)
        reference = measure_ours(args.bars, args.repeat)
        show(reference, None)
        show(measure_backtesting_py(args.bars, args.repeat), reference)


if __name__ == "__main__":
    main()
