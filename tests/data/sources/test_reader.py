"""Reading each supported format: values, UTC conversion, sides, packaging, stats."""

from __future__ import annotations

import gzip
import zipfile
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from backtestr.data.sources import FORMATS, CrossedQuotes, open_market_file
from backtestr.errors import ConfigError, DataFormatError
from backtestr.model import DataKind, PriceSide, Timeframe
from tests.data.sources.source_files import WriteFile, ns, read_bars, read_ticks

TICKS = (
    "timestamp,bid,ask,volume\n"
    "2019-02-04 00:00:00.994,1.14543,1.14545,2\n"
    "2019-02-04 00:00:01.271,1.14544,1.14546,1\n"
    "2019-02-04 00:00:01.271,1.14545,1.14547,3\n"
)


def test_every_format_is_listed_with_its_kind() -> None:
    assert {"histdata-ticks", "dukascopy-bars", "mt5-ticks", "generic-bars", "parquet-ticks"} <= (
        set(FORMATS)
    )
    assert FORMATS["mt-bars"].kind is DataKind.BARS
    assert FORMATS["generic-ticks"].kind is DataKind.TICKS


def test_generic_ticks_keep_ticks_sharing_a_timestamp_in_file_order(write_file: WriteFile) -> None:
    ticks, reader = read_ticks(write_file("t.csv", TICKS))
    assert reader.format.name == "generic-ticks"
    assert reader.timeframe is None
    assert list(ticks.ts_ns) == [
        ns("2019-02-04 00:00:00.994"),
        ns("2019-02-04 00:00:01.271"),
        ns("2019-02-04 00:00:01.271"),
    ]
    assert list(ticks.bid) == [1.14543, 1.14544, 1.14545]
    # one volume column: the volume traded at the quote, seen by both sides
    assert list(ticks.bid_volume) == list(ticks.ask_volume) == [2.0, 1.0, 3.0]
    stats = reader.stats
    assert (stats.rows_read, stats.rows_kept, stats.duplicate_rows_dropped) == (3, 3, 0)
    assert stats.first_ts_ns == ns("2019-02-04 00:00:00.994")
    assert stats.last_ts_ns == ns("2019-02-04 00:00:01.271")


def test_histdata_ticks_are_est_without_dst(write_file: WriteFile) -> None:
    text = "20200101 170000065,1.121200,1.121720,0\n20200701 170010447,1.121200,1.121920,0\n"
    ticks, reader = read_ticks(write_file("quotes.csv", text))
    assert reader.format.name == "histdata-ticks"
    # fixed UTC-5 in winter AND summer
    assert list(ticks.ts_ns) == [ns("2020-01-01 22:00:00.065"), ns("2020-07-01 22:00:10.447")]
    assert list(ticks.ask) == [1.12172, 1.12192]


def test_histdata_m1_bars_are_est_and_semicolon_separated(write_file: WriteFile) -> None:
    text = (
        "20200101 170000;1.1212;1.1215;1.1210;1.1213;0\n"
        "20200101 170100;1.1213;1.1214;1.1211;1.1212;0\n"
    )
    bars, reader = read_bars(write_file("DAT_ASCII_EURUSD_M1_2020.csv", text))
    assert reader.format.name == "histdata-bars"
    assert reader.timeframe == Timeframe.parse("M1")
    assert list(bars[PriceSide.BID].ts_ns) == [ns("2020-01-01 22:00"), ns("2020-01-01 22:01")]


def test_dukascopy_ticks_map_columns_by_header_name_ask_first(write_file: WriteFile) -> None:
    text = (
        "Gmt time,Ask,Bid,AskVolume,BidVolume\n"
        "04.02.2019 00:00:00.994,1.14545,1.14543,1.0,2.06\n"
        "04.02.2019 00:00:01.271,1.14546,1.14544,1.0,1.0\n"
    )
    ticks, reader = read_ticks(write_file("EURUSD_Ticks.csv", text))
    assert reader.format.name == "dukascopy-ticks"
    assert list(ticks.bid) == [1.14543, 1.14544]
    assert list(ticks.ask) == [1.14545, 1.14546]
    assert list(ticks.bid_volume) == [2.06, 1.0]
    assert list(ticks.ask_volume) == [1.0, 1.0]


