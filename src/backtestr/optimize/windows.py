"""Walk-forward windows: the ``train=6M,test=1M[,anchored][,step=2M]`` text, and the calendar
windows it cuts a data range into.

Lengths are calendar lengths in UTC: ``D`` days, ``W`` weeks, ``M`` months (calendar months:
January 31 plus one month is the end of February), ``Y`` years. The first training window starts
at midnight UTC of the first bar's day. Each test window starts where its training window ends;
the next window moves on by ``step`` (default: the test length, so the test windows tile the data
without gap or overlap). *Rolling* windows keep their training length; *anchored* ones always
train from the data start and grow. The last test window is cut at the data end.

>>> spec = WalkForwardSpec.parse("train=6M,test=1M")
>>> start, end = pd.Timestamp("2024-01-01", tz="UTC"), pd.Timestamp("2024-09-01", tz="UTC")
>>> [w.label for w in spec.windows(start.value, end.value)]
['2024-07', '2024-08']
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum

import pandas as pd

from backtestr.errors import ConfigError

__all__ = ["Period", "WalkForwardSpec", "Window"]

EXAMPLE = "train=6M,test=1M (add ,anchored to always train from the data start, ,step=2M to move on by 2 months)"  # noqa: E501


class PeriodUnit(Enum):
    DAY = "D"
    WEEK = "W"
    MONTH = "M"
    YEAR = "Y"


_NAMES = {
    PeriodUnit.DAY: "day",
    PeriodUnit.WEEK: "week",
    PeriodUnit.MONTH: "month",
    PeriodUnit.YEAR: "year",
}
_PERIOD = re.compile(r"^\s*(\d+)\s*([DWMYdwmy])\s*$")


@dataclass(frozen=True, slots=True)
class Period:
    """A calendar length: ``count`` days, weeks, months or years."""

    count: int
    unit: PeriodUnit

    @classmethod
    def parse(cls, text: str, what: str = "length") -> Period:
        """``6M``, ``2W``, ``90D``, ``1Y`` (upper or lower case; ``M`` is months, not minutes)."""
        match = _PERIOD.match(text)
        if match is None:
            raise ConfigError(
                f"Bad walk-forward {what} '{text}': write a whole number and a unit, D (days), "
                f"W (weeks), M (months) or Y (years), e.g. {what}=6M. Example: {EXAMPLE}."
            )
        count = int(match.group(1))
        if count < 1:
            raise ConfigError(f"Bad walk-forward {what} '{text}': it must be at least 1.")
        return cls(count, PeriodUnit(match.group(2).upper()))

    @property
    def offset(self) -> pd.DateOffset:
        if self.unit is PeriodUnit.DAY:
            return pd.DateOffset(days=self.count)
        if self.unit is PeriodUnit.WEEK:
            return pd.DateOffset(weeks=self.count)
        if self.unit is PeriodUnit.MONTH:
            return pd.DateOffset(months=self.count)
        return pd.DateOffset(years=self.count)

    def after(self, stamp: pd.Timestamp) -> pd.Timestamp:
        """``stamp`` moved on by this length."""
        return _advance(stamp, (self, 1))

    def __str__(self) -> str:
        return f"{self.count}{self.unit.value}"

    def describe(self) -> str:
        name = _NAMES[self.unit]
        return f"{self.count} {name}{'' if self.count == 1 else 's'}"


@dataclass(frozen=True, slots=True)
class Window:
    """One walk-forward window: train on ``[train_start, train_end)``, test on
    ``[test_start, test_end)``; times in ns since the epoch, UTC."""

    index: int
    train_start_ns: int
    train_end_ns: int
    test_start_ns: int
    test_end_ns: int

    @property
    def label(self) -> str:
        """The test window's start as ``YYYY-MM`` (``YYYY-MM-DD`` when it is not the 1st)."""
        start = _ts(self.test_start_ns)
        return start.strftime("%Y-%m" if start.day == 1 else "%Y-%m-%d")

    def times(self) -> dict[str, pd.Timestamp]:
        return {
            "train_start": _ts(self.train_start_ns),
            "train_end": _ts(self.train_end_ns),
            "test_start": _ts(self.test_start_ns),
            "test_end": _ts(self.test_end_ns),
        }


