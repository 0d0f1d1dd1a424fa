"""The file formats we read, the crossed-quote policy, and the column-name vocabulary.

Column names are matched case-insensitively after dropping ``<>``, quotes, a ``(…)`` suffix and
turning spaces and dashes into ``_`` (``<TICKVOL>`` → ``tickvol``, ``Time (UTC)`` → ``time``).
"""

from __future__ import annotations

import enum
import re
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from backtestr.model.arrays import DataKind

__all__ = [
    "FORMATS",
    "TICK_ROLES",
    "CrossedQuotes",
    "SourceFormat",
    "normalize_header",
    "role_of",
]


class CrossedQuotes(enum.Enum):
    """What to do with ticks whose bid is above their ask.

    ``REJECT`` (default) stops the import and reports how many ticks are crossed. ``KEEP`` imports
    them unchanged. ``DROP`` leaves them out. ``REPAIR`` replaces both bid and ask with their mean,
    making the tick a locked quote (spread 0) at the mid; volumes are unchanged.
    """

    REJECT = "reject"
    KEEP = "keep"
    DROP = "drop"
    REPAIR = "repair"


@dataclass(frozen=True, slots=True)
class SourceFormat:
    """A file layout we can read: ``name`` is what ``format=`` / ``--format`` accepts."""

    name: str
    kind: DataKind
    description: str


_ALL = (
    SourceFormat(
        "histdata-ticks",
        DataKind.TICKS,
        "HistData ASCII ticks 'YYYYMMDD HHMMSSfff,bid,ask,volume', no header, EST without DST",
    ),
    SourceFormat(
        "histdata-bars",
        DataKind.BARS,
        "HistData ASCII M1 bars 'YYYYMMDD HHMMSS;open;high;low;close;volume', no header, EST "
        "without DST",
    ),
    SourceFormat(
        "dukascopy-ticks",
        DataKind.TICKS,
        "Dukascopy tick export with header (time, ask, bid, volumes), 'DD.MM.YYYY HH:MM:SS.fff' "
        "UTC",
    ),
    SourceFormat(
        "dukascopy-bars",
        DataKind.BARS,
        "Dukascopy/JForex bar export 'Time,Open,High,Low,Close,Volume', 'DD.MM.YYYY HH:MM:SS.fff'",
    ),
    SourceFormat(
        "mt-bars",
        DataKind.BARS,
        "MetaTrader 4/5 history export '<DATE> <TIME> <OPEN> <HIGH> <LOW> <CLOSE> <TICKVOL> …', "
        "tab or comma, with or without header, server time",
    ),
    SourceFormat(
        "mt5-ticks",
        DataKind.TICKS,
        "MetaTrader 5 tick export '<DATE> <TIME> <BID> <ASK> <LAST> <VOLUME> <FLAGS>'",
    ),
    SourceFormat(
        "generic-ticks",
        DataKind.TICKS,
        "CSV with a header 'timestamp,bid,ask[,volume]'; ISO-8601 or epoch timestamps",
    ),
    SourceFormat(
        "generic-bars",
        DataKind.BARS,
        "CSV with a header 'timestamp,open,high,low,close[,volume]' or Lean-style "
        "'bid_open…ask_close'; ISO-8601 or epoch timestamps",
    ),
    SourceFormat("parquet-ticks", DataKind.TICKS, "Parquet with columns timestamp, bid, ask[, …]"),
    SourceFormat(
        "parquet-bars", DataKind.BARS, "Parquet with columns timestamp, open, high, low, close[, …]"
    ),
)

FORMATS: Mapping[str, SourceFormat] = MappingProxyType({f.name: f for f in _ALL})

TICK_ROLES = ("bid", "ask", "bid_volume", "ask_volume")
BAR_ROLES = ("open", "high", "low", "close")
SIDED_BAR_ROLES = tuple(f"{s}_{p}" for s in ("bid", "ask") for p in BAR_ROLES)

_ALIASES: dict[str, tuple[str, ...]] = {
    "time": (
        "timestamp",
        "timestamp_utc",
        "time",
        "datetime",
        "date_time",
        "datetime_utc",
        "time_utc",
        "gmt_time",
        "local_time",
        "utc",
        "dt",
        "ts",
        "ts_event",
        "index",
    ),
    "date": ("date", "day"),
    "bid": ("bid", "bid_price", "bidprice", "best_bid"),
    "ask": ("ask", "ask_price", "askprice", "offer", "best_ask"),
    "bid_volume": ("bid_volume", "bidvolume", "bid_vol", "bid_size", "bidsize"),
    "ask_volume": ("ask_volume", "askvolume", "ask_vol", "ask_size", "asksize"),
    "volume": ("volume", "vol", "tickvol", "tick_volume", "tickvolume", "real_volume"),
    "open": ("open", "o"),
    "high": ("high", "h"),
    "low": ("low", "l"),
    "close": ("close", "c"),
    "symbol": ("symbol", "ticker", "instrument", "pair"),
    "ignore": (
        "openinterest",
        "open_interest",
        "oi",
        "spread",
        "flags",
        "last",
        "bid_last_size",
        "ask_last_size",
        "adj_close",
        "adjclose",
        "trades",
        "count",
    ),
}
for _side in ("bid", "ask"):
    for _part in BAR_ROLES:
        _ALIASES[f"{_side}_{_part}"] = (f"{_side}_{_part}", f"{_side}{_part}", f"{_part}_{_side}")
_ROLE_BY_NAME = {alias: role for role, aliases in _ALIASES.items() for alias in aliases}


def normalize_header(name: str) -> str:
    """Canonical spelling of a header cell for matching."""
    text = name.strip().strip("\ufeff").strip("\"'").strip().lower()
    text = re.sub(r"\(.*?\)", "", text).strip()
    text = text.strip("<>").strip()
    return re.sub(r"[\s\-]+", "_", text)


def role_of(name: str) -> str | None:
    """The role a header cell plays (``bid``, ``open``, ``time``, ``ignore`` …) or ``None``."""
    return _ROLE_BY_NAME.get(normalize_header(name))
