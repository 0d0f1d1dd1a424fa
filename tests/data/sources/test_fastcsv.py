"""The compiled tokenizer agrees exactly with Python's float() and the timestamp parser, and
gives up (rather than guess) on anything outside its plain subset."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from backtestr.data.sources._fastcsv import (
    KIND_CLOCK,
    KIND_DATE,
    KIND_NUMBER,
    KIND_SKIP,
    KIND_TIME,
    count_lines,
    parse_block,
)
from backtestr.data.sources._timestamps import LAYOUTS, parse_timestamps

ISO = next(layout for layout in LAYOUTS if layout.name == "iso")
YMD_DOT = next(layout for layout in LAYOUTS if layout.name == "ymd-dot")
TICK_KINDS = np.array([KIND_TIME, KIND_NUMBER, KIND_NUMBER], dtype=np.int8)


def block(text: str) -> np.ndarray:
    return np.frombuffer(text.encode(), dtype=np.uint8)


def joined(
    result: tuple[list[tuple[np.ndarray, np.ndarray]], bool, int, list[int]] | None,
) -> tuple[np.ndarray, np.ndarray, bool, int] | None:
    """The pieces of a parse, end to end."""
    if result is None:
        return None
    pieces, zoned, rows, ends = result
    assert len(ends) == len(pieces)
    assert ends == sorted(ends)
    ts = np.concatenate([t for t, _ in pieces])
    values = np.concatenate([v for _, v in pieces], axis=1)
    return ts, values, zoned, rows


def parse_ticks(text: str, threads: int = 1) -> tuple[np.ndarray, np.ndarray, bool, int] | None:
    return joined(
        parse_block(block(text), ord(","), TICK_KINDS, ISO.order, ISO.separator, 2, threads)
    )


prices = st.builds(
    lambda whole, frac, digits: f"{whole}.{frac:0{digits}d}" if digits else str(whole),
    st.integers(0, 99_999),
    st.integers(0, 99_999_999),
    st.integers(0, 8),
).filter(lambda text: len(text.replace(".", "").lstrip("0")) <= 15)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(prices, prices), min_size=1, max_size=20), st.booleans())
def test_numbers_match_python_float_exactly(pairs: list[tuple[str, str]], crlf: bool) -> None:
    end = "\r\n" if crlf else "\n"
    text = "".join(
        f"2019-02-04 00:00:{i % 60:02d}.5,{a},{b}{end}" for i, (a, b) in enumerate(pairs)
    )
    result = parse_ticks(text)
    assert result is not None
    ts, values, zoned, rows = result
    assert rows == len(pairs)
    assert not zoned
    assert list(values[0]) == [float(a) for a, _ in pairs]
    assert list(values[1]) == [float(b) for _, b in pairs]
    stamps = [f"2019-02-04 00:00:{i % 60:02d}.5" for i in range(len(pairs))]
    assert list(ts) == list(parse_timestamps(pa.array(stamps), ISO).ns)


def test_empty_numbers_are_missing_and_the_last_line_needs_no_line_end() -> None:
    result = parse_ticks("2019-02-04 00:00,1.5,\n2019-02-04 00:01,,2")
    assert result is not None
    _, values, _, rows = result
    assert rows == 2
    assert np.isnan(values[1][0])
    assert np.isnan(values[0][1])
    assert values[1][1] == 2.0


def test_split_date_and_time_columns_are_summed() -> None:
    kinds = np.array([KIND_DATE, KIND_CLOCK, KIND_NUMBER, KIND_SKIP], dtype=np.int8)
    result = joined(
        parse_block(
            block("2019.02.04\t01:02:03.500\t1.1\tx\n"),
            9,
            kinds,
            YMD_DOT.order,
            YMD_DOT.separator,
            1,
        )
    )
    assert result is not None
    expected = np.datetime64("2019-02-04T01:02:03.500", "ns").astype(np.int64)
    assert int(result[0][0]) == expected


def test_zoned_timestamps_are_flagged() -> None:
    result = parse_ticks("2019-02-04T00:00:00Z,1,2\n")
    assert result is not None
    assert result[2] is True


@given(
    st.sampled_from(
        [
            "2019-02-04,1e5,2\n",  # exponent
            "2019-02-04,nan,2\n",  # words
            '2019-02-04,"1",2\n',  # quotes
            "2019-02-04,1,2,3\n",  # extra field
            "2019-02-04,1\n",  # missing field
            "\n2019-02-04,1,2\n",  # blank line
            "2019-02-04,1.2.3,2\n",  # two dots
            "2019-02-04,1234567890123456,2\n",  # 16 significant digits
            "yesterday,1,2\n",  # bad timestamp
            "2019-02-04Z,1,2\n2019-02-05,1,2\n",  # bad zone
            "2019-02-04 00:00Z,1,2\n2019-02-05 00:00,1,2\n",  # mixed zones
            "2019-02-04,-,2\n",  # a sign alone
            "2019-02-04,.,2\n",  # a dot alone
        ]
    )
)
def test_anything_unusual_is_left_to_the_general_reader(text: str) -> None:
    assert parse_ticks(text) is None


def test_output_estimate_too_small_is_recounted() -> None:
    head = "2019-02-04 00:00:00.123456789,1.123456789,1.123456789\n" * 2000
    tail = "2019-02-05,1,2\n" * 20_000  # much shorter lines than the head suggests
    result = parse_ticks(head + tail)
    assert result is not None
    assert result[3] == 22_000 == count_lines(block(head + tail))


def test_parallel_pieces_give_the_same_rows_as_one_piece() -> None:
    rng = np.random.default_rng(3)
    bids = rng.integers(100_000, 200_000, 80_000) / 1e5
    lines = [
        f"2019-02-04 00:00:{i % 60:02d}.{i % 1000:03d},{b},{b + 0.0001:.5f}"
        for i, b in enumerate(bids)
    ]
    text = "\n".join(lines)  # ~3.5 MB, no final line end
    one = parse_ticks(text)
    assert one is not None
    for threads in (2, 3):
        many = parse_ticks(text, threads)
        assert many is not None
        assert many[3] == one[3] == 80_000
        np.testing.assert_array_equal(many[0], one[0])
        np.testing.assert_array_equal(many[1], one[1])
