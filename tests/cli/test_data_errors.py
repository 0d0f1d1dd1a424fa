"""Acceptance of issue 2 §3 through the command line: every bad file is refused and loses nothing.

Each bad-input test runs ``backtestr data import`` on a store that already holds EURUSD ticks
and M1 bars, and checks four things: the exit code is 3 (a data error), stderr begins with
``Error: Invalid data format:``, the message names the file, the line, the column (when there is
one) and what is wrong, and the store is exactly as before (``data list --json``, ``data info
--json`` and every lake file, byte for byte).
"""

from __future__ import annotations

import gzip
import hashlib
import json
import shutil
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from backtestr.cli import EXIT_DATA_ERROR, main
from backtestr.data.store import Store
from tests.helpers import write_csv

TICK_HEADER = "timestamp,bid,ask\n"
BAR_HEADER = "timestamp,open,high,low,close\n"


def run(home: Path, *args: str) -> int:
    try:
        main(["--home", str(home), *args])
    except SystemExit as stop:
        return int(stop.code or 0)
    return 0


def tick_rows(start: str, count: int, *, step_s: int = 1, bid: float = 1.1) -> str:
    first = pd.Timestamp(start)
    stamps = [first + pd.Timedelta(seconds=i * step_s) for i in range(count)]
    return "".join(f"{t:%Y-%m-%d %H:%M:%S},{bid:.5f},{bid + 0.0002:.5f}\n" for t in stamps)


def bar_rows(start: str, count: int) -> str:
    first = pd.Timestamp(start)
    return "".join(
        f"{first + pd.Timedelta(minutes=i):%Y-%m-%d %H:%M},1.0850,1.0860,1.0840,1.0845\n"
        for i in range(count)
    )


@dataclass(frozen=True)
class Snapshot:
    listed: object
    info: object
    lake: dict[str, str]


def snapshot(home: Path, capsys: pytest.CaptureFixture[str]) -> Snapshot:
    capsys.readouterr()
    assert run(home, "data", "list", "--json") == 0
    listed = json.loads(capsys.readouterr().out)
    assert run(home, "data", "info", "EURUSD", "--json") == 0
    info = json.loads(capsys.readouterr().out)
    lake = {
        path.relative_to(home).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted((home / "lake").rglob("*"))
        if path.is_file()
    }
    return Snapshot(listed, info, lake)


