"""Market-data file sources: detect a file's format, parse it, validate it, stream it.

>>> from backtestr.data.sources import open_market_file  # doctest: +SKIP
>>> with open_market_file("EURUSD_ticks.csv.gz", symbol="EURUSD") as reader:  # doctest: +SKIP
...     for chunk in reader.chunks(on_progress=bar.update):
...         store(chunk)
...     print(reader.stats)

Formats (:data:`FORMATS`) are detected from the content; ``format=`` insists on one (a file whose
lines contradict it is refused). Files may be plain, ``.gz`` or a single-member ``.zip``; Parquet
is streamed by row group.

Conventions, so that every format means the same thing once read:

* Timestamps come out as UTC ``int64`` nanoseconds. Naive timestamps are wall-clock times of the
  format's zone — UTC, except HistData (EST, UTC-5 all year) — or of ``tz=`` (an IANA zone, daylight
  saving applied). The hour repeated when clocks go back is resolved by the file's order (first
  occurrence until the times step back, then the second); a time skipped when clocks go forward
  is an error. Timestamps with an offset (``Z``, ``+02:00``) are taken as written.
* Columns are matched by header name (case-insensitive, aliases such as ``time``/``date``, MT's
  ``<BID>``); Dukascopy's ask-first order is therefore read right. Unknown columns are an error
  (a short list of known extras such as ``OpenInterest`` or ``<SPREAD>`` is ignored).
* A tick file with a single volume column gives that volume to both ``bid_volume`` and
  ``ask_volume``.
* MetaTrader 5 ticks leave the unchanged side empty: the previous value is carried forward.
  Ticks before both sides have been seen, and trade-only ticks with neither, are skipped and
  counted in ``ReadStats.rows_skipped``.
* Ticks with bid above ask are rejected by default, with the count for the whole file; see
  :class:`CrossedQuotes` for keep, drop and repair (repair sets both sides to the mid).
* Ticks sharing a timestamp are all kept, in file order. Bars sharing a timestamp are dropped
  and counted when identical, and an error naming both lines when they differ.
* Bar files are labelled with their side (:attr:`MarketFileReader.side`: bid unless the file name,
  the column names or ``side=`` say otherwise); bid/ask bar files (Lean) yield both sides.
"""

from backtestr.data.sources._formats import FORMATS, CrossedQuotes, SourceFormat
from backtestr.data.sources._reader import (
    Chunk,
    MarketFileReader,
    ReadStats,
    open_market_file,
)

__all__ = [
    "FORMATS",
    "Chunk",
    "CrossedQuotes",
    "MarketFileReader",
    "ReadStats",
    "SourceFormat",
    "open_market_file",
]
