"""Parse + validate speed of a plain tick CSV: our reader vs a bare ``pandas.read_csv``.

Generates a realistic, seeded Dukascopy-like tick file (``2019-02-04 00:00:00.994,1.14543,
1.14545,2.06,1.0``) in a temporary directory, then times both on the same file in the same run.

Usage: ``./dev bench parse_csv [--rows N] [--repeat K]``
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pcsv

from backtestr.data.sources import open_market_file


def write_ticks(path: Path, rows: int, seed: int = 7) -> None:
    """A random-walk EURUSD tick file with ms timestamps and 5-decimal prices."""
    rng = np.random.default_rng(seed)
    path.write_text("timestamp_utc,bid,ask,bid_volume,ask_volume\n")
    with (
        path.open("ab") as sink,
        pcsv.CSVWriter(
            sink,
            pa.schema(
                [
                    ("timestamp_utc", pa.string()),
                    ("bid", pa.string()),
                    ("ask", pa.string()),
                    ("bid_volume", pa.string()),
                    ("ask_volume", pa.string()),
                ]
            ),
            write_options=pcsv.WriteOptions(include_header=False, quoting_style="none"),
        ) as writer,
    ):
        ts = np.datetime64("2019-02-04T00:00:00", "ms").astype(np.int64)
        mid = 114_543
        for start in range(0, rows, 1_000_000):
            n = min(1_000_000, rows - start)
            gaps = rng.exponential(250.0, n).astype(np.int64) + 1
            times = ts + np.cumsum(gaps)
            ts = int(times[-1])
            walk = mid + np.cumsum(rng.integers(-1, 2, n))
            mid = int(walk[-1])
            spread = rng.integers(1, 6, n)
            table = pa.table(
                {
                    "timestamp_utc": pa.array(times.astype("datetime64[ms]")).cast(pa.string()),
                    "bid": pa.array(walk / 1e5).cast(pa.string()),
                    "ask": pa.array((walk + spread) / 1e5).cast(pa.string()),
                    "bid_volume": pa.array(np.round(rng.uniform(0.1, 5, n), 2)).cast(pa.string()),
                    "ask_volume": pa.array(np.round(rng.uniform(0.1, 5, n), 2)).cast(pa.string()),
                }
            )
            writer.write_table(table)


def time_ours(path: Path) -> tuple[float, int]:
    start = time.perf_counter()
    rows = 0
    with open_market_file(path, symbol="EURUSD") as reader:
        for chunk in reader.chunks():
            rows += len(chunk)
    return time.perf_counter() - start, rows


def time_pandas(path: Path) -> tuple[float, int]:
    start = time.perf_counter()
    frame = pd.read_csv(path)
    return time.perf_counter() - start, len(frame)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        warm = Path(folder) / "warm.csv"
        write_ticks(warm, 10_000)
        time_ours(warm)  # compile / load the numba cache outside the timing
        path = Path(folder) / "EURUSD_ticks.csv"
        started = time.perf_counter()
        write_ticks(path, args.rows)
        size_mb = path.stat().st_size / 1e6
        print(
            f"file: {args.rows:,} rows, {size_mb:.0f} MB (written in "
            f"{time.perf_counter() - started:.1f} s)"
        )
        ours_runs: list[float] = []
        pandas_runs: list[float] = []
        for _ in range(args.repeat):  # interleaved, so both see the same machine load
            seconds, rows = time_ours(path)
            assert rows == args.rows, rows
            ours_runs.append(seconds)
            seconds, rows = time_pandas(path)
            assert rows == args.rows, rows
            pandas_runs.append(seconds)
        for label, runs in (
            ("backtestr parse+validate", ours_runs),
            ("pandas.read_csv (bare)", pandas_runs),
        ):
            best, median = min(runs), statistics.median(runs)
            print(
                f"{label:25s} best {best:5.2f} s = {args.rows / best / 1e6:5.2f} M rows/s "
                f"({size_mb / best:4.0f} MB/s); median {median:5.2f} s"
            )
        print(
            f"ratio ours/pandas (rows/s): best {min(pandas_runs) / min(ours_runs):.2f}x, "
            f"median {statistics.median(pandas_runs) / statistics.median(ours_runs):.2f}x"
        )


if __name__ == "__main__":
    main()
