import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from backtestr.data.merge import arrays_equal, merge_bars, merge_ticks
from tests.helpers import make_bars, make_ticks

sorted_times = st.lists(st.integers(0, 200), max_size=40).map(sorted)
unique_times = st.sets(st.integers(0, 200), max_size=40).map(sorted)


@given(sorted_times)
def test_merging_the_same_ticks_twice_changes_nothing(times: list[int]) -> None:
    ticks = make_ticks(times, bid=[1.0 + i * 1e-5 for i in range(len(times))])
    outcome = merge_ticks(ticks, ticks)
    assert not outcome.changed or len(ticks) == 0
    assert arrays_equal(outcome.merged, ticks)


@given(sorted_times, sorted_times)
def test_new_ticks_replace_exactly_their_span(old_times: list[int], new_times: list[int]) -> None:
    old = make_ticks(old_times, bid=1.0)
    new = make_ticks(new_times, bid=2.0)
    merged = merge_ticks(old, new).merged
    assert np.all(np.diff(merged.ts_ns) >= 0)
    if new_times:
        inside = (merged.ts_ns >= new_times[0]) & (merged.ts_ns <= new_times[-1])
        assert np.all(merged.bid[inside] == 2.0)
        assert np.count_nonzero(merged.bid == 2.0) == len(new_times)
        outside_old = (old.ts_ns < new_times[0]) | (old.ts_ns > new_times[-1])
        assert np.count_nonzero(merged.bid == 1.0) == np.count_nonzero(outside_old)
    else:
        assert arrays_equal(merged, old)


def test_overlapping_tick_files_merge_without_duplicates() -> None:
    first = make_ticks([1, 2, 2, 3, 4], bid=[1.0, 1.1, 1.2, 1.3, 1.4])
    second = make_ticks([3, 4, 5, 6], bid=[1.3, 1.4, 1.5, 1.6])
    outcome = merge_ticks(first, second)
    assert outcome.merged.ts_ns.tolist() == [1, 2, 2, 3, 4, 5, 6]
    assert outcome.merged.bid.tolist() == [1.0, 1.1, 1.2, 1.3, 1.4, 1.5, 1.6]
    assert (outcome.rows_added, outcome.rows_replaced) == (2, 0)


def test_ticks_that_differ_inside_the_new_span_count_as_replaced() -> None:
    first = make_ticks([1, 2, 3, 4], bid=[1.0, 1.1, 1.2, 1.3])
    corrected = make_ticks([2, 3], bid=[1.15, 1.25])
    outcome = merge_ticks(first, corrected)
    assert outcome.merged.bid.tolist() == [1.0, 1.15, 1.25, 1.3]
    assert (outcome.rows_added, outcome.rows_replaced) == (0, 2)


def test_a_shorter_span_never_reports_negative_rows_added() -> None:
    first = make_ticks([5, 5, 5], bid=[1.0, 1.1, 1.2])
    outcome = merge_ticks(first, make_ticks([5], bid=[1.3]))
    assert outcome.merged.bid.tolist() == [1.3]
    assert (outcome.rows_added, outcome.rows_replaced) == (0, 3)


@settings(max_examples=60)
@given(unique_times, unique_times)
def test_bars_union_by_time_with_new_winning(old_times: list[int], new_times: list[int]) -> None:
    old = make_bars(old_times, close=1.0)
    new = make_bars(new_times, close=2.0)
    outcome = merge_bars(old, new)
    merged = outcome.merged
    assert merged.ts_ns.tolist() == sorted(set(old_times) | set(new_times))
    is_new = np.isin(merged.ts_ns, new_times)
    assert np.all(merged.close[is_new] == 2.0)
    assert np.all(merged.close[~is_new] == 1.0)
    assert outcome.rows_replaced == len(set(old_times) & set(new_times))
    assert outcome.rows_added == len(set(new_times) - set(old_times))


@given(unique_times)
def test_merging_the_same_bars_twice_changes_nothing(times: list[int]) -> None:
    bars = make_bars(times)
    outcome = merge_bars(bars, bars)
    assert not outcome.changed
    assert outcome.rows_replaced == 0