@pytest.fixture(scope="module")
def stocked_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A home holding EURUSD ticks (2019-02-04, two hours) and M1 bars (one hour)."""
    folder = tmp_path_factory.mktemp("stocked")
    home = folder / "home"
    ticks = write_csv(
        folder / "EURUSD_ticks.csv", TICK_HEADER + tick_rows("2019-02-04", 120, step_s=60)
    )
    bars = write_csv(folder / "EURUSD_M1.csv", BAR_HEADER + bar_rows("2019-02-01", 60))
    assert run(home, "data", "import", str(ticks), "--symbol", "EURUSD") == 0
    assert run(home, "data", "import", str(bars), "--symbol", "EURUSD") == 0
    return home


@pytest.fixture
def home(stocked_home: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "home"
    shutil.copytree(stocked_home, copy)
    return copy


def assert_rejected(
    home: Path,
    capsys: pytest.CaptureFixture[str],
    path: Path,
    *,
    line: int | None,
    column: str | None,
    says: tuple[str, ...],
    options: tuple[str, ...] = (),
) -> str:
    """Import ``path``; check the exit code, the message, and that the store did not change."""
    before = snapshot(home, capsys)
    code = run(home, "data", "import", str(path), "--symbol", "EURUSD", *options)
    captured = capsys.readouterr()
    error = captured.err
    assert code == EXIT_DATA_ERROR, error
    assert error.startswith(f"Error: Invalid data format: {path.name}"), error
    where = path.name + ("" if line is None else f" line {line}")
    assert where in error, error
    if column is not None:
        assert f"column '{column}'" in error, error
    for words in says:
        assert words in error, error
    assert captured.out == ""
    assert snapshot(home, capsys) == before
    return error


def imported(home: Path, capsys: pytest.CaptureFixture[str], path: Path, *options: str) -> dict:
    capsys.readouterr()
    code = run(home, "data", "import", str(path), "--symbol", "EURUSD", "--json", *options)
    captured = capsys.readouterr()
    assert code == 0, captured.err
    summary: dict = json.loads(captured.out)[0]
    return summary


# ---- structure ---------------------------------------------------------------------------------


def test_undetectable_format_is_refused(
    home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_csv(tmp_path / "notes.csv", "dear diary\ntoday the euro went up\n")
    assert_rejected(home, capsys, path, line=1, column=None, says=("delimiter",))


def test_unknown_format_with_foreign_columns_is_refused(
    home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_csv(tmp_path / "trades.csv", "when,price,qty\n2019-02-04 00:00:01,1.1,3\n")
    assert_rejected(home, capsys, path, line=1, column="when", says=("unknown column 'when'",))


def test_missing_column_is_named(
    home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_csv(tmp_path / "EURUSD.csv", "timestamp,bid\n2019-02-04 00:00:01,1.1\n")
    assert_rejected(home, capsys, path, line=1, column="ask", says=("missing column 'ask'",))


def test_extra_column_in_the_header_is_named(
    home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_csv(
        tmp_path / "EURUSD.csv", "timestamp,bid,ask,mood\n2019-02-04 00:00:01,1.1,1.1002,calm\n"
    )
    assert_rejected(home, capsys, path, line=1, column="mood", says=("unknown column 'mood'",))


def test_extra_field_on_a_line_is_refused(
    home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = tick_rows("2019-02-04 03:00", 3).splitlines(keepends=True)
    rows[1] = rows[1].rstrip("\n") + ",7\n"
    path = write_csv(tmp_path / "EURUSD.csv", TICK_HEADER + "".join(rows))
    assert_rejected(home, capsys, path, line=3, column=None, says=("4",))


def test_extra_field_deep_in_a_large_file_is_refused(
    home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = tick_rows("2019-02-04 03:00", 5000).splitlines(keepends=True)
    rows[4000] = rows[4000].rstrip("\n") + ",7\n"
    path = write_csv(tmp_path / "EURUSD.csv", TICK_HEADER + "".join(rows))
    assert_rejected(home, capsys, path, line=4002, column=None, says=("extra field '7'",))


def test_empty_file_is_refused(
    home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_csv(tmp_path / "EURUSD.csv", "")
    assert_rejected(home, capsys, path, line=None, column=None, says=("empty",))


def test_header_without_data_is_refused(
    home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_csv(tmp_path / "EURUSD.csv", TICK_HEADER)
    assert_rejected(home, capsys, path, line=None, column=None, says=("no data lines",))


def test_binary_garbage_is_refused(
    home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "EURUSD.csv"
    path.write_bytes(np.random.default_rng(2).bytes(4096))
    assert_rejected(home, capsys, path, line=None, column=None, says=("binary",))


def test_truncated_last_line_of_a_large_file_is_called_truncated(
    home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = TICK_HEADER + tick_rows("2019-02-04 03:00", 5000) + "2019-02-04 05:00:00,1.1"
    path = write_csv(tmp_path / "EURUSD.csv", text)
    assert_rejected(home, capsys, path, line=5002, column="ask", says=("truncated",))


def test_truncated_last_line_of_a_small_file_is_called_truncated(
    home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = TICK_HEADER + tick_rows("2019-02-04 03:00", 3) + "2019-02-04 05:00:00,1.1"
    path = write_csv(tmp_path / "EURUSD.csv", text)
    assert_rejected(home, capsys, path, line=5, column="ask", says=("truncated",))


def test_wrong_delimiter_deep_in_a_large_file_is_named(
    home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = tick_rows("2019-02-04 03:00", 5000).splitlines(keepends=True)
    rows[4000] = rows[4000].replace(",", ";")
    path = write_csv(tmp_path / "EURUSD.csv", TICK_HEADER + "".join(rows))
    assert_rejected(home, capsys, path, line=4002, column=None, says=("delimiter", "';'"))


def test_wrong_delimiter_in_a_small_file_is_named(
    home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = tick_rows("2019-02-04 03:00", 3).splitlines(keepends=True)
    rows[1] = rows[1].replace(",", ";")
    path = write_csv(tmp_path / "EURUSD.csv", TICK_HEADER + "".join(rows))
    assert_rejected(home, capsys, path, line=3, column=None, says=("delimiter",))


def test_symbol_column_contradicting_the_symbol_is_refused(
    home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_csv(
        tmp_path / "quotes.csv", "symbol,timestamp,bid,ask\nGBPUSD,2019-02-04 03:00:01,1.3,1.3002\n"
    )
    assert_rejected(home, capsys, path, line=2, column="symbol", says=("GBPUSD", "--symbol GBPUSD"))


def test_file_name_contradicting_the_symbol_is_refused(
    home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_csv(
        tmp_path / "DAT_ASCII_GBPUSD_T_202001.csv", "20200101 170000065,1.121200,1.121720,0\n"
    )
    assert_rejected(home, capsys, path, line=None, column=None, says=("GBPUSD",))


def test_a_single_bar_imports_with_the_timeframe_given(
    home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_csv(tmp_path / "EURUSD_bar.csv", BAR_HEADER + bar_rows("2019-02-05", 1))
    assert_rejected(home, capsys, path, line=None, column=None, says=("--timeframe",))
    summary = imported(home, capsys, path, "--timeframe", "H1")
    assert (summary["kind"], summary["rows_kept"]) == ("H1", 1)


def test_a_timeframe_the_bars_contradict_is_refused(
    home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_csv(tmp_path / "EURUSD_M1.csv", BAR_HEADER + bar_rows("2019-02-05", 5))
    assert_rejected(
        home,
        capsys,
        path,
        line=None,
        column=None,
        says=("M1 apart", "H1"),
        options=("--timeframe", "H1"),
    )


def test_a_forced_format_the_file_contradicts_is_refused(
    home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_csv(tmp_path / "EURUSD.csv", TICK_HEADER + tick_rows("2019-02-05", 3))
    assert_rejected(
        home, capsys, path, line=None, column=None, says=(), options=("--format", "histdata-ticks")
    )


# ---- values ------------------------------------------------------------------------------------


def bad_tick_file(tmp_path: Path, bad_line: str) -> Path:
    """Three ticks whose second (line 3) is ``bad_line``."""
    rows = tick_rows("2019-02-04 03:00", 3).splitlines(keepends=True)
    rows[1] = bad_line + "\n"
    return write_csv(tmp_path / "EURUSD.csv", TICK_HEADER + "".join(rows))


def test_unparsable_timestamp_is_named(
    home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = bad_tick_file(tmp_path, "2019-02-3x 03:00:01,1.1,1.1002")
    assert_rejected(home, capsys, path, line=3, column="timestamp", says=("'2019-02-3x 03:00:01'",))


def test_unparsable_number_is_named(
    home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = bad_tick_file(tmp_path, "2019-02-04 03:00:01,1.1,1.1oo2")
    assert_rejected(home, capsys, path, line=3, column="ask", says=("'1.1oo2'",))


@pytest.mark.parametrize(
    ("case", "bad_line", "column", "says"),
    [
        ("nan", "2019-02-04 03:00:01,NaN,1.1002", "bid", "NaN"),
        ("inf", "2019-02-04 03:00:01,1.1,inf", "ask", "inf"),
        ("zero", "2019-02-04 03:00:01,0,1.1002", "bid", "zero or negative"),
        ("negative", "2019-02-04 03:00:01,-1.1,1.1002", "bid", "-1.1"),
    ],
)
def test_impossible_price_is_named(
    home: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    case: str,
    bad_line: str,
    column: str,
    says: str,
) -> None:
    path = bad_tick_file(tmp_path, bad_line)
    assert_rejected(home, capsys, path, line=3, column=column, says=(says,))


def bad_bar_file(tmp_path: Path, bad_line: str) -> Path:
    rows = bar_rows("2019-02-05", 3).splitlines(keepends=True)
    rows[1] = bad_line + "\n"
    return write_csv(tmp_path / "EURUSD_M1.csv", BAR_HEADER + "".join(rows))


def test_high_below_low_is_named(
    home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = bad_bar_file(tmp_path, "2019-02-05 00:01,1.0850,1.0841,1.0850,1.0845")
    assert_rejected(
        home, capsys, path, line=3, column="high", says=("high 1.0841 is below low 1.085",)
    )


def test_open_outside_the_range_is_named(
    home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = bad_bar_file(tmp_path, "2019-02-05 00:01,1.0870,1.0860,1.0840,1.0845")
    assert_rejected(home, capsys, path, line=3, column="open", says=("open 1.087 is outside",))


def test_close_outside_the_range_is_named(
    home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = bad_bar_file(tmp_path, "2019-02-05 00:01,1.0850,1.0860,1.0840,1.0830")
    assert_rejected(home, capsys, path, line=3, column="close", says=("close 1.083 is outside",))


def test_timestamps_going_backwards_are_named(
    home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = bad_tick_file(tmp_path, "2019-02-04 02:59:00,1.1,1.1002")
    assert_rejected(
        home, capsys, path, line=3, column="timestamp", says=("back in time", "line, 2")
    )


# ---- crossed quotes ----------------------------------------------------------------------------


def crossed_file(tmp_path: Path) -> Path:
    rows = [
        "2019-02-04 03:00:01,1.10000,1.10020",
        "2019-02-04 03:00:02,1.10030,1.10020",  # crossed by 1 point
        "2019-02-04 03:00:03,1.10000,1.10020",
        "2019-02-04 03:00:04,1.10050,1.10010",  # crossed by 4 points
    ]
    return write_csv(tmp_path / "EURUSD_FXCM.csv", TICK_HEADER + "\n".join(rows) + "\n")


def test_crossed_quotes_are_rejected_by_default_naming_the_option_and_count(
    home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert_rejected(
        home,
        capsys,
        crossed_file(tmp_path),
        line=3,
        column="bid",
        says=("bid 1.1003 is above ask 1.1002", "2 crossed", "--crossed", "keep", "drop", "repair"),
    )


@pytest.mark.parametrize(
    ("policy", "bids", "asks"),
    [
        ("keep", [1.1, 1.1003, 1.1, 1.1005], [1.1002, 1.1002, 1.1002, 1.1001]),
        ("drop", [1.1, 1.1], [1.1002, 1.1002]),
        ("repair", [1.1, 1.10025, 1.1, 1.1003], [1.1002, 1.10025, 1.1002, 1.1003]),
    ],
)
def test_crossed_quote_policies_store_what_they_say(
    home: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    policy: str,
    bids: list[float],
    asks: list[float],
) -> None:
    summary = imported(home, capsys, crossed_file(tmp_path), "--crossed", policy)
    assert (summary["crossed_quotes"], summary["crossed_action"]) == (2, policy)
    assert (summary["rows_read"], summary["rows_kept"]) == (4, len(bids))
    with Store.open(home) as store:
        ticks = store.ticks("EURUSD", start_ns=pd.Timestamp("2019-02-04 03:00", tz="UTC").value)
    np.testing.assert_allclose(ticks.bid, bids, rtol=0, atol=1e-12)
    np.testing.assert_allclose(ticks.ask, asks, rtol=0, atol=1e-12)


# ---- duplicates ---------------------------------------------------------------------------------


def test_identical_duplicate_bars_are_dropped_and_counted(
    home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = bar_rows("2019-02-05", 3).splitlines(keepends=True)
    path = write_csv(tmp_path / "EURUSD_M1.csv", BAR_HEADER + rows[0] + rows[1] + rows[1] + rows[2])
    summary = imported(home, capsys, path)
    assert (summary["rows_read"], summary["rows_kept"], summary["duplicates_dropped"]) == (4, 3, 1)
    with Store.open(home) as store:
        bars = store.bars("EURUSD", "M1", start_ns=pd.Timestamp("2019-02-05", tz="UTC").value)
    assert len(bars) == 3


def test_conflicting_duplicate_bars_are_refused_naming_both_lines(
    home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = bar_rows("2019-02-05", 3).splitlines(keepends=True)
    other = rows[1].replace("1.0845\n", "1.0846\n")
    path = write_csv(tmp_path / "EURUSD_M1.csv", BAR_HEADER + rows[0] + rows[1] + other + rows[2])
    assert_rejected(home, capsys, path, line=4, column="timestamp", says=("lines 3 and 4",))


def test_ticks_sharing_a_timestamp_are_all_kept_in_file_order(
    home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = [
        "2019-02-04 03:00:01,1.10000,1.10020",
        "2019-02-04 03:00:01,1.10010,1.10030",
        "2019-02-04 03:00:01,1.09990,1.10010",
        "2019-02-04 03:00:02,1.10000,1.10020",
    ]
    path = write_csv(tmp_path / "EURUSD.csv", TICK_HEADER + "\n".join(rows) + "\n")
    summary = imported(home, capsys, path)
    assert (summary["rows_kept"], summary["duplicates_dropped"]) == (4, 0)
    with Store.open(home) as store:
        ticks = store.ticks("EURUSD", start_ns=pd.Timestamp("2019-02-04 03:00", tz="UTC").value)
    assert ticks.bid.tolist() == [1.1, 1.1001, 1.0999, 1.1]


# ---- merging and re-importing ------------------------------------------------------------------


def test_importing_the_same_file_twice_changes_nothing(
    home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_csv(tmp_path / "EURUSD.csv", TICK_HEADER + tick_rows("2019-02-06", 50))
    first = imported(home, capsys, path)
    assert (first["rows_added"], first["unchanged"]) == (50, False)
    before = snapshot(home, capsys)
    again = imported(home, capsys, path)
    assert (again["rows_added"], again["rows_replaced"], again["unchanged"]) == (0, 0, True)
    after = snapshot(home, capsys)
    assert (after.listed, after.lake) == (before.listed, before.lake)


def test_an_overlapping_tick_file_merges_without_duplicates(
    home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    early = write_csv(tmp_path / "a.csv", TICK_HEADER + tick_rows("2019-02-06", 100))
    late = write_csv(tmp_path / "b.csv", TICK_HEADER + tick_rows("2019-02-06 00:00:50", 100))
    imported(home, capsys, early)
    summary = imported(home, capsys, late)
    assert (summary["rows_added"], summary["rows_replaced"]) == (50, 0)
    with Store.open(home) as store:
        ticks = store.ticks("EURUSD", start_ns=pd.Timestamp("2019-02-06", tz="UTC").value)
    assert len(ticks) == 150
    assert np.all(np.diff(ticks.ts_ns) == 1_000_000_000)


def test_an_overlapping_bar_file_merges_without_duplicates(
    home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # the stocked home holds M1 bars 2019-02-01 00:00 … 00:59
    late = write_csv(tmp_path / "EURUSD_M1.csv", BAR_HEADER + bar_rows("2019-02-01 00:30", 60))
    summary = imported(home, capsys, late)
    assert (summary["rows_added"], summary["rows_replaced"]) == (30, 0)
    with Store.open(home) as store:
        bars = store.bars("EURUSD", "M1", end_ns=pd.Timestamp("2019-02-02", tz="UTC").value)
    assert len(bars) == 90
    assert np.all(np.diff(bars.ts_ns) == 60_000_000_000)


# ---- containers and formats --------------------------------------------------------------------


def test_gzip_input_is_read_and_its_errors_name_the_line(
    home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    good = tmp_path / "EURUSD_good.csv.gz"
    good.write_bytes(gzip.compress((TICK_HEADER + tick_rows("2019-02-06", 10)).encode()))
    assert imported(home, capsys, good)["rows_kept"] == 10
    bad = tmp_path / "EURUSD_bad.csv.gz"
    bad_text = TICK_HEADER + tick_rows("2019-02-07", 2) + "2019-02-07 00:00:02,1.1,1.1oo2\n"
    bad.write_bytes(gzip.compress(bad_text.encode()))
    assert_rejected(home, capsys, bad, line=4, column="ask", says=("'1.1oo2'",))


def test_zip_input_is_read_and_its_errors_name_the_line(
    home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    good = tmp_path / "EURUSD_good.zip"
    with zipfile.ZipFile(good, "w") as archive:
        archive.writestr("EURUSD.csv", TICK_HEADER + tick_rows("2019-02-06", 10))
    assert imported(home, capsys, good)["rows_kept"] == 10
    bad = tmp_path / "EURUSD_bad.zip"
    with zipfile.ZipFile(bad, "w") as archive:
        archive.writestr("EURUSD.csv", TICK_HEADER + "2019-02-07 00:00:00,0,1.1002\n")
    assert_rejected(home, capsys, bad, line=2, column="bid", says=("zero or negative",))


def test_empty_zip_input_is_called_empty(
    home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "EURUSD.zip"
    with zipfile.ZipFile(path, "w"):
        pass
    error = assert_rejected(home, capsys, path, line=None, column=None, says=("empty",))
    assert "binary" not in error


def test_truncated_gzip_input_is_refused(
    home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "EURUSD.csv.gz"
    path.write_bytes(gzip.compress((TICK_HEADER + tick_rows("2019-02-06", 500)).encode())[:-40])
    assert_rejected(home, capsys, path, line=None, column=None, says=("truncated",))


def test_parquet_input_is_read_and_bad_rows_are_named(
    home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    times = pd.date_range("2019-02-06", periods=5, freq="s", tz="UTC")
    frame = pd.DataFrame({"timestamp": times, "bid": 1.1, "ask": 1.1002})
    good = tmp_path / "EURUSD.parquet"
    frame.to_parquet(good)
    summary = imported(home, capsys, good)
    assert (summary["format"], summary["rows_kept"], summary["first"]) == (
        "parquet-ticks",
        5,
        "2019-02-06T00:00:00Z",
    )
    bars = pd.DataFrame(
        {
            "time": pd.date_range("2019-02-07", periods=3, freq="min", tz="UTC"),
            "open": 1.1,
            "high": [1.2, 0.9, 1.2],
            "low": 1.0,
            "close": 1.1,
        }
    )
    bad = tmp_path / "EURUSD_bars.parquet"
    bars.to_parquet(bad)
    error = assert_rejected(home, capsys, bad, line=None, column="high", says=("high 0.9",))
    assert "row 2" in error


# ---- time zones --------------------------------------------------------------------------------


def mt4_bars(local_hours: list[str]) -> str:
    rows = []
    for index, stamp in enumerate(local_hours):
        price = 1.1200 + index * 0.0001
        day, clock = stamp.split(" ")
        rows.append(
            f"{day},{clock},{price:.4f},{price + 0.0010:.4f},{price - 0.0010:.4f},{price:.4f},100\n"
        )
    return "".join(rows)


def exported_times(home: Path, tmp_path: Path, timeframe: str, since: str) -> list[str]:
    out = tmp_path / "bars.csv"
    assert (
        run(home, "data", "bars", "EURUSD", "-t", timeframe, "--from", since, "-o", str(out)) == 0
    )
    return list(pd.read_csv(out)["time"])


def test_mt_export_in_athens_time_converts_across_the_spring_dst_switch(
    home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # 2019-03-31 04:00 EEST follows 02:59 EET: the broker's clock has no 03:00 bar that day
    local = ["2019.03.31 01:00", "2019.03.31 02:00", "2019.03.31 04:00", "2019.03.31 05:00"]
    path = write_csv(tmp_path / "EURUSD_H1.csv", mt4_bars(local))
    summary = imported(home, capsys, path, "--tz", "Europe/Athens")
    assert (summary["format"], summary["kind"]) == ("mt-bars", "H1")
    assert exported_times(home, tmp_path, "H1", "2019-03-30") == [
        "2019-03-30T23:00:00Z",
        "2019-03-31T00:00:00Z",
        "2019-03-31T01:00:00Z",
        "2019-03-31T02:00:00Z",
    ]


def test_mt_export_in_athens_time_converts_across_the_autumn_dst_switch(
    home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # 2019-10-27: 03:00 EEST (00:00 UTC) then 03:00 EET (01:00 UTC), the same wall-clock hour
    local = ["2019.10.27 02:00", "2019.10.27 03:00", "2019.10.27 03:00", "2019.10.27 04:00"]
    path = write_csv(tmp_path / "EURUSD_H1.csv", mt4_bars(local))
    imported(home, capsys, path, "--tz", "Europe/Athens")
    assert exported_times(home, tmp_path, "H1", "2019-10-26") == [
        "2019-10-26T23:00:00Z",
        "2019-10-27T00:00:00Z",
        "2019-10-27T01:00:00Z",
        "2019-10-27T02:00:00Z",
    ]


def test_mt5_ticks_in_athens_time_run_through_the_autumn_dst_switch(
    home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    header = "<DATE>\t<TIME>\t<BID>\t<ASK>\t<LAST>\t<VOLUME>\t<FLAGS>\n"
    rows = [
        "2019.10.27\t03:59:59.000\t1.1200\t1.1202\t0\t0\t6",  # EEST: 00:59:59 UTC
        "2019.10.27\t03:00:00.500\t1.1201\t1.1203\t0\t0\t6",  # EET: 01:00:00.5 UTC
    ]
    path = write_csv(tmp_path / "EURUSD_ticks.csv", header + "\n".join(rows) + "\n")
    summary = imported(home, capsys, path, "--tz", "Europe/Athens")
    assert (summary["first"], summary["last"]) == (
        "2019-10-27T00:59:59Z",
        "2019-10-27T01:00:00.500Z",
    )
