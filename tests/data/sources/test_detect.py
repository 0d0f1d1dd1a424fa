"""Format detection: what is recognised, and what is refused with a precise message."""

from __future__ import annotations

import gzip
import zipfile
from pathlib import Path

import pytest

from backtestr.data.sources import open_market_file
from backtestr.errors import DataFormatError, FormatDetectionError
from tests.data.sources.source_files import WriteFile


def fails(path: Path, pattern: str, **options: object) -> DataFormatError:
    options.setdefault("symbol", "EURUSD")
    with (
        pytest.raises(DataFormatError, match=pattern) as caught,
        open_market_file(path, **options) as reader,  # type: ignore[arg-type]
    ):
        list(reader.chunks())
    message = str(caught.value)
    assert message.startswith("Invalid data format: " + path.name)
    return caught.value


def test_empty_file(write_file: WriteFile) -> None:
    fails(write_file("e.csv", ""), "the file is empty")


def test_header_only_file(write_file: WriteFile) -> None:
    fails(write_file("h.csv", "timestamp,bid,ask\n"), "no data")


def test_binary_garbage_is_not_text_and_gets_no_line(write_file: WriteFile) -> None:
    error = fails(write_file("g.csv", b"a,b\n" * 3 + bytes(range(256)) * 4), "looks binary")
    assert isinstance(error, FormatDetectionError)
    assert error.line is None
    assert "Formats tried" not in str(error)
    no_nul = bytes(range(1, 256)) * 4
    assert fails(write_file("n.csv", no_nul), r"n\.csv: the file looks binary").line is None


def test_latin1_text_is_refused_with_its_line(write_file: WriteFile) -> None:
    fails(
        write_file("l.csv", b"timestamp,bid,ask\nd\xe9j\xe0,1,2\n"),
        r"line 2: the file is not UTF-8",
    )


def test_unknown_layout_lists_the_formats_tried_and_suggests_format(write_file: WriteFile) -> None:
    error = fails(write_file("u.csv", "1,2,3\n4,5,6\n"), "no known headerless layout")
    assert isinstance(error, FormatDetectionError)
    assert "histdata-ticks" in str(error)
    assert "--format" in str(error)


def test_one_column_file_says_the_delimiter_looks_wrong(write_file: WriteFile) -> None:
    fails(write_file("o.csv", "timestamp bid ask\n2019-02-04 1.1 1.2\n"), "delimiter looks wrong")


def test_semicolon_file_forced_as_comma_format_says_the_delimiter_looks_wrong(
    write_file: WriteFile,
) -> None:
    path = write_file("q.csv", "20200101 170000065;1.1212;1.1217;0\n")
    error = fails(
        path, r"line 1: expected comma-separated .* delimiter looks wrong", format="histdata-ticks"
    )
    assert isinstance(error, FormatDetectionError)


def test_a_short_last_line_in_the_sample_is_called_truncated(write_file: WriteFile) -> None:
    error = fails(
        write_file("w.csv", "timestamp,bid,ask\n2019-02-04,1.1,1.2\n\n2019-02-05,1.1"),
        r"line 4, column 'ask': 2 field\(s\) instead of 3: column 'ask' is missing\. The last "
        "line looks truncated",
    )
    assert isinstance(error, DataFormatError)


def test_a_short_line_inside_the_sample_is_named_without_calling_it_truncated(
    write_file: WriteFile,
) -> None:
    error = fails(
        write_file("w.csv", "timestamp,bid,ask\n2019-02-05,1.1\n2019-02-04,1.1,1.2\n"),
        r"line 2, column 'ask': 2 field\(s\) instead of 3",
    )
    assert "truncated" not in str(error)


def test_a_line_with_another_delimiter_in_the_sample_names_it(write_file: WriteFile) -> None:
    fails(
        write_file("w.csv", "timestamp,bid,ask\n2019-02-04;1.1;1.2\n2019-02-05,1.1,1.2\n"),
        r"line 2, column 'bid': 1 field\(s\) instead of 3: .*delimiter looks wrong \(the line "
        r"contains ';'\)",
    )


def test_unknown_column_names_the_column_and_lists_known_names(write_file: WriteFile) -> None:
    error = fails(
        write_file("c.csv", "timestamp,bid,ask,colour\n2019-02-04,1.1,1.2,red\n"),
        "unknown column 'colour'",
    )
    assert "line 1, column 'colour'" in str(error)
    assert "openinterest" in str(error)


