"""Columnar market data: ticks and bars as aligned numpy arrays (never lists of objects).

Timestamps are ``int64`` nanoseconds since the Unix epoch in UTC; prices and volumes ``float64``.
The containers are frozen and check on creation that their columns line up; they do not copy.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, fields
from typing import Any, Self

import numpy as np
import numpy.typing as npt

from backtestr.errors import ConfigError

__all__ = ["F64", "I64", "BarArrays", "DataKind", "PriceSide", "TickArrays"]

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]


class PriceSide(enum.Enum):
    """Which quote a bar is built from. FX bars are bid bars by default (MetaTrader convention)."""

    BID = "bid"
    ASK = "ask"
    MID = "mid"

    @classmethod
    def parse(cls, text: str | PriceSide) -> PriceSide:
        if isinstance(text, PriceSide):
            return text
        try:
            return cls(text.strip().lower())
        except ValueError:
            raise ConfigError(f"Unknown price side '{text}': use bid, ask or mid.") from None


class DataKind(enum.Enum):
    """What a dataset holds: quote ticks, or bars of one timeframe."""

    TICKS = "ticks"
    BARS = "bars"


class _Columns:
    """Shared behaviour of the column containers: length checks, slicing, joining."""

    ts_ns: I64

    def _check(self) -> None:
        lengths = {f.name: len(getattr(self, f.name)) for f in fields(self)}  # type: ignore[arg-type]
        if len(set(lengths.values())) > 1:
            raise ValueError(f"{type(self).__name__} columns differ in length: {lengths}")
        ts = self.ts_ns
        if ts.dtype != np.int64:
            raise TypeError(f"ts_ns must be int64 nanoseconds, got {ts.dtype}")

    def __len__(self) -> int:
        return len(self.ts_ns)

    def columns(self) -> dict[str, np.ndarray[Any, Any]]:
        return {f.name: getattr(self, f.name) for f in fields(self)}  # type: ignore[arg-type]

    def slice(self, start: int, stop: int) -> Self:
        """Rows ``[start, stop)`` as views."""
        values = {name: column[start:stop] for name, column in self.columns().items()}
        return type(self)(**values)

    def take(self, index: npt.NDArray[np.intp] | npt.NDArray[np.bool_]) -> Self:
        """Rows selected by an integer or boolean index (copies)."""
        values = {name: column[index] for name, column in self.columns().items()}
        return type(self)(**values)

    @classmethod
    def concat(cls, parts: list[Self]) -> Self:
        """Join several blocks end to end."""
        if not parts:
            return cls.empty()
        names = [f.name for f in fields(cls)]  # type: ignore[arg-type]
        return cls(**{name: np.concatenate([getattr(p, name) for p in parts]) for name in names})

    @classmethod
    def empty(cls) -> Self:
        values: dict[str, np.ndarray[Any, Any]] = {}
        for f in fields(cls):  # type: ignore[arg-type]
            dtype = np.int64 if f.name in ("ts_ns", "tick_count") else np.float64
            values[f.name] = np.empty(0, dtype=dtype)
        return cls(**values)


@dataclass(frozen=True, slots=True, eq=False)
class TickArrays(_Columns):
    """Quote ticks in time order; several ticks may share a timestamp (kept in arrival order)."""

    ts_ns: I64
    bid: F64
    ask: F64
    bid_volume: F64
    ask_volume: F64

    def __post_init__(self) -> None:
        self._check()

    def price(self, side: PriceSide) -> F64:
        """The bid, the ask, or their mid."""
        if side is PriceSide.BID:
            return self.bid
        if side is PriceSide.ASK:
            return self.ask
        return (self.bid + self.ask) * 0.5

    def volume(self, side: PriceSide) -> F64:
        if side is PriceSide.BID:
            return self.bid_volume
        if side is PriceSide.ASK:
            return self.ask_volume
        return self.bid_volume + self.ask_volume


@dataclass(frozen=True, slots=True, eq=False)
class BarArrays(_Columns):
    """OHLC bars labelled by open time, strictly increasing.

    ``tick_count`` is the number of ticks aggregated (or the sum of the lower bars' counts, 0 when
    the source bars did not say). ``spread_*`` are ask − bid statistics over the bar's ticks, NaN
    when the bars were not built from ticks.
    """

    ts_ns: I64
    open: F64
    high: F64
    low: F64
    close: F64
    volume: F64
    tick_count: I64
    spread_min: F64
    spread_avg: F64
    spread_max: F64

    def __post_init__(self) -> None:
        self._check()

    @classmethod
    def from_ohlc(
        cls,
        ts_ns: I64,
        open: F64,
        high: F64,
        low: F64,
        close: F64,
        volume: F64 | None = None,
    ) -> BarArrays:
        """Bars without tick statistics (counts 0, spreads NaN)."""
        n = len(ts_ns)
        nan = np.full(n, np.nan)
        return cls(
            ts_ns=ts_ns,
            open=open,
            high=high,
            low=low,
            close=close,
            volume=np.zeros(n) if volume is None else volume,
            tick_count=np.zeros(n, dtype=np.int64),
            spread_min=nan,
            spread_avg=nan.copy(),
            spread_max=nan.copy(),
        )
