"""Timeframes (``S30``, ``M1`` … ``MN1``) and the trading-day convention that aligns D1 and above.

Intraday bars (seconds, minutes, hours) are aligned to multiples of their length since the Unix
epoch in UTC. Daily and larger bars follow a :class:`TradingDay`: FX trading days start at 17:00
New York time (so they move with US daylight saving), other markets at 00:00 UTC.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass
from datetime import time
from functools import total_ordering
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from backtestr.errors import ConfigError

__all__ = ["TimeUnit", "Timeframe", "TradingDay"]

NS_PER_SECOND = 1_000_000_000


class TimeUnit(enum.Enum):
    """Unit of a timeframe; the value is the MetaTrader-style prefix."""

    SECOND = "S"
    MINUTE = "M"
    HOUR = "H"
    DAY = "D"
    WEEK = "W"
    MONTH = "MN"

    @property
    def seconds(self) -> int | None:
        """Length in seconds, or ``None`` for months (which vary)."""
        return _UNIT_SECONDS[self]


_UNIT_SECONDS: dict[TimeUnit, int | None] = {
    TimeUnit.SECOND: 1,
    TimeUnit.MINUTE: 60,
    TimeUnit.HOUR: 3600,
    TimeUnit.DAY: 86_400,
    TimeUnit.WEEK: 7 * 86_400,
    TimeUnit.MONTH: None,
}
_ORDER = list(TimeUnit)
_PATTERN = re.compile(r"^(MN|S|M|H|D|W)(\d+)$")
_STANDARD = ("M1", "M5", "M15", "M30", "H1", "H4", "D1", "W1", "MN1")


@total_ordering
@dataclass(frozen=True, slots=True)
class Timeframe:
    """A bar length: a unit and a count, e.g. ``Timeframe.parse("M15")``.

    Examples
    --------
    >>> Timeframe.parse("h4").name
    'H4'
    >>> Timeframe.parse("M5").duration_ns
    300000000000
    """

    unit: TimeUnit
    count: int

    def __post_init__(self) -> None:
        if self.count < 1:
            raise ConfigError(f"Timeframe count must be at least 1, got {self.count}")

    @classmethod
    def parse(cls, text: str | Timeframe) -> Timeframe:
        """Parse ``M1``, ``m5``, ``H4``, ``D1``, ``W1``, ``MN1``, ``S30``, ``M3``, ``H2`` …"""
        if isinstance(text, Timeframe):
            return text
        match = _PATTERN.match(text.strip().upper())
        if match is None or int(match.group(2)) < 1:
            raise ConfigError(
                f"Unknown timeframe '{text}': use a unit S, M, H, D, W or MN followed by a count "
                f"(e.g. {', '.join(_STANDARD)}, M3, H2, S30)."
            )
        return cls(TimeUnit(match.group(1)), int(match.group(2)))

    @classmethod
    def standard(cls) -> tuple[Timeframe, ...]:
        """The MetaTrader set: M1 M5 M15 M30 H1 H4 D1 W1 MN1."""
        return tuple(cls.parse(name) for name in _STANDARD)

    @property
    def name(self) -> str:
        return f"{self.unit.value}{self.count}"

    @property
    def is_intraday(self) -> bool:
        """True when bars align to epoch multiples in UTC (seconds, minutes, hours)."""
        return self.unit in (TimeUnit.SECOND, TimeUnit.MINUTE, TimeUnit.HOUR)

    @property
    def duration_ns(self) -> int | None:
        """Nominal length in nanoseconds; ``None`` for months."""
        seconds = self.unit.seconds
        return None if seconds is None else seconds * self.count * NS_PER_SECOND

    def divides(self, other: Timeframe) -> bool:
        """True when every bar of ``other`` is a union of whole bars of ``self``.

        Intraday timeframes divide each other when their lengths divide (M5 divides H1, H1 divides
        H4, but M7 does not divide H1). Any intraday timeframe that divides 24 h divides D1 and
        above, because trading days start on a whole hour. D1 divides W1 and MN1.
        """
        if self == other:
            return True
        mine, theirs = self.duration_ns, other.duration_ns
        if mine is not None and self.is_intraday:
            if theirs is not None and other.is_intraday:
                return theirs % mine == 0
            return (86_400 * NS_PER_SECOND) % mine == 0
        if self.unit is TimeUnit.DAY and self.count == 1:
            return other.unit in (TimeUnit.WEEK, TimeUnit.MONTH) and other.count == 1
        return False

    def _key(self) -> tuple[int, int]:
        seconds = self.unit.seconds
        # months sort after everything else of the same count-scaled length
        return (seconds * self.count if seconds is not None else 31 * 86_400 * self.count, 0)

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, Timeframe):
            return NotImplemented
        return self._key() < other._key()

    def __str__(self) -> str:
        return self.name


@dataclass(frozen=True, slots=True)
class TradingDay:
    """When a trading day starts, for aligning D1, W1 and MN1 bars.

    A day whose start is at or after noon begins on the *previous* calendar date (FX: the trading
    day of Monday starts Sunday 17:00 New York). Weeks begin with Monday's trading day; months with
    the first trading day dated in the month.

    Examples
    --------
    >>> TradingDay.fx().start
    datetime.time(17, 0)
    >>> TradingDay.utc_midnight().timezone
    'UTC'
    """

    start: time
    timezone: str

    def __post_init__(self) -> None:
        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError) as error:
            raise ConfigError(
                f"Unknown time zone '{self.timezone}': use an IANA name such as "
                "'America/New_York' or 'UTC'."
            ) from error
        if self.start.tzinfo is not None:
            raise ConfigError("TradingDay.start must be a naive wall-clock time in its timezone")

    @classmethod
    def fx(cls) -> TradingDay:
        """17:00 America/New_York, the FX convention (moves with US daylight saving)."""
        return cls(time(17, 0), "America/New_York")

    @classmethod
    def utc_midnight(cls) -> TradingDay:
        """00:00 UTC, for markets without an FX-style session."""
        return cls(time(0, 0), "UTC")

    @property
    def starts_previous_evening(self) -> bool:
        return self.start.hour >= 12

    def __str__(self) -> str:
        return f"{self.start.strftime('%H:%M')} {self.timezone}"
