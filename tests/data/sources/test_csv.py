"""Structural errors deep in a file (past the detection sample, in later blocks): exact lines."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest

from backtestr.data.sources import open_market_file
from backtestr.errors import DataFormatError
from tests.data.sources.source_files import WriteFile

HEADER = "timestamp,bid,ask\n"


def good_lines(count: int, start_minute: int = 0) -> list[str]:
    base = datetime(2019, 2, 4)
    return [
        f"{base + timedelta(minutes=start_minute + i):%Y-%m-%d %H:%M:%S},1.1,1.2"
        for i in range(count)
    ]


def read_error(path: Path, **options: object) -> str:
    options.setdefault("symbol", "EURUSD")
    options.setdefault("chunk_rows", 50)  # many small blocks: errors land in later blocks
    with (
        pytest.raises(DataFormatError) as caught,
        open_market_file(path, **options) as reader,  # type: ignore[arg-type]
    ):
        list(reader.chunks())
    return str(caught.value)


def with_bad_line(write_file: WriteFile, bad: str, at: int = 700, total: int = 1000) -> Path:
    lines = good_lines(total)
    lines[at - 2] = bad  # physical line `at` (line 1 is the header)
    return write_file("EURUSD.csv", HEADER + "\n".join(lines) + "\n")


def test_missing_field_names_line_and_column(write_file: WriteFile) -> None:
    message = read_error(with_bad_line(write_file, "2019-02-04 11:39:00,1.1"))
    assert "EURUSD.csv line 700, column 'ask': 2 field(s) instead of 3" in message


def test_extra_field_names_line(write_file: WriteFile) -> None:
    message = read_error(with_bad_line(write_file, "2019-02-04 11:39:00,1.1,1.2,9"))
    assert "line 700: 4 fields instead of 3: extra field '9'" in message


def test_unparsable_number(write_file: WriteFile) -> None:
    message = read_error(with_bad_line(write_file, "2019-02-04 11:39:00,1.1,1.2x"))
    assert "line 700, column 'ask': cannot parse '1.2x' as a number" in message


def test_unparsable_timestamp(write_file: WriteFile) -> None:
    message = read_error(with_bad_line(write_file, "2019-02-04 11:39:0O,1.1,1.2"))
    assert "line 700, column 'timestamp': cannot parse timestamp '2019-02-04 11:39:0O'" in message


def test_empty_timestamp(write_file: WriteFile) -> None:
    message = read_error(with_bad_line(write_file, ",1.1,1.2"))
    assert "line 700, column 'timestamp': the timestamp is empty" in message


def test_line_with_the_wrong_delimiter(write_file: WriteFile) -> None:
    message = read_error(with_bad_line(write_file, "2019-02-04 11:39:00;1.1;1.2"))
    assert "line 700" in message
    assert "delimiter looks wrong" in message


def test_binary_garbage_inside_the_file(write_file: WriteFile) -> None:
    lines = "".join(line + "\n" for line in good_lines(4000)).encode()  # past the 64 KB sample
    cut = len(HEADER) + lines.index(b"\n", 90_000) + 1
    data = HEADER.encode() + lines
    data = data[:cut] + b"\xff\xfe\x00\x81garbage\x00\n" + data[cut:]
    path = write_file("EURUSD.csv", data)
    line = data[:cut].count(b"\n") + 1
    message = read_error(path)
    assert f"line {line}" in message
    assert "not UTF-8" in message or "field" in message


def test_truncated_last_line_is_named_as_such(write_file: WriteFile) -> None:
    text = HEADER + "\n".join(good_lines(999)) + "\n2019-02-04 16:39:00,1.1"
    message = read_error(write_file("EURUSD.csv", text))
    assert "line 1001, column 'ask'" in message
    assert "truncated" in message


def test_timestamps_going_back_across_a_block_boundary(write_file: WriteFile) -> None:
    lines = good_lines(1000)
    lines[600:] = good_lines(400, start_minute=100)  # line 602 jumps back in time
    message = read_error(write_file("EURUSD.csv", HEADER + "\n".join(lines) + "\n"))
    assert (
        "line 602, column 'timestamp': timestamp 2019-02-04 01:40:00 UTC goes back in time"
        in message
    )
    assert "the previous line, 601, is at 2019-02-04 09:59:00 UTC" in message


@pytest.mark.parametrize("chunk_rows", [1, 3, 50, 2_000_000])
def test_line_numbers_do_not_depend_on_the_chunk_size(
    write_file: WriteFile, chunk_rows: int
) -> None:
    path = with_bad_line(write_file, "2019-02-04 11:39:00,1.1,0", at=321, total=400)
    message = read_error(path, chunk_rows=chunk_rows)
    assert "line 321, column 'ask': ask 0 is zero or negative" in message


def test_crlf_file_reports_the_same_lines(write_file: WriteFile) -> None:
    lines = good_lines(1000)
    lines[698] = "2019-02-04 11:38:00,1.1,nan"
    path = write_file("EURUSD.csv", (HEADER + "\n".join(lines) + "\n").replace("\n", "\r\n"))
    assert "line 700, column 'ask': ask is empty or NaN" in read_error(path)