def test_dukascopy_bars_with_crlf_and_ask_in_the_name(write_file: WriteFile) -> None:
    text = (
        "Time,Open,High,Low,Close,Volume\r\n"
        "01.01.2017 22:00:00.000,1.05236,1.05253,1.05221,1.05227,143539993.3\r\n"
        "01.01.2017 23:00:00.000,1.05227,1.05426,1.05226,1.05282,253139999.4\r\n"
    )
    bars, reader = read_bars(write_file("FOREX_EURUSD_1H_ASK.csv", text))
    assert reader.format.name == "dukascopy-bars"
    assert reader.side is PriceSide.ASK
    assert reader.timeframe == Timeframe.parse("H1")
    ask = bars[PriceSide.ASK]
    assert list(ask.ts_ns) == [ns("2017-01-01 22:00"), ns("2017-01-01 23:00")]
    assert list(ask.close) == [1.05227, 1.05282]
    assert list(ask.volume) == [143539993.3, 253139999.4]


def test_mt5_bars_with_tab_header_use_tick_volume(write_file: WriteFile) -> None:
    text = (
        "<DATE>\t<TIME>\t<OPEN>\t<HIGH>\t<LOW>\t<CLOSE>\t<TICKVOL>\t<VOL>\t<SPREAD>\n"
        "2019.02.04\t00:00:00\t1.1450\t1.1460\t1.1440\t1.1455\t120\t0\t3\n"
        "2019.02.04\t00:01:00\t1.1455\t1.1465\t1.1450\t1.1460\t80\t0\t2\n"
    )
    bars, reader = read_bars(write_file("EURUSD_M1.csv", text))
    assert reader.format.name == "mt-bars"
    assert list(bars[PriceSide.BID].ts_ns) == [ns("2019-02-04 00:00"), ns("2019-02-04 00:01")]
    assert list(bars[PriceSide.BID].volume) == [120.0, 80.0]


def test_mt4_headerless_bars_in_server_time_with_dst(write_file: WriteFile) -> None:
    text = "2019.02.04,00:00,1.1,1.2,1.0,1.1,100\n2019.07.04,00:00,1.1,1.2,1.0,1.1,100\n"
    bars, reader = read_bars(write_file("EURUSD60.csv", text), tz="Europe/Athens")
    assert reader.format.name == "mt-bars"
    # Athens is UTC+2 in winter, UTC+3 in summer
    assert list(bars[PriceSide.BID].ts_ns) == [ns("2019-02-03 22:00"), ns("2019-07-03 21:00")]


def test_mt5_ticks_carry_the_missing_side_forward_and_skip_incomplete_ones(
    write_file: WriteFile,
) -> None:
    text = (
        "<DATE>\t<TIME>\t<BID>\t<ASK>\t<LAST>\t<VOLUME>\t<FLAGS>\n"
        "2019.02.04\t00:00:00.100\t1.14543\t\t\t\t2\n"
        "2019.02.04\t00:00:00.200\t\t1.14546\t\t\t4\n"
        "2019.02.04\t00:00:00.300\t1.14544\t\t\t\t2\n"
        "2019.02.04\t00:00:00.400\t\t\t1.14545\t1\t8\n"
        "2019.02.04\t00:00:00.500\t\t1.14548\t\t\t4\n"
    )
    ticks, reader = read_ticks(write_file("EURUSD_ticks.csv", text), chunk_rows=2)
    assert reader.format.name == "mt5-ticks"
    # line 2 has no ask yet and line 5 no quote at all: both skipped and counted
    assert list(ticks.bid) == [1.14543, 1.14544, 1.14544]
    assert list(ticks.ask) == [1.14546, 1.14546, 1.14548]
    assert reader.stats.rows_skipped == 2
    assert reader.stats.rows_kept == 3


