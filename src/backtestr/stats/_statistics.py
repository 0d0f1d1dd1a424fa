"""The :class:`Statistics` value: every number a run reports, with a JSON-safe dict form."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass

import pandas as pd

from backtestr.errors import ConfigError, did_you_mean

__all__ = ["JsonValue", "Statistics"]

JsonValue = str | int | float | None

# How each field crosses the JSON boundary (see Statistics.to_dict).
_TIMESTAMP = "timestamp"
_TIMEDELTA = "timedelta"
_OPTIONAL_TIMEDELTA = "optional_timedelta"
_INT = "int"
_FLOAT = "float"


@dataclass(frozen=True)
class Statistics:
    """Performance statistics of one backtest; built by :func:`compute_statistics`.

    Units are in the names: ``_pct`` fields are percentages (``12.5`` means 12.5 %), money fields
    (``final_equity``, ``expectancy``, ``avg_win`` …) are in the account currency, ratios are plain
    numbers and ``win_rate`` is a fraction from 0 to 1. Durations are :class:`pandas.Timedelta`,
    times tz-aware UTC :class:`pandas.Timestamp`.

    Undefined values are ``NaN`` (floats) or ``None`` (trade durations without trades), never an
    arbitrary number; a ratio whose denominator is zero while its numerator is positive is
    ``inf`` (e.g. ``profit_factor`` without a losing trade). See :func:`compute_statistics` for
    each definition and edge case.

    Attributes
    ----------
    start, end, duration
        First and last equity time and the span between them.
    exposure_pct
        Share of equity points with a position open, in percent.
    initial_cash, final_equity, peak_equity
        Starting cash, last and highest equity.
    total_return_pct
        ``(final_equity / initial_cash - 1) * 100``.
    return_ann_pct, cagr_pct
        Annualised return from the geometric mean period return, and the compound annual growth
        rate over calendar time (365.25-day years).
    volatility_ann_pct, sharpe_ratio, sortino_ratio, calmar_ratio
        Annualised volatility of period returns and the three risk-adjusted ratios.
    max_drawdown_pct, avg_drawdown_pct
        Deepest and mean peak-to-trough decline, as **positive** percentages (a fall from 100 to
        80 is ``20.0``); ``0.0`` when equity never fell; above 100 only if equity turned
        negative.
    max_drawdown_duration, avg_drawdown_duration
        Longest and mean time from a peak to its recovery (or to the end when not recovered);
        zero when equity never fell.
    total_trades, win_rate, best_trade_pct, worst_trade_pct, avg_trade_pct
        Closed trades, the fraction with ``pnl > 0``, and their best, worst and geometric-mean
        return.
    max_trade_duration, avg_trade_duration
        Longest and mean holding time; ``None`` without trades.
    profit_factor, expectancy, expectancy_pct, avg_win, avg_loss, sqn
        Gross profit over gross loss (money), mean net P&L per trade (money) and mean trade
        return (percent), mean P&L of winning / losing trades (``avg_loss`` is negative), and
        Van Tharp's System Quality Number.
    commissions_paid, swaps_paid
        Total costs in the account currency (``swaps_paid`` is negative for a net swap credit).
    periods_per_year
        The annualisation factor used for the period returns.
    """

    start: pd.Timestamp
    end: pd.Timestamp
    duration: pd.Timedelta
    exposure_pct: float
    initial_cash: float
    final_equity: float
    peak_equity: float
    total_return_pct: float
    return_ann_pct: float
    cagr_pct: float
    volatility_ann_pct: float
    sharpe_ratio: float
    sortino_ratio: float
    calmar_ratio: float
    max_drawdown_pct: float
    avg_drawdown_pct: float
    max_drawdown_duration: pd.Timedelta
    avg_drawdown_duration: pd.Timedelta
    total_trades: int
    win_rate: float
    best_trade_pct: float
    worst_trade_pct: float
    avg_trade_pct: float
    max_trade_duration: pd.Timedelta | None
    avg_trade_duration: pd.Timedelta | None
    profit_factor: float
    expectancy: float
    expectancy_pct: float
    avg_win: float
    avg_loss: float
    sqn: float
    commissions_paid: float
    swaps_paid: float
    periods_per_year: float

    def to_dict(self) -> dict[str, JsonValue]:
        """Return a JSON-safe dict with the field names as keys, in field order.

        Encoding: times as ISO 8601 strings with offset (``2024-01-02T00:00:00+00:00``);
        durations as ISO 8601 durations (``P3DT4H0M0S``); ``NaN`` and a missing duration as
        ``null``; ``±inf`` as the strings ``"Infinity"`` / ``"-Infinity"`` (which both
        JavaScript's ``Number()`` and Python's ``float()`` parse). The result passes
        ``json.dumps(..., allow_nan=False)`` and :meth:`from_dict` restores an equal value.
        """
        out: dict[str, JsonValue] = {}
        for field in dataclasses.fields(self):
            value = getattr(self, field.name)
            kind = _KINDS[field.name]
            if kind == _TIMESTAMP:
                out[field.name] = value.isoformat()
            elif kind in (_TIMEDELTA, _OPTIONAL_TIMEDELTA):
                out[field.name] = None if value is None else value.isoformat()
            elif kind == _INT:
                out[field.name] = int(value)
            else:
                out[field.name] = _encode_float(float(value))
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, JsonValue]) -> Statistics:
        """Rebuild statistics from :meth:`to_dict` output (e.g. a saved run's JSON).

        Raises
        ------
        ConfigError
            When a key is unknown or missing, or a value cannot be decoded.
        """
        unknown = [key for key in data if key not in _KINDS]
        if unknown:
            raise ConfigError(
                f"Unknown statistics field '{unknown[0]}'.{did_you_mean(unknown[0], _KINDS)}"
            )
        missing = [name for name in _KINDS if name not in data]
        if missing:
            raise ConfigError(f"Statistics field(s) missing: {', '.join(missing)}.")
        values: dict[str, object] = {}
        for name, kind in _KINDS.items():
            raw = data[name]
            try:
                values[name] = _decode(kind, raw)
            except (TypeError, ValueError) as error:
                raise ConfigError(
                    f"Statistics field '{name}' has an invalid value {raw!r}: {error}"
                ) from error
        return cls(**values)  # type: ignore[arg-type]

    def to_series(self) -> pd.Series:
        """Return the values (not JSON-encoded) as a Series indexed by field name, for notebooks."""
        names = [field.name for field in dataclasses.fields(self)]
        return pd.Series([getattr(self, name) for name in names], index=names, dtype=object)

    def same_as(self, other: Statistics) -> bool:
        """Field-by-field equality where ``NaN`` equals ``NaN`` (``==`` says it does not)."""
        for field in dataclasses.fields(self):
            mine, theirs = getattr(self, field.name), getattr(other, field.name)
            if isinstance(mine, float) and isinstance(theirs, float):
                if not (mine == theirs or (math.isnan(mine) and math.isnan(theirs))):
                    return False
            elif mine != theirs:
                return False
        return True


def _encode_float(value: float) -> float | str | None:
    if math.isnan(value):
        return None
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    return value


def _decode(kind: str, raw: JsonValue) -> object:
    if kind == _TIMESTAMP:
        if not isinstance(raw, str):
            raise TypeError("expected an ISO 8601 time string")
        stamp = pd.Timestamp(raw)
        if stamp.tzinfo is None:
            raise ValueError("the time has no UTC offset")
        return stamp.tz_convert("UTC")
    if kind in (_TIMEDELTA, _OPTIONAL_TIMEDELTA):
        if raw is None and kind == _OPTIONAL_TIMEDELTA:
            return None
        if not isinstance(raw, str):
            raise TypeError("expected an ISO 8601 duration string")
        return pd.Timedelta(raw)
    if kind == _INT:
        if not isinstance(raw, int) or isinstance(raw, bool):
            raise TypeError("expected an integer")
        return raw
    if raw is None:
        return math.nan
    if isinstance(raw, str):
        if raw not in ("Infinity", "-Infinity"):
            raise ValueError("expected a number, null, 'Infinity' or '-Infinity'")
        return math.inf if raw == "Infinity" else -math.inf
    if isinstance(raw, bool):
        raise TypeError("expected a number")
    return float(raw)


def _kind_of(annotation: str) -> str:
    return {
        "pd.Timestamp": _TIMESTAMP,
        "pd.Timedelta": _TIMEDELTA,
        "pd.Timedelta | None": _OPTIONAL_TIMEDELTA,
        "int": _INT,
        "float": _FLOAT,
    }[annotation]


_KINDS: dict[str, str] = {
    field.name: _kind_of(str(field.type)) for field in dataclasses.fields(Statistics)
}
