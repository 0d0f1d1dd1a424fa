"""``schedule_function`` rules: which bars a scheduled function runs on.

Days are trading days (FX: from 17:00 New York). A date rule picks days, a time rule picks the
first bar of each picked day whose close is at or after the rule's time.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import time

import numpy as np
import pandas as pd

from backtestr.model import TradingDay
from backtestr.model.arrays import I64

__all__ = ["DateRule", "TimeRule", "date_rules", "scheduled_steps", "time_rules"]


@dataclass(frozen=True, slots=True)
class DateRule:
    kind: str  # every_day | week_start | week_end | month_start | month_end
    offset: int = 0


@dataclass(frozen=True, slots=True)
class TimeRule:
    kind: str  # market_open | market_close | at | every_bar
    minutes: int = 0
    at: time | None = None


class date_rules:  # noqa: N801 - zipline's name
    @staticmethod
    def every_day() -> DateRule:
        return DateRule("every_day")

    @staticmethod
    def week_start(days_offset: int = 0) -> DateRule:
        return DateRule("week_start", days_offset)

    @staticmethod
    def week_end(days_offset: int = 0) -> DateRule:
        return DateRule("week_end", days_offset)

    @staticmethod
    def month_start(days_offset: int = 0) -> DateRule:
        return DateRule("month_start", days_offset)

    @staticmethod
    def month_end(days_offset: int = 0) -> DateRule:
        return DateRule("month_end", days_offset)


class time_rules:  # noqa: N801 - zipline's name
    @staticmethod
    def market_open(hours: int = 0, minutes: int = 0) -> TimeRule:
        """The first bar of the trading day, plus an offset."""
        return TimeRule("market_open", hours * 60 + minutes)

    @staticmethod
    def market_close(hours: int = 0, minutes: int = 0) -> TimeRule:
        """The last bar closing at or before the day's end minus an offset."""
        return TimeRule("market_close", hours * 60 + minutes)

    @staticmethod
    def at(clock_time: str | time) -> TimeRule:
        """The first bar closing at or after a wall-clock time of the trading day's zone."""
        parsed = clock_time if isinstance(clock_time, time) else time.fromisoformat(clock_time)
        return TimeRule("at", 0, parsed)

    @staticmethod
    def every_bar() -> TimeRule:
        return TimeRule("every_bar")


def scheduled_steps(
    open_ns: I64, close_ns: I64, date_rule: DateRule, time_rule: TimeRule, day: TradingDay
) -> list[int]:
    """The steps (bar indices) on which a scheduled function runs."""
    if len(open_ns) == 0:
        return []
    zone = day.timezone
    local_open = pd.DatetimeIndex(pd.to_datetime(open_ns, utc=True)).tz_convert(zone)
    start_minutes = day.start.hour * 60 + day.start.minute
    shifted = local_open - pd.Timedelta(minutes=start_minutes)
    # trading date label: a day starting in the evening belongs to the next calendar date
    label = shifted.normalize() + (
        pd.Timedelta(days=1) if day.starts_previous_evening else pd.Timedelta(0)
    )
    labels = label.tz_localize(None)
    unique_days = pd.DatetimeIndex(labels.unique())
    chosen = _choose_days(unique_days, date_rule)
    steps: list[int] = []
    codes = np.asarray(labels.asi8)
    order = np.argsort(codes, kind="stable")
    sorted_codes = codes[order]
    for day_label in chosen:
        lo = int(np.searchsorted(sorted_codes, day_label.value, side="left"))
        hi = int(np.searchsorted(sorted_codes, day_label.value, side="right"))
        if lo == hi:
            continue
        members = np.sort(order[lo:hi])
        if time_rule.kind == "every_bar":
            steps.extend(int(m) for m in members)
            continue
        day_start = pd.Timestamp(day_label) - (
            pd.Timedelta(days=1) if day.starts_previous_evening else pd.Timedelta(0)
        )
        day_start = (day_start + pd.Timedelta(minutes=start_minutes)).tz_localize(zone)
        if time_rule.kind == "market_open":
            target = day_start + pd.Timedelta(minutes=time_rule.minutes)
            pick = [m for m in members if close_ns[m] > target.value]
            if pick:
                steps.append(int(pick[0]))
        elif time_rule.kind == "market_close":
            target = day_start + pd.Timedelta(days=1) - pd.Timedelta(minutes=time_rule.minutes)
            pick = [m for m in members if close_ns[m] <= target.value]
            if pick:
                steps.append(int(pick[-1]))
        else:
            assert time_rule.at is not None
            target = pd.Timestamp.combine(day_start.date(), time_rule.at).tz_localize(zone)
            if target < day_start:
                target += pd.Timedelta(days=1)
            pick = [m for m in members if close_ns[m] >= target.value]
            if pick:
                steps.append(int(pick[0]))
    return sorted(steps)


def _choose_days(days: pd.DatetimeIndex, rule: DateRule) -> list[pd.Timestamp]:
    if rule.kind == "every_day":
        return list(days)
    if rule.kind in ("week_start", "week_end"):
        groups = days.to_period("W-SUN")
    else:
        groups = days.to_period("M")
    chosen: list[pd.Timestamp] = []
    frame = pd.Series(days, index=np.arange(len(days)))
    for _, members in frame.groupby(np.asarray(groups.asi8)):
        values = list(members)
        if rule.kind.endswith("_start"):
            if rule.offset < len(values):
                chosen.append(values[rule.offset])
        elif rule.offset < len(values):
            chosen.append(values[-1 - rule.offset])
    return chosen