def test_generic_epoch_milliseconds_with_unnamed_index_column(write_file: WriteFile) -> None:
    text = ",timestamp,bid,ask\n0,1549238400994,1.1,1.2\n1,1549238401000,1.1,1.2\n"
    ticks, _ = read_ticks(write_file("ticks.csv", text))
    assert list(ticks.ts_ns) == [ns("2019-02-04 00:00:00.994"), ns("2019-02-04 00:00:01")]
    seconds = "time,bid,ask\n1549238400,1.1,1.2\n"
    ticks, _ = read_ticks(write_file("seconds.csv", seconds))
    assert list(ticks.ts_ns) == [ns("2019-02-04 00:00:00")]


def test_unnamed_first_column_is_the_index_time(write_file: WriteFile) -> None:
    text = ",Open,High,Low,Close,Volume\n2017-04-19 09:00:00,1.0716,1.0722,1.07083,1.07219,1413\n"
    bars, reader = read_bars(write_file("data.csv", text))
    assert reader.format.name == "generic-bars"
    assert list(bars[PriceSide.BID].high) == [1.0722]


def test_backtrader_layout_ignores_open_interest(write_file: WriteFile) -> None:
    text = (
        "Date,Open,High,Low,Close,Volume,OpenInterest\n"
        "2006-01-02,3578.73,3605.95,3578.73,3604.33,0,0\n"
    )
    bars, _ = read_bars(write_file("2006-day-001.txt", text), symbol="STOXX50")
    assert list(bars[PriceSide.BID].close) == [3604.33]


def test_lean_bidask_bars_yield_both_sides(write_file: WriteFile) -> None:
    text = (
        "timestamp_utc,bid_open,bid_high,bid_low,bid_close,bid_last_size,"
        "ask_open,ask_high,ask_low,ask_close,ask_last_size\n"
        "2014-05-01 00:00:00,1.38676,1.38686,1.38669,1.38686,0,1.38686,1.38697,1.38680,1.38697,0\n"
    )
    bars, reader = read_bars(write_file("EURUSD_bidask.csv", text))
    assert set(bars) == {PriceSide.BID, PriceSide.ASK}
    assert reader.side is None
    assert list(bars[PriceSide.ASK].high) == [1.38697]
    assert list(bars[PriceSide.BID].low) == [1.38669]


def test_side_argument_labels_a_plain_bar_file(write_file: WriteFile) -> None:
    text = "timestamp,open,high,low,close\n2019-02-04 00:00,1.1,1.2,1.0,1.1\n"
    bars, _reader = read_bars(write_file("bars.csv", text), side=PriceSide.ASK)
    assert set(bars) == {PriceSide.ASK}


def test_iso_offsets_win_over_the_tz_argument(write_file: WriteFile) -> None:
    text = "timestamp,bid,ask\n2019-02-04T02:00:00+02:00,1.1,1.2\n"
    ticks, _ = read_ticks(write_file("t.csv", text), tz="America/New_York")
    assert list(ticks.ts_ns) == [ns("2019-02-04 00:00")]


@pytest.mark.parametrize("packaging", ["gz", "zip"])
def test_compressed_files_read_like_plain_ones(tmp_path: Path, packaging: str) -> None:
    if packaging == "gz":
        path = tmp_path / "t.csv.gz"
        path.write_bytes(gzip.compress(TICKS.encode()))
    else:
        path = tmp_path / "t.zip"
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
            archive.writestr("inner/t.csv", TICKS)
    seen: list[int] = []
    with open_market_file(path, symbol="EURUSD") as reader:
        rows = sum(len(chunk) for chunk in reader.chunks(on_progress=seen.append))  # type: ignore[arg-type]
    assert rows == 3
    assert seen
    assert seen[-1] == reader.total_bytes == path.stat().st_size