def test_missing_price_column(write_file: WriteFile) -> None:
    fails(
        write_file("m.csv", "timestamp,open,high,close\n2019-02-04,1.1,1.2,1.1\n"),
        r"line 1, column 'low': missing column 'low'",
    )
    fails(write_file("a.csv", "timestamp,bid\n2019-02-04,1.1\n"), r"missing column 'ask'")
    fails(write_file("t.csv", "bid,ask\n1.1,1.2\n"), r"missing column 'timestamp'")


def test_unparsable_timestamp_in_the_sample(write_file: WriteFile) -> None:
    error = fails(
        write_file("s.csv", "timestamp,bid,ask\n2019-02-04,1.1,1.2\nyesterday,1.1,1.2\n"),
        r"line 3, column 'timestamp': cannot parse timestamp 'yesterday'",
    )
    assert isinstance(error, FormatDetectionError)


def test_forcing_a_format_of_the_other_kind_is_refused(write_file: WriteFile) -> None:
    path = write_file("t.csv", "timestamp,bid,ask\n2019-02-04,1.1,1.2\n")
    fails(path, "looks like generic-ticks .*not generic-bars", format="generic-bars")
    fails(path, "not parquet-ticks", format="parquet-ticks")


def test_forcing_a_format_the_lines_contradict_is_refused_naming_what_was_found(
    write_file: WriteFile,
) -> None:
    path = write_file("t.csv", "timestamp,bid,ask\n2019-02-04 00:00,1.1,1.2\n")
    error = fails(path, "looks like generic-ticks .*not histdata-ticks", format="histdata-ticks")
    assert "a header line, comma-separated, YYYY-MM-DD times" in str(error)
    assert "--format generic-ticks" in str(error)
    duka = write_file("d.csv", "Time,Ask,Bid\n04.02.2019 00:00:00.994,1.14545,1.14543\n")
    fails(duka, "looks like dukascopy-ticks .*not mt5-ticks", format="mt5-ticks")


def test_forcing_the_generic_format_reads_any_file_with_a_header(write_file: WriteFile) -> None:
    path = write_file("d.csv", "Time,Ask,Bid\n04.02.2019 00:00:00.994,1.14545,1.14543\n")
    with open_market_file(path, symbol="EURUSD", format="generic-ticks") as reader:
        chunk = next(iter(reader.chunks()))
    assert reader.format.name == "generic-ticks"
    assert int(chunk.ts_ns[0]) == 1549238400994 * 10**6  # type: ignore[union-attr]


def test_forcing_histdata_reads_headerless_lines_detection_cannot_place(
    write_file: WriteFile,
) -> None:
    path = write_file("t.csv", "20200101 170000,1.1212,1.1217\n")
    fails(path, "no known headerless layout")
    with open_market_file(path, symbol="EURUSD", format="histdata-ticks") as reader:
        chunk = next(iter(reader.chunks()))
    assert reader.format.name == "histdata-ticks"
    assert int(chunk.ts_ns[0]) == 1577916000 * 10**9  # type: ignore[union-attr]  # 22:00 UTC


def test_gz_name_without_gzip_content(write_file: WriteFile) -> None:
    fails(write_file("t.csv.gz", "timestamp,bid,ask\n"), "not gzip-compressed")


def test_truncated_gzip_is_reported(tmp_path: Path) -> None:
    data = gzip.compress(("timestamp,bid,ask\n" + "2019-02-04 00:00,1.1,1.2\n" * 5000).encode())
    path = tmp_path / "t.csv.gz"
    path.write_bytes(data[: len(data) // 2])
    fails(path, "corrupt or truncated|truncated last line|missing|timestamp")


def test_zip_with_several_members_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "two.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("a.csv", "x")
        archive.writestr("b.csv", "y")
    fails(path, "exactly one data file, this one holds 2")


def test_zip_without_a_file_is_called_empty(tmp_path: Path) -> None:
    empty = tmp_path / "empty.zip"
    with zipfile.ZipFile(empty, "w"):
        pass
    fails(empty, r"empty\.zip: the zip archive is empty")
    folder_only = tmp_path / "folder.zip"
    with zipfile.ZipFile(folder_only, "w") as archive:
        archive.writestr("data/", "")
    fails(folder_only, r"folder\.zip: the zip archive is empty")


def test_missing_file(tmp_path: Path) -> None:
    fails(tmp_path / "nope.csv", "file not found")


def test_bare_carriage_returns_are_refused(write_file: WriteFile) -> None:
    fails(write_file("mac.csv", "timestamp,bid,ask\r2019-02-04,1.1,1.2\r"), "carriage return")


def test_parquet_that_is_corrupt(write_file: WriteFile) -> None:
    fails(write_file("c.parquet", b"PAR1" + b"\x00" * 100), "Parquet file is corrupt")
