"""Market-data file sources: detect a file's format, parse it, validate it, stream it.

>>> from backtestr.data.sources import open_market_file  # doctest: +SKIP
>>> with open_market_file("EURUSD.csv", symbol="EURUSD") as reader:  # doctest: +SKIP
...     for chunk in reader.chunks():
...         ...

Supported formats are listed in :data:`FORMATS`; every one is detected from the file's content.
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
