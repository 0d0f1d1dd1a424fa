"""Real vendor files (../shared/data/real) import through the store with the right counts and
UTC times. Skipped when the folder is absent (a user's fresh clone)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from backtestr.data.instruments import custom_instrument
from backtestr.data.store import Store
from backtestr.errors import DataFormatError
from tests.helpers import real_file

pytestmark = pytest.mark.realdata


def utc(text: str) -> int:
    return int(pd.Timestamp(text, tz="UTC").value)


CASES = [
    # file, symbol, kind, sides, rows per side, first, last (UTC)
    (
        "dukascopy_eurusd/EURUSD_ticks_20190204-20190205_UTC.csv",
        "EURUSD", "ticks", ["quote"], 266_219,
        "2019-02-04 00:00:00.994", "2019-02-05 23:59:59.765",
    ),
    (
        "dukascopy_eurusd/EURUSD_M1_BID_20190204-20190205_UTC.csv",
        "EURUSD", "M1", ["bid"], 2_880, "2019-02-04 00:00", "2019-02-05 23:59",
    ),
    (
        "dukascopy_eurusd/EURUSD_H1_BID_201901-201902_UTC.csv",
        "EURUSD", "H1", ["bid"], 1_416, "2019-01-01 00:00", "2019-02-28 23:00",
    ),
    (
        "dukascopy_eurusd/EURUSD_D1_BID_2018-2019_UTC.csv",
        "EURUSD", "D1", ["bid"], 730, "2018-01-01", "2019-12-31",
    ),
    (
        "lean_eurusd/converted/EURUSD_OANDA_ticks_20140501-20140515_UTC.csv.gz",
        "EURUSD", "ticks", ["quote"], 532_903,
        "2014-05-01 00:00:00.292", "2014-05-15 23:59:56.324",
    ),
    (
        "lean_eurusd/converted/EURUSD_OANDA_M1_bidask_20140501-20140515_UTC.csv",
        "EURUSD", "M1", ["ask", "bid"], 15_366, "2014-05-01 00:00", "2014-05-15 23:59",
    ),
    (
        "lean_eurusd/converted/EURUSD_OANDA_H1_bidask_2007-2018_UTC.csv.gz",
        "EURUSD", "H1", ["ask", "bid"], 74_439, "2007-01-01 21:00", "2018-12-31 21:00",
    ),
    (
        "nautilus_fx/fxcm_gbpusd-m1-bid-2012.csv",
        "GBPUSD", "M1", ["bid"], 30_117, "2012-02-01 00:00", "2012-03-01 00:00",
    ),
    (
        "nautilus_fx/truefx_usdjpy-ticks.csv",
        "USDJPY", "ticks", ["quote"], 1_000, "2013-01-01 22:00:00.295", "2013-01-01 22:35:13.494",
    ),
    (
        "nautilus_fx/quote_tick_data.csv",  # HistData ticks: EST without DST, +5 h to UTC
        "EURUSD", "ticks", ["quote"], 9_500, "2020-01-01 22:00:00.065", "2020-01-02 04:00:52.125",
    ),
    (
        "backtesting_py/EURUSD.csv",
        "EURUSD", "H1", ["bid"], 5_000, "2017-04-19 09:00", "2018-02-07 15:00",
    ),
    (
        "gym_anytrading/FOREX_EURUSD_1H_ASK.csv",
        "EURUSD", "H1", ["ask"], 6_225, "2017-01-01 22:00", "2017-12-29 21:00",
    ),
]  # fmt: skip


@pytest.mark.parametrize(
    ("relative", "symbol", "kind", "sides", "rows", "first", "last"),
    CASES,
    ids=[Path(case[0]).name for case in CASES],
)
def test_real_file_imports_with_counts_and_utc_range(
    tmp_path: Path,
    relative: str,
    symbol: str,
    kind: str,
    sides: list[str],
    rows: int,
    first: str,
    last: str,
) -> None:
    path = real_file(relative)
    with Store.open(tmp_path / "home") as store:
        summary = store.import_file(path, symbol=symbol)
        assert summary.kind == kind
        datasets = store.datasets()
    assert [d.side for d in datasets] == sides
    for dataset in datasets:
        assert (dataset.symbol, dataset.kind, dataset.rows) == (symbol, kind, rows)
        assert dataset.first_ns == utc(first)
        assert dataset.last_ns == utc(last)


def test_non_fx_daily_files_import_with_a_specification(tmp_path: Path) -> None:
    goog = real_file("backtesting_py/GOOG.csv")
    index = real_file("backtrader/2006-day-001.txt")
    with Store.open(tmp_path / "home") as store:
        store.import_file(goog, symbol="GOOG", instrument=custom_instrument("GOOG", currency="USD"))
        store.import_file(
            index, symbol="SX5E", instrument=custom_instrument("SX5E", currency="EUR")
        )
        rows = {d.symbol: (d.kind, d.rows) for d in store.datasets()}
    assert rows == {"GOOG": ("D1", 2_148), "SX5E": ("D1", 255)}


def test_fxcm_crossed_quotes_are_rejected_by_default_and_importable_on_request(
    tmp_path: Path,
) -> None:
    path = real_file("lean_eurusd/converted/EURUSD_FXCM_ticks_20140501-20140515_UTC.csv.gz")
    with Store.open(tmp_path / "home") as store:
        with pytest.raises(DataFormatError, match="crossed") as rejected:
            store.import_file(path, symbol="EURUSD")
        assert "--crossed" in str(rejected.value)
        assert store.datasets() == []
        kept = store.import_file(path, symbol="EURUSD", crossed="drop")
        assert 0.05 * 1_144_807 < kept.crossed_quotes < 0.15 * 1_144_807
        assert store.datasets()[0].rows == 1_144_807 - kept.crossed_quotes
        ticks = store.ticks("EURUSD")
        assert (ticks.bid <= ticks.ask).all()
        assert ticks.ts_ns[0] == utc("2014-05-01 05:00:01.787")


def test_real_ticks_rebuild_the_vendor_m1_bars_through_the_store(tmp_path: Path) -> None:
    ticks = real_file("dukascopy_eurusd/EURUSD_ticks_20190204-20190205_UTC.csv")
    m1 = real_file("dukascopy_eurusd/EURUSD_M1_BID_20190204-20190205_UTC.csv")
    vendor = pd.read_csv(m1)
    with Store.open(tmp_path / "home") as store:
        store.import_file(ticks, symbol="EURUSD")
        bars = store.bars("EURUSD", "M1")
    assert len(bars) == len(vendor)
    assert (bars.open == vendor["open"].to_numpy()).all()
    assert (bars.high == vendor["high"].to_numpy()).all()
    assert (bars.low == vendor["low"].to_numpy()).all()
    assert (bars.close == vendor["close"].to_numpy()).all()