def test_parquet_ticks_and_bars(tmp_path: Path) -> None:
    times = pa.array([ns("2019-02-04"), ns("2019-02-04 00:01")], pa.timestamp("ns", "UTC"))
    pq.write_table(
        pa.table({"timestamp": times, "bid": [1.1, 1.2], "ask": [1.2, 1.3]}), tmp_path / "t.parquet"
    )
    ticks, reader = read_ticks(tmp_path / "t.parquet")
    assert reader.format.name == "parquet-ticks"
    assert list(ticks.ts_ns) == [ns("2019-02-04"), ns("2019-02-04 00:01")]
    naive = pa.array(["2019-02-04 02:00", "2019-02-04 02:01"])
    table = pa.table(
        {
            "time": naive,
            "open": [1.0, 1.0],
            "high": [2.0, 2.0],
            "low": [0.5, 0.5],
            "close": [1.5, 1.5],
        }
    )
    pq.write_table(table, tmp_path / "b.parquet", row_group_size=1)
    bars, reader = read_bars(tmp_path / "b.parquet", tz="Europe/Athens", chunk_rows=1)
    assert reader.format.name == "parquet-bars"
    assert list(bars[PriceSide.BID].ts_ns) == [ns("2019-02-04 00:00"), ns("2019-02-04 00:01")]


def test_parquet_epoch_integers_and_row_numbers_in_errors(tmp_path: Path) -> None:
    table = pa.table({"ts": [1549238400000, 1549238401000], "bid": [1.1, -1.0], "ask": [1.2, 1.3]})
    pq.write_table(table, tmp_path / "t.parquet")
    with pytest.raises(DataFormatError, match=r"t\.parquet row 2, column 'bid': bid -1") as caught:
        read_ticks(tmp_path / "t.parquet")
    assert (caught.value.row, caught.value.line) == (2, None)


def test_small_chunk_rows_split_the_file_without_losing_rows(write_file: WriteFile) -> None:
    lines = [f"2019-02-04 00:{i // 60:02d}:{i % 60:02d},1.1,1.2" for i in range(500)]
    path = write_file("t.csv", "timestamp,bid,ask\n" + "\n".join(lines))  # no final newline
    with open_market_file(path, symbol="EURUSD", chunk_rows=7) as reader:
        parts = list(reader.chunks())
    assert all(len(p) <= 7 for p in parts)  # type: ignore[arg-type]
    assert sum(len(p) for p in parts) == 500  # type: ignore[arg-type]
    assert reader.stats.rows_kept == 500


def test_blank_lines_and_bom_are_tolerated_with_exact_line_numbers(write_file: WriteFile) -> None:
    text = "\ufefftimestamp,bid,ask\n\n2019-02-04 00:00,1.1,1.2\n\n\n2019-02-04 00:01,1.1,1.2\n\n"
    ticks, _ = read_ticks(write_file("t.csv", text))
    assert len(ticks) == 2
    bad = "\ufefftimestamp,bid,ask\n\n2019-02-04 00:00,1.1,1.2\n\n\n2019-02-04 00:01,1.1,-1\n"
    with pytest.raises(Exception, match=r"t\.csv line 6, column 'ask'"):
        read_ticks(write_file("t.csv", bad))


def test_quoted_fields_are_unquoted(write_file: WriteFile) -> None:
    text = '"timestamp","bid","ask"\n"2019-02-04 00:00","1.1","1.2"\n'
    ticks, _ = read_ticks(write_file("t.csv", text))
    assert list(ticks.ask) == [1.2]


