"""Fuzzing: whatever the bytes, only our DataFormatError family escapes (never a crash)."""

from __future__ import annotations

import gzip
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from backtestr.data.sources import FORMATS, CrossedQuotes, open_market_file
from backtestr.errors import DataFormatError

SEEDS = [
    b"timestamp,bid,ask,volume\n2019-02-04 00:00:00.994,1.14543,1.14545,2\n"
    b"2019-02-04 00:00:01.271,1.14544,1.14546,1\n2019-02-04 00:00:02.000,1.14545,1.14547,3\n",
    b"20200101 170000065,1.121200,1.121720,0\n20200101 170010447,1.121200,1.121920,0\n",
    b"20200101 170000;1.1212;1.1215;1.1210;1.1213;0\n"
    b"20200101 170100;1.1213;1.1214;1.1211;1.1212;0\n",
    b"Time,Open,High,Low,Close,Volume\r\n01.01.2017 22:00:00.000,1.05236,1.05253,1.05221,1.05227,1"
    b"\r\n01.01.2017 23:00:00.000,1.05227,1.05426,1.05226,1.05282,2\r\n",
    b"2019.02.04,00:00,1.1,1.2,1.0,1.1,100\n2019.02.04,00:01,1.1,1.2,1.0,1.1,100\n",
    b"<DATE>\t<TIME>\t<BID>\t<ASK>\t<LAST>\t<VOLUME>\t<FLAGS>\n"
    b"2019.02.04\t00:00:00.100\t1.1\t\t\t\t2\n"
    b"2019.02.04\t00:00:00.200\t\t1.2\t\t\t4\n",
    b"timestamp_utc,bid_open,bid_high,bid_low,bid_close,bid_last_size,ask_open,ask_high,ask_low,"
    b"ask_close,ask_last_size\n2014-05-01 00:00:00,1.38676,1.38686,1.38669,1.38686,0,1.38686,"
    b"1.38697,1.38680,1.38697,0\n",
    b",Open,High,Low,Close,Volume\n2017-04-19 09:00:00,1.0716,1.0722,1.07083,1.07219,1413\n",
    b"time,bid,ask\n1549238400994,1.1,1.2\n1549238401994,1.1,1.2\n",
]

FUZZ = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def _read(content: bytes, compress: bool, format: str | None, crossed: CrossedQuotes) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / ("data.csv.gz" if compress else "data.csv")
        path.write_bytes(gzip.compress(content) if compress else content)
        try:
            with open_market_file(
                path, symbol="EURUSD", format=format, crossed=crossed, chunk_rows=2
            ) as reader:
                for _ in reader.chunks():
                    pass
        except DataFormatError as error:
            message = str(error)
        else:
            return
    assert message.startswith("Invalid data format: ")


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    data = bytearray(draw(st.sampled_from(SEEDS)))
    for _ in range(draw(st.integers(1, 3))):
        kind = draw(st.sampled_from(["truncate", "inject", "delete", "swap-delimiter", "dup-line"]))
        position = draw(st.integers(0, max(0, len(data) - 1)))
        if kind == "truncate":
            del data[position:]
        elif kind == "inject":
            data[position:position] = draw(st.binary(min_size=1, max_size=8))
        elif kind == "delete":
            del data[position : position + draw(st.integers(1, 10))]
        elif kind == "swap-delimiter":
            old, new = draw(st.permutations([b",", b";", b"\t", b" ", b"."]))[:2]
            data = bytearray(bytes(data).replace(old, new))
        else:
            lines = bytes(data).split(b"\n")
            index = draw(st.integers(0, len(lines) - 1))
            lines.insert(index, lines[index])
            data = bytearray(b"\n".join(lines))
    return bytes(data)


options = {
    "compress": st.booleans(),
    "format": st.one_of(st.none(), st.sampled_from(sorted(FORMATS))),
    "crossed": st.sampled_from(list(CrossedQuotes)),
}


@FUZZ
@given(content=st.binary(max_size=300), **options)
def test_random_bytes_never_escape_as_anything_but_data_format_errors(
    content: bytes, compress: bool, format: str | None, crossed: CrossedQuotes
) -> None:
    _read(content, compress, format, crossed)


@FUZZ
@given(content=mutated(), **options)
def test_mutated_valid_files_never_escape_as_anything_but_data_format_errors(
    content: bytes, compress: bool, format: str | None, crossed: CrossedQuotes
) -> None:
    _read(content, compress, format, crossed)


@FUZZ
@given(
    lines=st.lists(
        st.text(alphabet="0123456789-:. ,;TZ+abn\t\r", min_size=0, max_size=40), max_size=8
    ),
    header=st.sampled_from(["timestamp,bid,ask\n", "timestamp,open,high,low,close\n", ""]),
)
def test_text_with_csv_like_characters_never_crashes(lines: list[str], header: str) -> None:
    _read((header + "\n".join(lines)).encode(), False, None, CrossedQuotes.REJECT)
