"""Import speed and memory: BackTestr's end-to-end import vs a bare ``pandas.read_csv``.

End to end means parse + validate + store (Parquet lake + DuckDB catalog commit), from a plain
tick CSV like a vendor's export (``timestamp,bid,ask,bid_volume,ask_volume``, ISO times with
milliseconds). ``pandas.read_csv`` of the same file, which only parses (timestamps stay strings),
is measured in the same run as the yardstick.

Memory: imports of a small and a large file run in child processes and their peak RSS is
compared; a streaming import keeps it flat whatever the file size.

    ./dev bench import_csv                      # 10 M rows speed, 5 M vs 50 M rows memory
    ./dev bench import_csv --rows 2000000 --memory-rows 0      # quick
"""

from __future__ import annotations

import argparse
import gc
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv

from backtestr.data.sample import sample_ticks
from backtestr.data.store import Store

WEEK_TICKS = 590_000  # ticks in one sample week at the default rate


def write_tick_csv(path: Path, rows: int, seed: int = 1) -> None:
    """A realistic tick CSV of ``rows`` rows, written in weekly pieces (bounded memory)."""
    written = 0
    week = 0
    with path.open("wb") as sink:
        while written < rows:
            start = pd.Timestamp("2015-01-04", tz="UTC") + pd.Timedelta(weeks=week)
            ticks = sample_ticks(start=start.to_pydatetime(), weeks=1, seed=seed + week)
            take = min(len(ticks), rows - written)
            stamps = pa.array(ticks.ts_ns[:take].view("datetime64[ns]")).cast(
                pa.timestamp("ms", tz="UTC")
            )
            table = pa.table(
                {
                    "timestamp": stamps,
                    "bid": ticks.bid[:take],
                    "ask": ticks.ask[:take],
                    "bid_volume": ticks.bid_volume[:take],
                    "ask_volume": ticks.ask_volume[:take],
                }
            )
            options = pacsv.WriteOptions(include_header=written == 0)
            pacsv.write_csv(table, sink, write_options=options)
            written += take
            week += 1


def import_once(csv_path: Path, home: Path) -> tuple[float, int]:
    with Store.open(home) as store:
        started = time.perf_counter()
        summary = store.import_file(csv_path, symbol="EURUSD")
        return time.perf_counter() - started, summary.rows_kept


def best_of(repeats: int, action: Callable[[], object]) -> float:
    times = []
    for _ in range(repeats):
        gc.collect()
        started = time.perf_counter()
        action()
        times.append(time.perf_counter() - started)
    return min(times)


def child_peak_rss_mb(csv_path: Path, home: Path) -> float:
    """Import in a fresh process; return its peak resident memory."""
    code = (
        "import sys, resource\n"
        "from backtestr.data.store import Store\n"
        "with Store.open(sys.argv[2]) as s:\n"
        "    s.import_file(sys.argv[1], symbol='EURUSD')\n"
        "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code, str(csv_path), str(home)],
        capture_output=True,
        text=True,
        check=True,
    )
    return int(result.stdout.strip().splitlines()[-1]) / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--memory-rows", type=int, default=50_000_000, help="0 to skip")
    parser.add_argument("--workdir", type=Path, default=None)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-import-", dir=args.workdir))

    csv_path = work / "EURUSD_ticks.csv"
    write_tick_csv(csv_path, args.rows)
    size_mb = csv_path.stat().st_size / 1e6
    print(f"file: {args.rows:,} tick rows, {size_mb:,.0f} MB")

    # warm-up: numba compiles its kernels once per machine (cached on disk afterwards)
    warm = work / "warm.csv"
    write_tick_csv(warm, 10_000)
    import_once(warm, work / "warm-home")

    homes = iter(range(1000))

    def import_fresh() -> None:
        home = work / f"home-{next(homes)}"
        import_once(csv_path, home)
        shutil.rmtree(home)

    ours = best_of(args.repeats, import_fresh)
    theirs = best_of(args.repeats, lambda: pd.read_csv(csv_path))
    for label, seconds in (
        ("backtestr import (parse+validate+store)", ours),
        ("pandas.read_csv (parse only)", theirs),
    ):
        print(f"{label:42s} {seconds:6.2f} s  {args.rows / seconds / 1e6:5.2f} M rows/s")
    print(f"ratio backtestr / pandas.read_csv time: {ours / theirs:.2f}x")
    target = 2_000_000
    verdict = "met" if args.rows / ours >= target else "NOT met"
    print(f"target >= {target / 1e6:.0f} M rows/s: {verdict}")

    if args.memory_rows:
        small_rows = max(args.memory_rows // 10, 1_000_000)
        small = work / "small.csv"
        write_tick_csv(small, small_rows)
        small_rss = child_peak_rss_mb(small, work / "mem-small")
        small.unlink()
        big = work / "big.csv"
        write_tick_csv(big, args.memory_rows)
        big_mb = big.stat().st_size / 1e6
        big_rss = child_peak_rss_mb(big, work / "mem-big")
        print(f"peak RSS importing {small_rows:,} rows: {small_rss:,.0f} MB")
        print(f"peak RSS importing {args.memory_rows:,} rows ({big_mb:,.0f} MB): {big_rss:,.0f} MB")
        growth = args.memory_rows / small_rows
        print(f"memory ratio big/small: {big_rss / small_rss:.2f}x for {growth:.0f}x the rows")
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
