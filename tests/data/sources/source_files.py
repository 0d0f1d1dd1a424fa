"""Shared builders for the source tests: read a file whole, timestamps from text."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np

from backtestr.data.sources import MarketFileReader, open_market_file
from backtestr.model import BarArrays, PriceSide, TickArrays

WriteFile = Callable[..., Path]  # the write_file fixture: (name, text or bytes) -> path


def read_ticks(path: Path, **options: object) -> tuple[TickArrays, MarketFileReader]:
    options.setdefault("symbol", "EURUSD")
    with open_market_file(path, **options) as reader:  # type: ignore[arg-type]
        parts = list(reader.chunks())
    assert all(isinstance(p, TickArrays) for p in parts)
    return TickArrays.concat(parts), reader  # type: ignore[arg-type]


def read_bars(path: Path, **options: object) -> tuple[dict[PriceSide, BarArrays], MarketFileReader]:
    options.setdefault("symbol", "EURUSD")
    with open_market_file(path, **options) as reader:  # type: ignore[arg-type]
        parts = list(reader.chunks())
    assert all(isinstance(p, dict) for p in parts)
    sides = parts[0].keys() if parts else []
    return {s: BarArrays.concat([p[s] for p in parts]) for s in sides}, reader  # type: ignore[index]


def ns(text: str) -> int:
    """UTC ns of an ISO text, e.g. ``ns("2019-02-04 00:00:00.994")``."""
    return int(np.datetime64(text.replace(" ", "T"), "ns").astype(np.int64))
