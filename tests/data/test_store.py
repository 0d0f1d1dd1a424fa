"""The store through its public API: imports are atomic, idempotent and merge cleanly."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from backtestr.data.store import Store
from backtestr.errors import ConfigError, DataFormatError, NoDataError, StoreError
from backtestr.model import PriceSide, Timeframe
from tests.helpers import write_csv

TICK_HEADER = "timestamp,bid,ask,bid_volume,ask_volume\n"


def tick_lines(start_minute: int, count: int, *, price: float = 1.1000) -> str:
    lines = []
    for i in range(count):
        minute = start_minute + i
        stamp = pd.Timestamp("2019-02-04", tz="UTC") + pd.Timedelta(minutes=minute, seconds=7)
        bid = round(price + (i % 7) * 0.0001, 5)
        lines.append(f"{stamp:%Y-%m-%d %H:%M:%S}.250,{bid:.5f},{bid + 0.0002:.5f},1.0,2.0\n")
    return "".join(lines)


def snapshot(store: Store) -> list[tuple[object, ...]]:
    return [
        (d.symbol, d.kind, d.side, d.rows, d.first_ns, d.last_ns, d.content_sha256)
        for d in store.datasets()
    ]


@pytest.fixture
def store(tmp_path: Path) -> Store:
    opened = Store.open(tmp_path / "home")
    yield opened
    opened.close()


def test_import_stores_ticks_with_utc_times(store: Store, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "EURUSD.csv", TICK_HEADER + tick_lines(0, 100))
    summary = store.import_file(path, symbol="eurusd")
    assert (summary.symbol, summary.kind, summary.rows_read, summary.rows_added) == (
        "EURUSD",
        "ticks",
        100,
        100,
    )
    ticks = store.ticks("EURUSD")
    assert len(ticks) == 100
    assert ticks.ts_ns[0] == pd.Timestamp("2019-02-04 00:00:07.250", tz="UTC").value
    assert store.datasets()[0].rows == 100


def test_importing_the_same_file_twice_changes_nothing(store: Store, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "EURUSD.csv", TICK_HEADER + tick_lines(0, 300))
    store.import_file(path, symbol="EURUSD")
    before = snapshot(store)
    again = store.import_file(path, symbol="EURUSD")
    assert again.unchanged
    assert snapshot(store) == before


def test_overlapping_file_merges_without_duplicates(store: Store, tmp_path: Path) -> None:
    first = write_csv(tmp_path / "a.csv", TICK_HEADER + tick_lines(0, 200))
    second = write_csv(tmp_path / "b.csv", TICK_HEADER + tick_lines(100, 200))
    store.import_file(first, symbol="EURUSD")
    summary = store.import_file(second, symbol="EURUSD")
    ticks = store.ticks("EURUSD")
    assert len(ticks) == 300
    assert np.all(np.diff(ticks.ts_ns) > 0)
    # the shared minutes carry other prices in the second file: those ticks are replaced
    assert (summary.rows_added, summary.rows_replaced) == (100, 100)


def test_bad_file_leaves_the_store_exactly_as_it_was(store: Store, tmp_path: Path) -> None:
    good = write_csv(tmp_path / "good.csv", TICK_HEADER + tick_lines(0, 50))
    store.import_file(good, symbol="EURUSD")
    before = snapshot(store)
    files_before = sorted(p.relative_to(store.home) for p in (store.home / "lake").rglob("*"))
    bad_text = TICK_HEADER + tick_lines(50, 50) + "2019-02-04 09:00:00.000,1.1,oops,1,1\n"
    bad = write_csv(tmp_path / "bad.csv", bad_text)
    with pytest.raises(DataFormatError, match=r"bad\.csv line 52"):
        store.import_file(bad, symbol="EURUSD")
    assert snapshot(store) == before
    assert sorted(p.relative_to(store.home) for p in (store.home / "lake").rglob("*")) == (
        files_before
    )
    assert not any((store.home / "staging").iterdir())


def test_several_files_import_all_or_nothing(store: Store, tmp_path: Path) -> None:
    good = write_csv(tmp_path / "good.csv", TICK_HEADER + tick_lines(0, 50))
    bad = write_csv(tmp_path / "bad.csv", TICK_HEADER + "not,a,tick,file,really\n")
    with pytest.raises(DataFormatError):
        store.import_files([good, bad], symbol="EURUSD")
    assert store.datasets() == []


def test_ticks_partition_by_month_and_read_back_a_range(store: Store, tmp_path: Path) -> None:
    rows = ["2019-01-31 23:59:59.000,1.1,1.1002,1,1\n", "2019-02-01 00:00:01.000,1.2,1.2002,1,1\n"]
    path = write_csv(tmp_path / "EURUSD.csv", TICK_HEADER + "".join(rows))
    store.import_file(path, symbol="EURUSD")
    assert store.datasets()[0].partitions == 2
    february = pd.Timestamp("2019-02-01", tz="UTC").value
    assert store.ticks("EURUSD", start_ns=february).bid.tolist() == [1.2]
    assert store.ticks("EURUSD", end_ns=february).bid.tolist() == [1.1]


def test_gzip_files_import_like_plain_ones(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "EURUSD.csv.gz"
    path.write_bytes(gzip.compress((TICK_HEADER + tick_lines(0, 20)).encode()))
    assert store.import_file(path, symbol="EURUSD").rows_added == 20


def test_bars_are_built_from_stored_ticks(store: Store, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "EURUSD.csv", TICK_HEADER + tick_lines(0, 180))
    store.import_file(path, symbol="EURUSD")
    m1 = store.bars("EURUSD", "M1")
    h1 = store.bars("EURUSD", Timeframe.parse("H1"), side=PriceSide.ASK)
    assert len(m1) == 180
    assert len(h1) == 3
    assert h1.tick_count.sum() == 180
    assert h1.high.max() == pytest.approx(1.1006 + 0.0002)


def test_bar_files_merge_by_time_and_build_higher_timeframes(store: Store, tmp_path: Path) -> None:
    header = "timestamp,open,high,low,close,volume\n"
    body = "".join(f"2019-02-04 00:{m:02d}:00,1.1,1.2,1.0,1.15,{m}\n" for m in range(30))
    path = write_csv(tmp_path / "bars.csv", header + body)
    summary = store.import_file(path, symbol="EURUSD")
    assert (summary.kind, summary.sides) == ("M1", ("bid",))
    m5 = store.bars("EURUSD", "M5")
    assert len(m5) == 6
    assert m5.volume[0] == sum(range(5))
    with pytest.raises(NoDataError, match="Cannot build M5 ask bars"):
        store.bars("EURUSD", "M5", side="ask")


def test_bars_come_from_the_finest_data_covering_each_period(store: Store, tmp_path: Path) -> None:
    # H1 bars for 2019-02-01 and 2019-02-04; ticks (minutes 0…179) for 2019-02-04 only
    header = "timestamp,open,high,low,close,volume\n"
    hours = [f"2019-02-01 {h:02d}:00:00,1.2,1.3,1.1,1.25,1\n" for h in range(5)]
    hours += [f"2019-02-04 {h:02d}:00:00,1.2,1.3,1.1,1.25,1\n" for h in range(5)]
    store.import_file(
        write_csv(tmp_path / "EURUSD_H1.csv", header + "".join(hours)), symbol="EURUSD"
    )
    store.import_file(
        write_csv(tmp_path / "ticks.csv", TICK_HEADER + tick_lines(0, 180)), symbol="EURUSD"
    )
    h1 = store.bars("EURUSD", "H1")
    times = pd.to_datetime(h1.ts_ns, utc=True).strftime("%m-%d %H").tolist()
    assert times == [f"02-01 {h:02d}" for h in range(5)] + [f"02-04 {h:02d}" for h in range(5)]
    # ticks win where they exist (00:00:07 … 02:59:07); the stored bars fill the rest
    assert h1.tick_count.tolist() == [0] * 5 + [60, 60, 60] + [0, 0]
    early = store.bars("EURUSD", "H1", end_ns=pd.Timestamp("2019-02-02", tz="UTC").value)
    assert len(early) == 5
    assert store.bars("EURUSD", "M1").ts_ns.size == 180  # H1 bars cannot build M1


def test_unknown_symbol_error_suggests_the_closest(store: Store, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "EURUSD.csv", TICK_HEADER + tick_lines(0, 5))
    store.import_file(path, symbol="EURUSD")
    with pytest.raises(NoDataError, match="Did you mean 'EURUSD'"):
        store.ticks("EURUSF")


def test_non_fx_symbol_needs_a_specification(store: Store, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "GOOG.csv", "Date,Open,High,Low,Close\n2004-08-19,100,104,95,100\n")
    with pytest.raises(ConfigError, match="--currency USD"):
        store.import_file(path, symbol="GOOG")


def test_remove_deletes_data_and_files(store: Store, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "EURUSD.csv", TICK_HEADER + tick_lines(0, 5))
    store.import_file(path, symbol="EURUSD")
    store.remove("EURUSD")
    assert store.datasets() == []
    assert not [p for p in (store.home / "lake").rglob("*") if p.is_file()]


def test_leftovers_of_a_killed_import_are_collected_on_open(tmp_path: Path) -> None:
    home = tmp_path / "home"
    Store.open(home).close()
    orphan = home / "lake" / "EURUSD" / "ticks" / "quote" / "2019" / "2019-02.dead.parquet"
    orphan.parent.mkdir(parents=True)
    orphan.write_bytes(b"half written")
    (home / "staging" / "abc").mkdir()
    Store.open(home).close()
    assert not orphan.exists()
    assert not any((home / "staging").iterdir())


def test_second_process_gets_a_clear_error_while_the_home_is_open(tmp_path: Path) -> None:
    import subprocess
    import sys

    home = tmp_path / "home"
    with Store.open(home):
        code = (
            "import sys\nfrom backtestr.data.store import Store\nfrom backtestr.errors import "
            "StoreError\ntry:\n    Store.open(sys.argv[1])\nexcept StoreError as e:\n"
            "    print(e); sys.exit(7)\n"
        )
        result = subprocess.run(
            [sys.executable, "-c", code, str(home)], capture_output=True, text=True, check=False
        )
    assert result.returncode == 7, result.stderr
    assert "in use by another BackTestr process" in result.stdout
    assert issubclass(StoreError, Exception)


def test_runs_round_trip(store: Store) -> None:
    equity = pd.DataFrame({"equity": [1.0, 2.0]})
    store.save_run("run-1", {"strategy": "x"}, {"equity": equity})
    manifest, tables = store.load_run("run-1")
    assert manifest == {"strategy": "x"}
    pd.testing.assert_frame_equal(tables["equity"], equity)
    assert [r.run_id for r in store.list_runs()] == ["run-1"]
    with pytest.raises(ConfigError, match="already exists"):
        store.save_run("run-1", {}, {})
    with pytest.raises(NoDataError, match="Did you mean 'run-1'"):
        store.load_run("run-2")
