"""Bars as a pandas DataFrame, and written to CSV or Parquet atomically."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import pandas as pd

from backtestr.errors import ConfigError
from backtestr.model import BarArrays

__all__ = ["EXPORT_COLUMNS", "bars_to_frame", "write_bars"]

EXPORT_COLUMNS = ("time", "open", "high", "low", "close", "volume")


def bars_to_frame(bars: BarArrays, *, full: bool = False) -> pd.DataFrame:
    """Bars as a DataFrame with a tz-aware UTC ``time`` column (the bar's open time).

    With ``full=True`` the tick count and spread statistics are included too.
    """
    frame = pd.DataFrame(
        {
            "time": pd.to_datetime(bars.ts_ns, utc=True),
            "open": bars.open,
            "high": bars.high,
            "low": bars.low,
            "close": bars.close,
            "volume": bars.volume,
        }
    )
    if full:
        frame["tick_count"] = bars.tick_count
        frame["spread_min"] = bars.spread_min
        frame["spread_avg"] = bars.spread_avg
        frame["spread_max"] = bars.spread_max
    return frame


def write_bars(bars: BarArrays, path: str | Path) -> Path:
    """Write bars to ``.csv`` or ``.parquet`` (columns :data:`EXPORT_COLUMNS`, ISO-8601 UTC).

    The file appears complete or not at all.
    """
    target = Path(path).expanduser()
    suffix = target.suffix.lower()
    if suffix not in (".csv", ".parquet"):
        raise ConfigError(
            f"Cannot export to '{target.name}': the file name must end in .csv or .parquet."
        )
    if not target.parent.is_dir():
        raise ConfigError(f"Cannot export to {target}: the folder {target.parent} does not exist.")
    frame = bars_to_frame(bars)
    temporary = target.with_name(f".{target.name}.{uuid.uuid4().hex}.tmp")
    try:
        if suffix == ".csv":
            frame["time"] = (
                frame["time"]
                .dt.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
                .str.replace(".000000Z", "Z", regex=False)
            )
            frame.to_csv(temporary, index=False, float_format="%.10g")
        else:
            frame.to_parquet(temporary, index=False)
        os.replace(temporary, target)
    finally:
        temporary.unlink(missing_ok=True)
    return target
