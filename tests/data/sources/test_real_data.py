"""Every relevant real file in shared/data/real imports with the right rows and UTC range."""

from __future__ import annotations

from pathlib import Path

import pytest

from backtestr.data.sources import CrossedQuotes, open_market_file
from backtestr.errors import DataFormatError, FormatDetectionError
from backtestr.model import PriceSide, TickArrays, Timeframe
from tests.data.sources.source_files import ns, read_bars, read_ticks

pytestmark = pytest.mark.realdata

# file, symbol, format, rows, first (UTC), last (UTC), timeframe, side(s)
BAR_FILES = [
    (
        "dukascopy_eurusd/EURUSD_M1_BID_20190204-20190205_UTC.csv",
        "EURUSD",
        "generic-bars",
        2880,
        "2019-02-04 00:00",
        "2019-02-05 23:59",
        "M1",
        "bid",
    ),
    (
        "dukascopy_eurusd/EURUSD_H1_BID_201901-201902_UTC.csv",
        "EURUSD",
        "generic-bars",
        1416,
        "2019-01-01 00:00",
        "2019-02-28 23:00",
        "H1",
        "bid",
    ),
    (
        "dukascopy_eurusd/EURUSD_D1_BID_2018-2019_UTC.csv",
        "EURUSD",
        "generic-bars",
        730,
        "2018-01-01",
        "2019-12-31",
        "D1",
        "bid",
    ),
    (
        "lean_eurusd/converted/EURUSD_OANDA_M1_bidask_20140501-20140515_UTC.csv",
        "EURUSD",
        "generic-bars",
        15366,
        "2014-05-01 00:00",
        "2014-05-15 23:59",
        "M1",
        "bidask",
    ),
    (
        "lean_eurusd/converted/EURUSD_OANDA_H1_bidask_2007-2018_UTC.csv.gz",
        "EURUSD",
        "generic-bars",
        74439,
        "2007-01-01 21:00",
        "2018-12-31 21:00",
        "H1",
        "bidask",
    ),
    (
        "lean_eurusd/converted/EURUSD_OANDA_D1_bidask_2007-2018_UTC.csv",
        "EURUSD",
        "generic-bars",
        3738,
        "2007-01-01",
        "2018-12-31",
        "D1",
        "bidask",
    ),
    (
        "nautilus_fx/fxcm_gbpusd-m1-bid-2012.csv",
        "GBPUSD",
        "generic-bars",
        30117,
        "2012-02-01 00:00",
        "2012-03-01 00:00",
        "M1",
        "bid",
    ),
    (
        "nautilus_fx/fxcm_gbpusd-m1-ask-2012.csv",
        "GBPUSD",
        "generic-bars",
        30117,
        "2012-02-01 00:00",
        "2012-03-01 00:00",
        "M1",
        "ask",
    ),
    (
        "nautilus_fx/fxcm_usdjpy-m1-bid-2013.csv",
        "USDJPY",
        "generic-bars",
        28761,
        "2013-02-01 00:00",
        "2013-03-01 00:00",
        "M1",
        "bid",
    ),
    (
        "nautilus_fx/fxcm_usdjpy-m1-ask-2013.csv",
        "USDJPY",
        "generic-bars",
        28761,
        "2013-02-01 00:00",
        "2013-03-01 00:00",
        "M1",
        "ask",
    ),
    (
        "backtesting_py/EURUSD.csv",
        "EURUSD",
        "generic-bars",
        5000,
        "2017-04-19 09:00",
        "2018-02-07 15:00",
        "H1",
        "bid",
    ),
    (
        "backtesting_py/GOOG.csv",
        "GOOG",
        "generic-bars",
        2148,
        "2004-08-19",
        "2013-03-01",
        "D1",
        "bid",
    ),
    (
        "gym_anytrading/FOREX_EURUSD_1H_ASK.csv",
        "EURUSD",
        "dukascopy-bars",
        6225,
        "2017-01-01 22:00",
        "2017-12-29 21:00",
        "H1",
        "ask",
    ),
    (
        "backtrader/2006-day-001.txt",
        "STOXX50",
        "generic-bars",
        255,
        "2006-01-02",
        "2006-12-29",
        "D1",
        "bid",
    ),
]

TICK_FILES = [
    (
        "dukascopy_eurusd/EURUSD_ticks_20190204-20190205_UTC.csv",
        "EURUSD",
        "generic-ticks",
        266219,
        "2019-02-04 00:00:00.994",
        "2019-02-05 23:59:59.765",
    ),
    (
        "lean_eurusd/converted/EURUSD_OANDA_ticks_20140501-20140515_UTC.csv.gz",
        "EURUSD",
        "generic-ticks",
        532903,
        "2014-05-01 00:00:00.292",
        "2014-05-15 23:59:56.324",
    ),
    (
        "nautilus_fx/truefx_usdjpy-ticks.csv",
        "USDJPY",
        "generic-ticks",
        1000,
        "2013-01-01 22:00:00.295",
        "2013-01-01 22:35:13.494",
    ),
    # HistData: EST without DST, so 17:00:00.065 EST is 22:00:00.065 UTC
    (
        "nautilus_fx/quote_tick_data.csv",
        "EURUSD",
        "histdata-ticks",
        9500,
        "2020-01-01 22:00:00.065",
        "2020-01-02 04:00:52.125",
    ),
]