def test_crossed_quote_policies(write_file: WriteFile) -> None:
    text = (
        "timestamp,bid,ask\n"
        "2019-02-04 00:00,1.1,1.2\n2019-02-04 00:01,1.3,1.2\n2019-02-04 00:02,1.1,1.2\n"
    )
    path = write_file("t.csv", text)
    kept, reader = read_ticks(path, crossed=CrossedQuotes.KEEP)
    assert (len(kept), reader.stats.crossed_quotes) == (3, 1)
    dropped, reader = read_ticks(path, crossed=CrossedQuotes.DROP)
    assert (len(dropped), reader.stats.rows_kept, reader.stats.crossed_quotes) == (2, 2, 1)
    repaired, _ = read_ticks(path, crossed=CrossedQuotes.REPAIR)
    assert repaired.bid[1] == repaired.ask[1] == pytest.approx(1.25)
    assert reader.stats.crossed_action is CrossedQuotes.DROP


def test_identical_duplicate_bars_are_dropped_and_counted(write_file: WriteFile) -> None:
    row = "2019-02-04 00:01,1.1,1.2,1.0,1.1"
    text = f"timestamp,open,high,low,close\n2019-02-04 00:00,1.1,1.2,1.0,1.1\n{row}\n{row}\n{row}\n"
    bars, reader = read_bars(write_file("b.csv", text), chunk_rows=1)
    assert len(bars[PriceSide.BID]) == 2
    assert reader.stats.duplicate_rows_dropped == 2


def test_gaps_outside_the_weekend_are_reported(write_file: WriteFile) -> None:
    text = (
        "timestamp,bid,ask\n"
        "2019-02-04 10:00,1.1,1.2\n"
        "2019-02-04 12:00,1.1,1.2\n"  # Monday: a 2 h silence
        "2019-02-08 21:00,1.1,1.2\n"  # ... then the weekend is not a gap
        "2019-02-10 22:30,1.1,1.2\n"
    )
    _, reader = read_ticks(write_file("t.csv", text))
    assert reader.stats.gaps[0] == (ns("2019-02-04 10:00"), ns("2019-02-04 12:00"))
    assert (ns("2019-02-08 21:00"), ns("2019-02-10 22:30")) not in reader.stats.gaps


def test_bad_arguments_are_config_errors(write_file: WriteFile) -> None:
    path = write_file("t.csv", TICKS)
    with pytest.raises(ConfigError, match="Did you mean 'mt-bars'"):
        open_market_file(path, symbol="EURUSD", format="mt-bar")
    with pytest.raises(ConfigError, match="Unknown time zone"):
        open_market_file(path, symbol="EURUSD", tz="Mars/Olympus")


def test_progress_reports_bytes_up_to_the_file_size(write_file: WriteFile) -> None:
    path = write_file("t.csv", TICKS * 1)
    seen: list[int] = []
    with open_market_file(path, symbol="EURUSD") as reader:
        list(reader.chunks(on_progress=seen.append))
    assert seen[-1] == path.stat().st_size
    assert np.all(np.diff(seen) >= 0)


def _peak_memory_reading(path: Path, chunk_rows: int) -> tuple[int, int]:
    import tracemalloc

    tracemalloc.start()
    try:
        with open_market_file(path, symbol="EURUSD", chunk_rows=chunk_rows) as reader:
            rows = sum(len(chunk) for chunk in reader.chunks())  # type: ignore[arg-type]
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return rows, peak


def _minute_ticks(path: Path, count: int) -> Path:
    minutes = np.arange(count, dtype=np.int64)
    stamps = (np.datetime64("2019-02-04T00:00", "s") + minutes.astype("timedelta64[s]")).astype(str)
    with path.open("w") as sink:
        sink.write("timestamp,bid,ask\n")
        sink.writelines(f"{s},1.1,1.2\n" for s in stamps)
    return path


def test_memory_stays_bounded_by_chunk_rows_not_file_size(tmp_path: Path) -> None:
    small = _minute_ticks(tmp_path / "small.csv", 50_000)
    big = _minute_ticks(tmp_path / "big.csv", 400_000)
    _peak_memory_reading(small, 10_000)  # load the compiled kernels before measuring
    rows_small, peak_small = _peak_memory_reading(small, 10_000)
    rows_big, peak_big = _peak_memory_reading(big, 10_000)
    assert (rows_small, rows_big) == (50_000, 400_000)
    assert peak_big < 1.5 * peak_small  # eight times the rows, about the same memory
    assert peak_big < big.stat().st_size / 3


