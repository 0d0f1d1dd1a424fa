"""Chart pages from the store: the newest bars before a time, read from the row groups that
hold them and not from whole yearly files."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest

from backtestr.data import lake
from backtestr.data.store import Store
from backtestr.errors import ConfigError, NoDataError
from backtestr.model import BarArrays

MINUTES = 130_000  # about three months of M1 bars: several row groups in one yearly file


def m1_csv(path: Path, minutes: int = MINUTES) -> Path:
    stamps = np.datetime64("2019-01-01T00:00", "m") + np.arange(minutes).astype("timedelta64[m]")
    rng = np.random.default_rng(3)
    close = np.round(1.14 + np.cumsum(rng.normal(0, 0.0001, minutes)), 5)
    opens = np.concatenate([[close[0]], close[:-1]])
    high, low = np.maximum(opens, close) + 0.0001, np.minimum(opens, close) - 0.0001
    rows = [
        f"{str(stamp).replace('T', ' ')},{o:.5f},{h:.5f},{lo:.5f},{c:.5f},{i % 9 + 1}"
        for i, (stamp, o, h, lo, c) in enumerate(zip(stamps, opens, high, low, close, strict=True))
    ]
    path.write_text("timestamp,open,high,low,close,volume\n" + "\n".join(rows) + "\n")
    return path


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    folder = tmp_path_factory.mktemp("pages")
    opened = Store.open(folder / "home")
    opened.import_file(m1_csv(folder / "EURUSD_M1.csv"), symbol="EURUSD")
    yield opened
    opened.close()


def same_bars(left: BarArrays, right: BarArrays) -> bool:
    return all(
        np.array_equal(a, b, equal_nan=True)
        for a, b in zip(left.columns().values(), right.columns().values(), strict=True)
    )


def test_the_newest_page_is_the_tail_of_the_history(store: Store) -> None:
    everything = store.bars("EURUSD", "M1")
    page = store.latest_bars("EURUSD", "M1", limit=2_000)
    assert same_bars(page.bars, everything.slice(len(everything) - 2_000, len(everything)))
    assert page.has_more


def test_paging_back_from_the_first_bar_shown_rebuilds_the_whole_history(store: Store) -> None:
    everything = store.bars("EURUSD", "M1")
    pages: list[BarArrays] = []
    end: int | None = None
    while True:
        page = store.latest_bars("EURUSD", "M1", end_ns=end, limit=30_000)
        pages.insert(0, page.bars)
        if not page.has_more:
            break
        end = int(page.bars.ts_ns[0])
    assert len(pages) == 5  # 130 000 bars, 30 000 a page
    assert same_bars(BarArrays.concat(pages), everything)


def test_a_page_of_a_built_timeframe_and_a_bounded_page(store: Store) -> None:
    h1 = store.bars("EURUSD", "H1")
    page = store.latest_bars("EURUSD", "H1", limit=100)
    assert same_bars(page.bars, h1.slice(len(h1) - 100, len(h1)))
    start, end = int(h1.ts_ns[10]), int(h1.ts_ns[20])
    bounded = store.latest_bars("EURUSD", "H1", start_ns=start, end_ns=end, limit=1_000)
    assert same_bars(bounded.bars, h1.slice(10, 20))
    assert bounded.has_more  # older bars than the range exist


def test_a_range_read_decodes_only_the_row_groups_that_overlap_it(store: Store) -> None:
    (partition,) = store.catalog.partitions(symbol="EURUSD", kind="M1")
    path = store.home / "lake" / partition.path
    assert pq.ParquetFile(path).metadata.num_row_groups >= 3
    whole = lake.read_bar_file(path)
    start, end = int(whole.ts_ns[60_000]), int(whole.ts_ns[62_000])
    part = lake.read_bar_file(path, start, end)
    assert len(part) <= lake.ROW_GROUP_ROWS * 2 < len(whole)
    inside = whole.ts_ns[(whole.ts_ns >= start) & (whole.ts_ns < end)]
    assert np.isin(inside, part.ts_ns).all()


def test_bad_page_requests_say_what_is_wrong(store: Store) -> None:
    with pytest.raises(ConfigError, match="at least one bar"):
        store.latest_bars("EURUSD", "M1", limit=0)
    with pytest.raises(NoDataError, match="GBPUSD"):
        store.latest_bars("GBPUSD", "M1")


def gappy_m1_csv(path: Path) -> Path:
    """Weekday minutes in four stretches of ten days, with forty empty days between them."""
    stamps = np.concatenate(
        [
            np.datetime64("2019-01-02T00:00", "m")
            + np.timedelta64(50 * stretch, "D")
            + np.arange(10 * 1_440).astype("timedelta64[m]")
            for stretch in range(4)
        ]
    )
    weekday = (stamps.astype("datetime64[D]").astype(np.int64) + 3) % 7  # 0: Monday
    stamps = stamps[weekday < 5]
    close = np.round(1.3 + np.cumsum(np.random.default_rng(5).normal(0, 1e-4, len(stamps))), 5)
    rows = [
        f"{str(stamp).replace('T', ' ')},{c:.5f},{c + 1e-4:.5f},{c - 1e-4:.5f},{c:.5f},1"
        for stamp, c in zip(stamps, close, strict=True)
    ]
    path.write_text("timestamp,open,high,low,close,volume\n" + "\n".join(rows) + "\n")
    return path


@pytest.fixture(scope="module")
def gappy(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    folder = tmp_path_factory.mktemp("gappy")
    opened = Store.open(folder / "home")
    opened.import_file(gappy_m1_csv(folder / "GBPUSD_M1.csv"), symbol="GBPUSD")
    yield opened
    opened.close()


@pytest.mark.parametrize(
    ("timeframe", "limit"), [("M1", 3_000), ("H1", 100), ("H4", 50), ("D1", 9), ("W1", 3)]
)
def test_pages_over_gaps_and_weekends_are_the_history_cut_in_pieces(
    gappy: Store, timeframe: str, limit: int
) -> None:
    """A page's first window falls short across the gaps; reading further back must neither
    lose nor repeat a bar, and a page holds exactly ``limit`` bars while older ones exist."""
    everything = gappy.bars("GBPUSD", timeframe)
    pages: list[BarArrays] = []
    end: int | None = None
    while True:
        page = gappy.latest_bars("GBPUSD", timeframe, end_ns=end, limit=limit)
        pages.insert(0, page.bars)
        if not page.has_more:
            break
        assert len(page.bars) == limit
        end = int(page.bars.ts_ns[0])
    assert len(pages) >= 2
    assert same_bars(BarArrays.concat(pages), everything)