@dataclass(frozen=True, slots=True)
class WalkForwardSpec:
    """How to cut the data into windows (see the module docstring)."""

    train: Period
    test: Period
    step: Period
    anchored: bool = False

    @classmethod
    def parse(cls, text: str) -> WalkForwardSpec:
        """Parse ``train=6M,test=1M[,anchored][,step=1M]``.

        Raises
        ------
        ConfigError
            On a missing, unknown, repeated or malformed part, or a step shorter than the test
            length (test windows would overlap, and overlapping out-of-sample periods cannot be
            chained into one equity curve).
        """
        parts: dict[str, str] = {}
        anchored = False
        for raw in text.split(","):
            part = raw.strip()
            if not part:
                continue
            if part.lower() in ("anchored", "rolling"):
                anchored = part.lower() == "anchored"
                continue
            name, sep, value = part.partition("=")
            name = name.strip().lower()
            if not sep or name not in ("train", "test", "step"):
                raise ConfigError(
                    f"Bad walk-forward part '{part}' in '{text}': expected train=…, test=…, "
                    f"step=… or anchored. Example: {EXAMPLE}."
                )
            if name in parts:
                raise ConfigError(f"Walk-forward '{text}' gives {name}= twice.")
            parts[name] = value
        missing = [name for name in ("train", "test") if name not in parts]
        if missing:
            raise ConfigError(
                f"Walk-forward '{text}' lacks {' and '.join(f'{m}=' for m in missing)}. "
                f"Example: {EXAMPLE}."
            )
        train = Period.parse(parts["train"], "train")
        test = Period.parse(parts["test"], "test")
        step = Period.parse(parts["step"], "step") if "step" in parts else test
        reference = pd.Timestamp("2000-01-01", tz="UTC")
        if step.after(reference) < test.after(reference):
            raise ConfigError(
                f"Walk-forward step={step} is shorter than test={test}: the test windows would "
                f"overlap. Use a step of at least {test} (or leave step out)."
            )
        return cls(train, test, step, anchored)

    def __str__(self) -> str:
        text = f"train={self.train},test={self.test}"
        if self.step != self.test:
            text += f",step={self.step}"
        return text + (",anchored" if self.anchored else "")

    def windows(self, start_ns: int, end_ns: int) -> list[Window]:
        """The windows over data from ``start_ns`` (first bar) to ``end_ns`` (exclusive: the last
        bar's close).

        Raises
        ------
        ConfigError
            When the data is too short for one full training and test window.
        """
        origin = _ts(start_ns).floor("D")
        end = _ts(end_ns)
        first_test_end = _advance(origin, (self.train, 1), (self.test, 1))
        if first_test_end > end:
            raise ConfigError(
                f"The data covers {_day(origin)} to {_day(end)} ({_span(origin, end)}), too "
                f"short for one walk-forward window of {self}: that needs {self.train.describe()}"
                f" of training plus {self.test.describe()} of test, i.e. data until "
                f"{_day(first_test_end)}. Load more data or shorten train=/test=."
            )
        windows: list[Window] = []
        while True:
            k = len(windows)
            # every boundary is counted from the origin in one offset, so month ends do not
            # drift (Jan 31 + 1M + 1M would be Mar 29; Jan 31 + 2M is Mar 31)
            train_end = _advance(origin, (self.train, 1), (self.step, k))
            if train_end >= end:
                break
            train_start = origin if self.anchored else max(origin, train_end - self.train.offset)
            next_train_end = _advance(origin, (self.train, 1), (self.step, k + 1))
            # with step == test each test window ends exactly where the next one starts
            test_end = next_train_end if self.step == self.test else self.test.after(train_end)
            test_end = min(test_end, next_train_end, end)
            windows.append(
                Window(k, _ns(train_start), _ns(train_end), _ns(train_end), _ns(test_end))
            )
        return windows


def _advance(stamp: pd.Timestamp, *moves: tuple[Period, int]) -> pd.Timestamp:
    """``stamp`` moved by ``period * times`` for each move in turn, where consecutive moves in
    months (or years) are added up into one offset first: counted from one origin, month ends
    do not drift (Jan 31 + 1M + 1M would be Mar 29; Jan 31 + 2M is Mar 31)."""
    months_like = (PeriodUnit.MONTH, PeriodUnit.YEAR)
    merged: list[tuple[bool, int]] = []  # (in months?, amount in months or days)
    for period, times in moves:
        in_months = period.unit in months_like
        scale = {PeriodUnit.YEAR: 12, PeriodUnit.WEEK: 7}.get(period.unit, 1)
        amount = period.count * scale * times
        if merged and merged[-1][0] == in_months:
            merged[-1] = (in_months, merged[-1][1] + amount)
        else:
            merged.append((in_months, amount))
    for in_months, amount in merged:
        stamp = stamp + (pd.DateOffset(months=amount) if in_months else pd.DateOffset(days=amount))
    return stamp


def _ts(ns: int) -> pd.Timestamp:
    return pd.Timestamp(ns, unit="ns", tz="UTC")


def _ns(stamp: pd.Timestamp | str) -> int:
    value = pd.Timestamp(stamp)
    value = value.tz_localize("UTC") if value.tzinfo is None else value.tz_convert("UTC")
    return int(value.value)


def _day(stamp: pd.Timestamp) -> str:
    return stamp.strftime("%Y-%m-%d")


def _span(start: pd.Timestamp, end: pd.Timestamp) -> str:
    days = (end - start) / pd.Timedelta(days=1)
    if days >= 60:
        return f"about {days / 30.44:.1f} months"
    return f"{days:.1f} days"