FXCM_TICKS = "lean_eurusd/converted/EURUSD_FXCM_ticks_20140501-20140515_UTC.csv.gz"
FXCM_ROWS = 1_144_807


@pytest.mark.parametrize(
    ("name", "symbol", "format", "rows", "first", "last", "timeframe", "sides"), BAR_FILES
)
def test_real_bar_files(
    real_data: Path,
    name: str,
    symbol: str,
    format: str,
    rows: int,
    first: str,
    last: str,
    timeframe: str,
    sides: str,
) -> None:
    bars, reader = read_bars(real_data / name, symbol=symbol)
    assert reader.format.name == format
    assert reader.timeframe == Timeframe.parse(timeframe)
    expected = {PriceSide.BID, PriceSide.ASK} if sides == "bidask" else {PriceSide(sides)}
    assert set(bars) == expected
    for side_bars in bars.values():
        assert len(side_bars) == rows
        assert int(side_bars.ts_ns[0]) == ns(first)
        assert int(side_bars.ts_ns[-1]) == ns(last)
    stats = reader.stats
    assert (stats.rows_read, stats.rows_kept, stats.duplicate_rows_dropped) == (rows, rows, 0)
    assert (stats.first_ts_ns, stats.last_ts_ns) == (ns(first), ns(last))


@pytest.mark.parametrize(("name", "symbol", "format", "rows", "first", "last"), TICK_FILES)
def test_real_tick_files(
    real_data: Path, name: str, symbol: str, format: str, rows: int, first: str, last: str
) -> None:
    ticks, reader = read_ticks(real_data / name, symbol=symbol)
    assert reader.format.name == format
    assert len(ticks) == rows == reader.stats.rows_kept
    assert (int(ticks.ts_ns[0]), int(ticks.ts_ns[-1])) == (ns(first), ns(last))
    assert reader.stats.crossed_quotes == 0


def test_real_values_match_the_first_data_lines(real_data: Path) -> None:
    ticks, _ = read_ticks(real_data / TICK_FILES[0][0])
    assert (ticks.bid[0], ticks.ask[0], ticks.bid_volume[0], ticks.ask_volume[0]) == (
        1.14543,
        1.14545,
        2.06,
        1.0,
    )
    bars, _ = read_bars(real_data / BAR_FILES[4][0])
    ask = bars[PriceSide.ASK]
    assert (ask.open[0], ask.high[0], ask.low[0], ask.close[0]) == (
        1.32027,
        1.32055,
        1.3197,
        1.32035,
    )


def test_fxcm_crossed_ticks_are_rejected_by_default_with_their_count(real_data: Path) -> None:
    with pytest.raises(DataFormatError) as caught:
        read_ticks(real_data / FXCM_TICKS)
    message = str(caught.value)
    assert "the file has 116,871 crossed quotes" in message
    assert "keep" in message
    assert "drop" in message
    assert "repair" in message


@pytest.mark.parametrize(
    ("policy", "kept"),
    [
        (CrossedQuotes.KEEP, FXCM_ROWS),
        (CrossedQuotes.DROP, FXCM_ROWS - 116_871),
        (CrossedQuotes.REPAIR, FXCM_ROWS),
    ],
)
def test_fxcm_crossed_ticks_import_with_an_explicit_policy(
    real_data: Path, policy: CrossedQuotes, kept: int
) -> None:
    ticks, reader = read_ticks(real_data / FXCM_TICKS, crossed=policy)
    assert len(ticks) == kept == reader.stats.rows_kept
    assert reader.stats.crossed_quotes == 116_871
    assert reader.stats.crossed_action is policy
    assert int(ticks.ts_ns[0]) == ns("2014-05-01 05:00:01.787")
    assert int(ticks.ts_ns[-1]) == ns("2014-05-16 04:59:59.718")
    crossed_left = int((ticks.bid > ticks.ask).sum())
    assert crossed_left == (116_871 if policy is CrossedQuotes.KEEP else 0)


def test_real_files_that_are_not_market_data_are_refused(real_data: Path) -> None:
    with pytest.raises(DataFormatError, match="unknown column 'LOCATION'"):
        open_market_file(real_data / "nautilus_fx/short-term-interest.csv", symbol="EURUSD")
    bi5 = real_data / "dukascopy_eurusd/raw_bi5/EURUSD/2019/01/04/00h_ticks.bi5"
    with pytest.raises(FormatDetectionError, match="binary"):
        open_market_file(bi5, symbol="EURUSD")


def test_real_file_chunks_are_bounded_by_chunk_rows(real_data: Path) -> None:
    with open_market_file(
        real_data / TICK_FILES[1][0], symbol="EURUSD", chunk_rows=100_000
    ) as reader:
        sizes = [len(chunk) for chunk in reader.chunks() if isinstance(chunk, TickArrays)]
    assert max(sizes) <= 100_000
    assert sum(sizes) == 532_903


def test_real_ticks_equal_an_independent_pandas_parse(real_data: Path) -> None:
    import numpy as np
    import pandas as pd

    path = real_data / TICK_FILES[0][0]
    ticks, _ = read_ticks(path)
    frame = pd.read_csv(path)
    expected_ns = pd.to_datetime(frame["timestamp_utc"]).to_numpy().astype("datetime64[ns]")
    np.testing.assert_array_equal(ticks.ts_ns, expected_ns.astype(np.int64))
    for column in ("bid", "ask", "bid_volume", "ask_volume"):
        np.testing.assert_array_equal(getattr(ticks, column), frame[column].to_numpy())
