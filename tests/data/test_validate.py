"""Validation rules: each bad value is reported with file, line, column and what is wrong."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from backtestr.data.sources import CrossedQuotes, open_market_file
from backtestr.data.validate import (
    BarDeduper,
    GapFinder,
    Location,
    OrderTracker,
    check_bars,
    check_symbol_in_name,
)
from backtestr.errors import DataFormatError

WriteFile = Callable[..., Path]  # the write_file fixture
NS_MIN = 60 * 10**9
BARS = "timestamp,open,high,low,close,volume\n"
TICKS = "timestamp,bid,ask\n"


def error_of(path: Path, **options: object) -> str:
    options.setdefault("symbol", "EURUSD")
    with (
        pytest.raises(DataFormatError) as caught,
        open_market_file(path, **options) as reader,  # type: ignore[arg-type]
    ):
        list(reader.chunks())
    return str(caught.value)


def where(first_line: int = 2) -> Location:
    return Location(Path("EURUSD.csv"), first_line, {"time": "timestamp"})


@pytest.mark.parametrize(
    ("row", "expected"),
    [
        ("1.0850,1.0841,1.0850,1.0845,5", "line 3, column 'high': high 1.0841 is below low 1.085"),
        (
            "1.0900,1.0860,1.0840,1.0850,5",
            "line 3, column 'open': open 1.09 is outside the bar's range [low 1.084, high 1.086]",
        ),
        ("1.0850,1.0860,1.0840,1.0830,5", "line 3, column 'close': close 1.083 is outside"),
        ("1.0850,nan,1.0840,1.0850,5", "line 3, column 'high': high is empty or NaN"),
        ("1.0850,inf,1.0840,1.0850,5", "line 3, column 'high': high is inf"),
        ("0,1.0860,1.0840,1.0850,5", "line 3, column 'open': open 0 is zero or negative"),
        ("1.0850,1.0860,-1.0840,1.0850,5", "line 3, column 'low': low -1.084 is zero or negative"),
        ("1.0850,1.0860,,1.0850,5", "line 3, column 'low': low is empty or NaN"),
        ("1.0850,1.0860,1.0840,1.0850,-5", "line 3, column 'volume': volume -5 is negative"),
    ],
)
def test_bad_bar_values(write_file: WriteFile, row: str, expected: str) -> None:
    text = BARS + "2019-02-04 00:00,1.0850,1.0860,1.0840,1.0850,5\n" + f"2019-02-04 00:01,{row}\n"
    message = error_of(write_file("EURUSD.csv", text))
    assert message.startswith("Invalid data format: EURUSD.csv line 3")
    assert expected in message


def test_bidask_bars_name_the_side_column(write_file: WriteFile) -> None:
    text = (
        "timestamp,bid_open,bid_high,bid_low,bid_close,ask_open,ask_high,ask_low,ask_close\n"
        "2019-02-04 00:00,1.1,1.2,1.0,1.1,1.1,1.0,1.2,1.1\n"
    )
    assert "line 2, column 'ask_high': high 1 is below low 1.2" in error_of(
        write_file("b.csv", text)
    )


def test_conflicting_duplicate_bars_name_both_lines(write_file: WriteFile) -> None:
    text = BARS + "2019-02-04 00:00,1.1,1.2,1.0,1.1,5\n2019-02-04 00:00,1.1,1.2,1.0,1.15,5\n"
    message = error_of(write_file("b.csv", text))
    assert (
        "line 3, column 'timestamp': two different bars share timestamp "
        "2019-02-04 00:00:00 UTC (lines 2 and 3)" in message
    )


def test_conflicting_duplicate_across_chunks(write_file: WriteFile) -> None:
    text = BARS + "2019-02-04 00:00,1.1,1.2,1.0,1.1,5\n2019-02-04 00:00,1.1,1.2,1.0,1.15,5\n"
    assert "(lines 2 and 3)" in error_of(write_file("b.csv", text), chunk_rows=1)


def test_tick_errors(write_file: WriteFile) -> None:
    base = TICKS + "2019-02-04 00:00,1.1,1.2\n"
    assert "line 3, column 'bid': bid -1.1 is zero or negative" in error_of(
        write_file("t.csv", base + "2019-02-04 00:01,-1.1,1.2\n")
    )
    assert (
        "line 3, column 'timestamp': timestamp 2019-02-03 23:59:00 UTC goes back in time"
        in error_of(write_file("t.csv", base + "2019-02-03 23:59,1.1,1.2\n"))
    )


def test_crossed_quotes_are_rejected_by_default_with_the_count_of_the_whole_file(
    write_file: WriteFile,
) -> None:
    lines = [f"2019-02-04 00:00:{i:02d},{'1.3' if i % 3 == 0 else '1.1'},1.2" for i in range(60)]
    message = error_of(write_file("t.csv", TICKS + "\n".join(lines) + "\n"), chunk_rows=5)
    assert (
        "line 2, column 'bid': bid 1.3 is above ask 1.2 (a crossed quote); "
        "the file has 20 crossed quotes" in message
    )
    for option in ("keep", "drop", "repair"):
        assert option in message


def test_a_single_crossed_quote_is_counted_in_the_singular_and_names_both_option_spellings(
    write_file: WriteFile,
) -> None:
    text = TICKS + "2019-02-04 00:00:00,1.1,1.2\n2019-02-04 00:00:01,1.3,1.2\n"
    message = error_of(write_file("t.csv", text))
    assert message.count("the file has 1 crossed quote.") == 1
    assert "--crossed keep|drop|repair on the command line" in message
    assert 'crossed="keep"|"drop"|"repair" in Python' in message


def test_symbol_contradicted_by_the_file_name(write_file: WriteFile) -> None:
    path = write_file("GBPUSD_M1_2019.csv", BARS + "2019-02-04 00:00,1.1,1.2,1.0,1.1,5\n")
    assert "the file name says GBPUSD but the symbol is EURUSD" in error_of(path)
    with open_market_file(path, symbol="GBPUSD") as reader:
        assert len(list(reader.chunks())) == 1


def test_symbol_contradicted_by_a_symbol_column(write_file: WriteFile) -> None:
    text = "<SYMBOL>,<DATE>,<TIME>,<BID>,<ASK>\nGBPUSD,2019.02.04,00:00:00.100,1.3,1.4\n"
    message = error_of(write_file("ticks.csv", text))
    assert "line 2, column '<SYMBOL>': the file holds GBPUSD but the symbol is EURUSD" in message
    later = (
        "symbol,timestamp,bid,ask\nEURUSD,2019-02-04 00:00,1.1,1.2\n"
        "EURUSD,2019-02-04 00:01,1.1,1.2\nGBPUSD,2019-02-04 00:02,1.1,1.2\n"
    )
    assert "line 4, column 'symbol': the file holds GBPUSD" in error_of(write_file("s.csv", later))
    broker_suffix = "<SYMBOL>,<DATE>,<TIME>,<BID>,<ASK>\nEURUSDm,2019.02.04,00:00:00.100,1.1,1.2\n"
    with open_market_file(write_file("t2.csv", broker_suffix), symbol="EURUSD") as reader:
        assert len(list(reader.chunks())) == 1


def test_symbol_contradicted_by_the_price_level(write_file: WriteFile) -> None:
    jpy_level = TICKS + "2019-02-04 00:00,109.5,109.6\n"
    assert "look like a JPY pair, but the symbol is EURUSD" in error_of(
        write_file("t.csv", jpy_level)
    )
    unit_level = TICKS + "2019-02-04 00:00,1.1,1.2\n"
    assert "look like a non-JPY pair" in error_of(write_file("t.csv", unit_level), symbol="USDJPY")
    with open_market_file(write_file("x.csv", jpy_level), symbol="XAUUSD") as reader:
        list(reader.chunks())  # no rule for metals: no false alarm


def test_file_name_without_a_pair_is_not_checked() -> None:
    check_symbol_in_name(Path("quote_tick_data.csv"), "EURUSD")
    check_symbol_in_name(Path("FOREX_EURUSD_1H_ASK.csv"), "EURUSD")
    check_symbol_in_name(Path("2006-day-001.txt"), "STOXX50")
    with pytest.raises(DataFormatError):
        check_symbol_in_name(Path("fxcm_usdjpy-m1-bid-2013.csv"), "EURUSD")


def test_check_bars_accepts_flat_bars() -> None:
    flat = np.array([1.1, 1.1])
    check_bars(flat, flat, flat, flat, where())


def test_order_tracker_catches_a_step_back_at_the_start_of_the_next_chunk() -> None:
    tracker = OrderTracker()
    tracker.check(np.array([10, 20], dtype=np.int64), where(2))
    tracker.check(np.array([20, 30], dtype=np.int64), where(4))  # equal is fine
    with pytest.raises(DataFormatError, match=r"line 6.*previous line, 5"):
        tracker.check(np.array([29], dtype=np.int64), where(6))


def test_bar_deduper_drops_verbatim_copies_across_chunks() -> None:
    deduper = BarDeduper()
    columns = [np.array([1.0, 2.0])]
    assert deduper.keep_mask(np.array([1, 2], dtype=np.int64), columns, where(2)) is None
    keep = deduper.keep_mask(np.array([2, 3], dtype=np.int64), [np.array([2.0, 3.0])], where(4))
    assert keep is not None
    assert list(keep) == [False, True]
    assert deduper.dropped == 1


def test_gap_finder_ignores_the_fx_weekend_but_not_a_weekday_silence() -> None:
    friday_close = np.datetime64("2019-02-08T21:59", "ns").astype(np.int64)
    sunday_open = np.datetime64("2019-02-10T22:00", "ns").astype(np.int64)
    monday = np.datetime64("2019-02-11T10:00", "ns").astype(np.int64)
    finder = GapFinder(30 * NS_MIN)
    finder.feed(np.array([friday_close, sunday_open], dtype=np.int64))
    finder.feed(np.array([monday, monday + 31 * NS_MIN], dtype=np.int64))
    assert finder.gaps == [
        (int(sunday_open), int(monday)),
        (int(monday), int(monday + 31 * NS_MIN)),
    ]


def test_a_weekend_extended_by_a_holiday_is_a_gap() -> None:
    thursday = np.datetime64("2019-12-26T10:00", "ns").astype(np.int64)
    sunday = np.datetime64("2019-12-29T22:00", "ns").astype(np.int64)
    finder = GapFinder(30 * NS_MIN)
    finder.feed(np.array([thursday, sunday], dtype=np.int64))
    assert finder.gaps == [(int(thursday), int(sunday))]


def test_crossed_policy_names_are_the_documented_values() -> None:
    assert [c.value for c in CrossedQuotes] == ["reject", "keep", "drop", "repair"]
