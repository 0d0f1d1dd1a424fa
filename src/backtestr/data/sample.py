"""A deterministic, realistic sample of EURUSD-like ticks for the demo, tests and benchmarks.

Not a random walk with a constant spread: tick arrivals follow the FX session cycle (quiet Asian
hours, busy London/New York overlap), volatility clusters, the spread widens at the 17:00 New
York rollover and in quiet hours, prices sit on the 0.1-pip grid, and the market is closed from
Friday 17:00 to Sunday 17:00 New York time (so weekends are real gaps).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np

from backtestr.model import TickArrays

__all__ = ["sample_ticks"]

_NS = 1_000_000_000
_NEW_YORK = ZoneInfo("America/New_York")


def _open_intervals(start: datetime, weeks: int) -> list[tuple[int, int]]:
    """[open, close) in UTC seconds of each trading week: Sunday 17:00 → Friday 17:00 New York."""
    first_sunday = start.date() + timedelta(days=(6 - start.weekday()) % 7)
    intervals = []
    for week in range(weeks):
        sunday = first_sunday + timedelta(weeks=week)
        friday = sunday + timedelta(days=5)
        opened = datetime(sunday.year, sunday.month, sunday.day, 17, tzinfo=_NEW_YORK)
        closed = datetime(friday.year, friday.month, friday.day, 17, tzinfo=_NEW_YORK)
        intervals.append((int(opened.timestamp()), int(closed.timestamp())))
    return intervals


def _session_activity(hour_utc: np.ndarray) -> np.ndarray:
    """Relative activity by UTC hour: Asia low, London high, London/New York overlap highest."""
    hour = hour_utc.astype(np.float64)
    asia = 0.35
    london = 0.9 * np.exp(-0.5 * ((hour - 9.5) / 2.5) ** 2)
    new_york = 1.1 * np.exp(-0.5 * ((hour - 14.5) / 2.2) ** 2)
    return np.asarray(asia + london + new_york)


def sample_ticks(
    *,
    start: datetime = datetime(2024, 1, 7, tzinfo=UTC),
    weeks: int = 4,
    ticks_per_second: float = 1.2,
    start_price: float = 1.0950,
    seed: int = 7,
) -> TickArrays:
    """Generate EURUSD-like quote ticks.

    Parameters
    ----------
    start
        The first trading week is the one opening on the first Sunday on or after this date.
    weeks
        Number of trading weeks.
    ticks_per_second
        Average tick rate over open hours (busy hours get more, quiet hours fewer).
    start_price
        First mid price.
    seed
        Seed of the generator: the same arguments always give the same ticks.

    Returns
    -------
    TickArrays
        Ticks in time order, bid < ask, prices rounded to 0.00001.
    """
    rng = np.random.default_rng(seed)
    seconds = np.concatenate(
        [np.arange(open_, close, dtype=np.int64) for open_, close in _open_intervals(start, weeks)]
    )
    hour = (seconds // 3600) % 24
    activity = _session_activity(hour)
    # volatility clusters: a slowly varying multiplier (AR(1) in log space, one step a minute)
    minutes = seconds // 60
    minute_index = minutes - minutes[0]
    shocks = rng.normal(0.0, 0.08, int(minute_index[-1]) + 1)
    log_vol = np.zeros_like(shocks)
    for i in range(1, len(shocks)):  # one step a minute: ~40k steps, cheap in Python
        log_vol[i] = 0.995 * log_vol[i - 1] + shocks[i]
    cluster = np.exp(log_vol)[minute_index]
    rate = ticks_per_second * activity / activity.mean() * np.clip(cluster, 0.3, 3.0)
    counts = rng.poisson(rate)
    total = int(counts.sum())
    second_of_tick = np.repeat(seconds, counts)
    # millisecond stamps, as real feeds give them (several ticks may share one)
    millisecond = rng.integers(0, 1000, total).astype(np.int64)
    ts_ns = np.sort(second_of_tick * _NS + millisecond * 1_000_000)
    # mid price: fat-tailed steps that scale with activity and clustering (~1.5 % a month)
    tick_activity = np.repeat(activity * np.clip(cluster, 0.3, 3.0), counts)
    steps = rng.standard_t(4, total) * 0.000008 * np.sqrt(tick_activity)
    mid = start_price + np.cumsum(steps)
    # spread in pips: wide in quiet hours and around the 17:00 New York rollover, spikes on news
    tick_hour = np.repeat(hour, counts)
    quiet = np.clip(1.0 - _session_activity(tick_hour) / 2.0, 0.0, 1.0)
    spread_pips = 0.1 + 0.8 * quiet + rng.exponential(0.1, total)
    rollover = (tick_hour == 21) | (tick_hour == 22)
    spread_pips[rollover] *= 3.0
    news = rng.random(total) < 0.0005
    spread_pips[news] += rng.uniform(2.0, 6.0, int(news.sum()))
    spread = np.maximum(np.round(spread_pips, 1), 0.1) * 0.0001
    bid = np.round(mid - spread / 2, 5)
    ask = np.round(bid + spread, 5)
    bid_volume = np.round(rng.lognormal(0.3, 0.6, total), 2)
    ask_volume = np.round(rng.lognormal(0.3, 0.6, total), 2)
    return TickArrays(ts_ns=ts_ns, bid=bid, ask=ask, bid_volume=bid_volume, ask_volume=ask_volume)
