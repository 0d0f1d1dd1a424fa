"""Walk-forward specs and the calendar windows they cut."""

from __future__ import annotations

import doctest
import itertools

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from backtestr.errors import ConfigError
from backtestr.optimize import windows as windows_module
from backtestr.optimize.windows import WalkForwardSpec


def ns(text: str) -> int:
    return int(pd.Timestamp(text, tz="UTC").value)


def day(value: int) -> str:
    return pd.Timestamp(value, tz="UTC").strftime("%Y-%m-%d")


def test_docstring_example_holds() -> None:
    failures, attempted = doctest.testmod(windows_module)
    assert attempted > 0
    assert failures == 0


def test_rolling_monthly_windows_are_calendar_months() -> None:
    spec = WalkForwardSpec.parse("train=6M,test=1M")
    cut = spec.windows(ns("2023-01-01 00:00"), ns("2024-01-01"))
    assert [day(w.test_start_ns) for w in cut] == [f"2023-{m:02d}-01" for m in range(7, 13)]
    first, last = cut[0], cut[-1]
    assert (day(first.train_start_ns), day(first.train_end_ns)) == ("2023-01-01", "2023-07-01")
    assert (day(last.train_start_ns), day(last.test_end_ns)) == ("2023-06-01", "2024-01-01")


def test_anchored_windows_train_from_the_data_start_and_grow() -> None:
    spec = WalkForwardSpec.parse(" train=1Y , test=3M , anchored ")
    cut = spec.windows(ns("2020-01-01 21:00"), ns("2022-01-01"))
    assert len(cut) == 4
    # the origin is midnight UTC of the first bar's day
    assert {day(w.train_start_ns) for w in cut} == {"2020-01-01"}
    assert [day(w.train_end_ns) for w in cut] == [
        "2021-01-01", "2021-04-01", "2021-07-01", "2021-10-01"
    ]  # fmt: skip


def test_the_last_test_window_is_cut_at_the_data_end() -> None:
    cut = WalkForwardSpec.parse("train=2W,test=1W").windows(ns("2024-01-01"), ns("2024-01-26"))
    assert [day(w.test_end_ns) for w in cut] == ["2024-01-22", "2024-01-26"]


def test_step_longer_than_test_leaves_gaps_between_test_windows() -> None:
    spec = WalkForwardSpec.parse("train=30D,test=10D,step=20D")
    cut = spec.windows(ns("2024-01-01"), ns("2024-04-01"))
    assert day(cut[0].test_end_ns) == "2024-02-10"
    assert day(cut[1].test_start_ns) == "2024-02-20"
    assert str(spec) == "train=30D,test=10D,step=20D"


def test_month_ends_do_not_drift() -> None:
    cut = WalkForwardSpec.parse("train=1M,test=1M").windows(ns("2024-01-31"), ns("2024-06-30"))
    assert [day(w.test_start_ns) for w in cut] == [
        "2024-02-29", "2024-03-31", "2024-04-30", "2024-05-31"
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("train=6M", "lacks test="),
        ("test=1M", "lacks train="),
        ("train=6M,test=1M,train=3M", "train= twice"),
        ("train=6X,test=1M", r"Bad walk-forward train '6X'.*D \(days\)"),
        ("train=0M,test=1M", "at least 1"),
        ("train=6M,test=1M,warm=2D", "Bad walk-forward part 'warm=2D'.*Example: train=6M"),
        ("train=6M,test=2M,step=1M", "step=1M is shorter than test=2M"),
        ("train=6M,test=1M,step=4W", "shorter than test=1M"),
    ],
)
def test_bad_specs_say_what_is_wrong(text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        WalkForwardSpec.parse(text)


def test_too_short_data_says_how_long_it_is_and_what_is_needed() -> None:
    spec = WalkForwardSpec.parse("train=6M,test=1M")
    with pytest.raises(ConfigError) as error:
        spec.windows(ns("2024-01-01"), ns("2024-05-03"))
    text = str(error.value)
    assert "2024-01-01 to 2024-05-03" in text
    assert "about 4.0 months" in text
    assert "6 months of training plus 1 month of test" in text
    assert "data until 2024-08-01" in text


PERIODS = st.tuples(st.integers(1, 6), st.sampled_from("DWMY")).map(lambda p: f"{p[0]}{p[1]}")


@st.composite
def specs_and_ranges(draw: st.DrawFn) -> tuple[WalkForwardSpec, int, int]:
    train, test = draw(PERIODS), draw(PERIODS)
    extra = draw(st.sampled_from(["", ",anchored"]))
    spec = WalkForwardSpec.parse(f"train={train},test={test}{extra}")
    start = ns("2015-01-01") + draw(st.integers(0, 400 * 86_400)) * 10**9
    origin = pd.Timestamp(start, tz="UTC").floor("D")
    needed = spec.test.after(spec.train.after(origin)) + pd.Timedelta(days=3)
    end = int(needed.value) + draw(st.integers(0, 3 * 365 * 86_400)) * 10**9
    return spec, start, end


@given(specs_and_ranges())
def test_windows_tile_the_data_after_the_first_training(
    case: tuple[WalkForwardSpec, int, int],
) -> None:
    spec, start, end = case
    cut = spec.windows(start, end)
    assert cut
    origin = int(pd.Timestamp(start, tz="UTC").floor("D").value)
    for window in cut:
        assert window.train_start_ns < window.train_end_ns == window.test_start_ns
        assert window.test_start_ns < window.test_end_ns <= end
        assert window.train_start_ns >= origin
        if spec.anchored:
            assert window.train_start_ns == origin
    for before, after in itertools.pairwise(cut):
        assert before.test_end_ns == after.test_start_ns  # contiguous, no overlap
    assert cut[-1].test_end_ns == end or spec.step.after(
        pd.Timestamp(cut[-1].train_end_ns, tz="UTC")
    ) >= pd.Timestamp(end, tz="UTC")
