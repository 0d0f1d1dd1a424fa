"""Core values → JSON for the browser. Times cross the wire as UTC (ISO text or epoch seconds)."""

from __future__ import annotations

import dataclasses
from pathlib import PurePath

import numpy as np
import pandas as pd

from backtestr.data.catalog import DatasetRow
from backtestr.data.importer import ImportSummary
from backtestr.data.sources import SourceFormat
from backtestr.model import BarArrays

__all__ = ["bars_payload", "dataset_payload", "format_payload", "iso_utc", "summary_payload"]

JsonObject = dict[str, object]
_NS_PER_SECOND = 1_000_000_000


def iso_utc(ts_ns: int | None) -> str | None:
    """``2019-02-04T00:00:00Z`` style UTC text (milliseconds when the time has them)."""
    if ts_ns is None:
        return None
    stamp = pd.Timestamp(ts_ns, tz="UTC")
    text = stamp.strftime("%Y-%m-%dT%H:%M:%S")
    if stamp.microsecond:
        text += f".{stamp.microsecond // 1000:03d}"
    return text + "Z"


def dataset_payload(row: DatasetRow) -> JsonObject:
    return {
        "symbol": row.symbol,
        "kind": row.kind,
        "side": row.side,
        "rows": row.rows,
        "first": iso_utc(row.first_ns),
        "last": iso_utc(row.last_ns),
        "partitions": row.partitions,
    }


def summary_payload(summary: ImportSummary) -> JsonObject:
    fields = dataclasses.asdict(summary)
    fields["sides"] = list(summary.sides)
    fields["gaps"] = [[iso_utc(start), iso_utc(end)] for start, end in summary.gaps]
    fields["first"] = iso_utc(summary.first_ns)
    fields["last"] = iso_utc(summary.last_ns)
    fields["unchanged"] = summary.unchanged
    # the source is the server-side temporary path: show the user's file name only
    fields["source"] = PurePath(summary.source).name
    return fields


def format_payload(source_format: SourceFormat) -> JsonObject:
    return {
        "name": source_format.name,
        "kind": source_format.kind.value,
        "description": source_format.description,
    }


def bars_payload(
    bars: BarArrays, *, symbol: str, timeframe: str, side: str, has_more: bool
) -> JsonObject:
    """Columnar bars; ``time`` is the bar's open time in UTC epoch seconds (lightweight-charts)."""
    return {
        "symbol": symbol,
        "timeframe": timeframe,
        "side": side,
        "count": len(bars),
        "has_more": has_more,
        "time": (bars.ts_ns // _NS_PER_SECOND).astype(np.int64).tolist(),
        "open": bars.open.tolist(),
        "high": bars.high.tolist(),
        "low": bars.low.tolist(),
        "close": bars.close.tolist(),
        "volume": bars.volume.tolist(),
    }