def test_a_local_time_skipped_by_the_spring_switch_is_named_with_its_line(
    write_file: WriteFile,
) -> None:
    path = write_file(
        "t.csv",
        "timestamp,bid,ask\n2019-03-31 02:59:59,1.1,1.1002\n2019-03-31 03:00:00.5,1.1,1.1002\n",
    )
    with pytest.raises(
        DataFormatError,
        match=r"t\.csv line 3, column 'timestamp': 2019-03-31 03:00:00\.5 does not exist in "
        r"Europe/Athens: the clocks jumped from 2019-03-31 03:00 to 2019-03-31 04:00\. Check --tz",
    ):
        read_ticks(path, tz="Europe/Athens")


def test_the_arrow_path_resolves_the_repeated_autumn_hour_too(write_file: WriteFile) -> None:
    # a symbol column sends the block through Arrow rather than the compiled tokenizer
    rows = [("03:59:59.000", "1.1200"), ("03:00:00.500", "1.1201"), ("03:30:00.000", "1.1202")]
    text = "<SYMBOL>\t<DATE>\t<TIME>\t<BID>\t<ASK>\n" + "".join(
        f"EURUSD\t2019.10.27\t{clock}\t{bid}\t1.1300\n" for clock, bid in rows
    )
    ticks, _ = read_ticks(write_file("ticks.csv", text), tz="Europe/Athens")
    assert list(ticks.ts_ns) == [
        ns("2019-10-27 00:59:59"),
        ns("2019-10-27 01:00:00.5"),
        ns("2019-10-27 01:30"),
    ]


def test_progress_moves_while_one_block_is_consumed_piece_by_piece(write_file: WriteFile) -> None:
    from backtestr.data.sources._csv import _THREADS

    if _THREADS < 2:
        pytest.skip("a block is parsed in pieces only with two or more cores")
    start = np.datetime64("2019-02-04T00:00:00", "ms")
    lines = [f"{start + np.timedelta64(i, 'ms')},1.1,1.1002,1\n" for i in range(80_000)]
    path = write_file("t.csv", "timestamp,bid,ask,volume\n" + "".join(lines).replace("T", " "))
    seen: list[int] = []
    with open_market_file(path, symbol="EURUSD") as reader:
        rows = sum(len(chunk) for chunk in reader.chunks(on_progress=seen.append))  # type: ignore[arg-type]
    assert rows == 80_000
    assert len(seen) >= 2
    assert 0 < seen[0] < path.stat().st_size * 0.75
    assert np.all(np.diff(seen) > 0)
    assert seen[-1] == path.stat().st_size


@pytest.mark.parametrize("packaging", ["plain", "gzip"])
def test_progress_advances_block_by_block_to_the_file_size(
    write_file: WriteFile, packaging: str
) -> None:
    # random volumes, so that gzip cannot squeeze the file below its read-ahead buffer
    volumes = np.random.default_rng(5).integers(0, 10**9, 40_000)
    start = np.datetime64("2019-02-04T00:00:00", "ms")
    lines = [
        f"{start + np.timedelta64(i, 'ms')},1.1,1.1002,{v}\n".replace("T", " ")
        for i, v in enumerate(volumes)
    ]
    text = ("timestamp,bid,ask,volume\n" + "".join(lines)).encode()
    data = gzip.compress(text) if packaging == "gzip" else text
    path = write_file("t.csv.gz" if packaging == "gzip" else "t.csv", data)
    seen: list[int] = []
    with open_market_file(path, symbol="EURUSD", chunk_rows=2000) as reader:
        list(reader.chunks(on_progress=seen.append))
    assert len(set(seen)) >= 4
    assert np.all(np.diff(seen) >= 0)
    assert seen[-1] == path.stat().st_size
