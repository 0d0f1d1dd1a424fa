"""The reader: one object per file that yields validated, chronological, UTC columnar chunks."""

from __future__ import annotations

import contextlib
import types
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from backtestr.data.sources._csv import RawChunk, read_csv_chunks
from backtestr.data.sources._detect import SAMPLE_BYTES, CsvPlan, decode_sample, plan_csv
from backtestr.data.sources._formats import FORMATS, CrossedQuotes, SourceFormat
from backtestr.data.sources._opener import DECOMPRESSION_ERRORS, RawFile, open_raw
from backtestr.data.sources._parquet import plan_parquet, read_parquet_chunks
from backtestr.data.validate import (
    BarDeduper,
    GapFinder,
    OrderTracker,
    check_bars,
    check_positive,
    check_price_level,
    check_symbol_in_name,
    check_symbol_values,
    check_volume,
)
from backtestr.errors import ConfigError, DataFormatError, FormatDetectionError, did_you_mean
from backtestr.model.arrays import F64, BarArrays, DataKind, PriceSide, TickArrays
from backtestr.model.timeframe import Timeframe

__all__ = ["Chunk", "MarketFileReader", "ReadStats", "open_market_file"]

Chunk = TickArrays | dict[PriceSide, BarArrays]
NS_PER_SECOND = 1_000_000_000
TICK_GAP_NS = 30 * 60 * NS_PER_SECOND
# text read and parsed at a time: small enough that progress moves steadily (each block's pieces
# report as they are consumed), large enough that per-block overhead does not show
_MAX_BLOCK_BYTES = 32 << 20


@dataclass(frozen=True, slots=True)
class ReadStats:
    """What reading a file found.

    Attributes
    ----------
    rows_read
        Data rows parsed (header and blank lines not counted).
    rows_kept
        Rows yielded (after dropping duplicates, crossed quotes, incomplete MT5 ticks).
    duplicate_rows_dropped
        Bars repeated verbatim under the same timestamp (the copies are dropped).
    crossed_quotes, crossed_action
        Ticks with bid above ask, and what was done with them.
    rows_skipped
        MT5 ticks dropped because they carry no quote yet (before both bid and ask were seen) or
        no quote at all (trade-only rows with both bid and ask empty).
    first_ts_ns, last_ts_ns
        First and last timestamp kept (UTC ns), ``None`` when nothing was kept.
    gaps
        ``(start_ns, end_ns)`` of silences longer than ``gap_threshold_ns`` that the FX weekend
        (Friday 20:00 → Sunday 23:00 UTC) does not explain. The threshold is 30 minutes for ticks
        and three bars (at least 30 minutes) for bars; at most 10 000 gaps are listed.
    """

    rows_read: int = 0
    rows_kept: int = 0
    duplicate_rows_dropped: int = 0
    crossed_quotes: int = 0
    crossed_action: CrossedQuotes = CrossedQuotes.REJECT
    rows_skipped: int = 0
    first_ts_ns: int | None = None
    last_ts_ns: int | None = None
    gaps: tuple[tuple[int, int], ...] = ()
    gap_threshold_ns: int = TICK_GAP_NS


@dataclass(slots=True)
class _Progress:
    rows_read: int = 0
    rows_kept: int = 0
    crossed: int = 0
    skipped: int = 0
    first_ts: int | None = None
    last_ts: int | None = None
    carry_bid: float = float("nan")
    carry_ask: float = float("nan")
    order: OrderTracker = field(default_factory=OrderTracker)
    dedupe: BarDeduper = field(default_factory=BarDeduper)
    level_checked: bool = False


def _timeframe_of(ts: np.ndarray) -> Timeframe | None:
    diffs = np.diff(ts)
    diffs = diffs[diffs > 0]
    if len(diffs) == 0:
        return None
    values, counts = np.unique(diffs, return_counts=True)
    step = int(values[np.argmax(counts)]) // NS_PER_SECOND
    if step <= 0:
        return None
    if 28 * 86_400 <= step <= 31 * 86_400:
        return Timeframe.parse("MN1")
    for unit, seconds in (("W", 7 * 86_400), ("D", 86_400), ("H", 3600), ("M", 60), ("S", 1)):
        if step % seconds == 0:
            return Timeframe.parse(f"{unit}{step // seconds}")
    return None


class MarketFileReader:
    """Reads one market-data file as validated, chronological UTC chunks.

    Use :func:`open_market_file` to create one. Iterate :meth:`chunks` once; afterwards
    :attr:`stats` describes what was read. Only :class:`~backtestr.errors.DataFormatError` (and
    its :class:`~backtestr.errors.FormatDetectionError`) escape for bad input.

    Attributes
    ----------
    format
        The detected (or forced) :class:`SourceFormat`.
    timeframe
        For bar files, the bar length detected from the most common step between timestamps
        (``M1``, ``H1``, ``D1`` …); ``None`` for ticks or when it cannot be told.
    side
        For plain bar files, the side their prices are (``BID`` unless the file name, the
        column names or ``side=`` say otherwise); ``None`` for ticks and bid/ask bar files.
    total_bytes
        Size of the file on disk; ``on_progress`` reports bytes consumed out of this.
    """

    def __init__(
        self,
        path: Path,
        raw: RawFile,
        plan: CsvPlan,
        *,
        symbol: str,
        crossed: CrossedQuotes,
        chunk_rows: int,
    ) -> None:
        self.path = path
        self.symbol = symbol
        self.format: SourceFormat = plan.format
        self.side = plan.side
        self.total_bytes = raw.total_bytes
        self.timeframe: Timeframe | None = None
        self._raw = raw
        self._plan = plan
        self._crossed = crossed
        self._chunk_rows = chunk_rows
        self._stats = ReadStats(crossed_action=crossed)
        self._iterator: Iterator[Chunk] | None = None
        self._gaps = GapFinder(TICK_GAP_NS)

    @property
    def stats(self) -> ReadStats:
        """Counts and facts gathered so far (complete once :meth:`chunks` is exhausted)."""
        return self._stats

    def __enter__(self) -> MarketFileReader:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: types.TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Release the open file, if iteration was left unfinished."""
        if self._iterator is not None and hasattr(self._iterator, "close"):
            self._iterator.close()
        self._iterator = None

    def _raw_chunks(self, chunk_rows: int) -> Iterator[RawChunk]:
        if self._raw.packaging == "parquet":
            return read_parquet_chunks(self.path, self._plan, chunk_rows, self.total_bytes)
        return read_csv_chunks(self.path, self._raw, self._plan, self._block_bytes(chunk_rows))

    def _block_bytes(self, chunk_rows: int) -> int:
        per_line = 16 + 12 * len(self._plan.column_names)  # a generous estimate of a line's size
        return int(min(_MAX_BLOCK_BYTES, max(1 << 10, chunk_rows * per_line)))

    def _detect_timeframe(self) -> None:
        if self.format.kind is not DataKind.BARS:
            return
        with contextlib.closing(self._raw_chunks(min(self._chunk_rows, 2000))) as head:  # type: ignore[type-var]
            for chunk in head:
                self.timeframe = _timeframe_of(chunk.ts_ns[:2000])
                break
        if self.timeframe is not None:
            step = self.timeframe.duration_ns or 31 * 86_400 * NS_PER_SECOND
            self._gaps = GapFinder(max(TICK_GAP_NS, 3 * step))

    def chunks(self, on_progress: Callable[[int], None] | None = None) -> Iterator[Chunk]:
        """Yield validated chunks of at most ``chunk_rows`` rows, in time order.

        Tick files yield :class:`TickArrays`; bar files yield ``{side: BarArrays}`` (both
        ``BID`` and ``ASK`` for bid/ask bar files). ``on_progress(bytes_done)`` is called after
        each chunk with the bytes of the on-disk file consumed so far.
        """
        iterator = self._chunks(on_progress)
        self._iterator = iterator
        return iterator

    def _chunks(self, on_progress: Callable[[int], None] | None) -> Iterator[Chunk]:
        state = _Progress()
        source = self._raw_chunks(self._chunk_rows)
        try:
            for raw in source:
                state.rows_read += len(raw.ts_ns)
                if self.format.kind is DataKind.TICKS:
                    out: Chunk | None = self._ticks(raw, state, source)
                else:
                    out = self._bars(raw, state)
                self._publish(state)
                if out is not None:
                    yield from self._split(out)
                if on_progress is not None:
                    on_progress(raw.disk_bytes)
        except DECOMPRESSION_ERRORS as error:
            raise DataFormatError(
                self.path,
                f"the compressed file is corrupt or truncated ({error})",
                hint="Download or export the file again",
            ) from error
        finally:
            close = getattr(source, "close", None)
            if close is not None:
                close()
        if state.rows_read == 0:
            raise DataFormatError(self.path, "the file holds no data rows", hint="Export again")
        self._publish(state)

    def _publish(self, state: _Progress) -> None:
        self._stats = ReadStats(
            rows_read=state.rows_read,
            rows_kept=state.rows_kept,
            duplicate_rows_dropped=state.dedupe.dropped,
            crossed_quotes=state.crossed,
            crossed_action=self._crossed,
            rows_skipped=state.skipped,
            first_ts_ns=state.first_ts,
            last_ts_ns=state.last_ts,
            gaps=tuple(self._gaps.gaps),
            gap_threshold_ns=self._gaps.threshold_ns,
        )

    def _split(self, out: Chunk) -> Iterator[Chunk]:
        n = len(out) if isinstance(out, TickArrays) else len(next(iter(out.values())))
        if n <= self._chunk_rows:
            yield out
            return
        for start in range(0, n, self._chunk_rows):
            stop = start + self._chunk_rows
            if isinstance(out, TickArrays):
                yield out.slice(start, stop)
            else:
                yield {side: bars.slice(start, stop) for side, bars in out.items()}

    def _kept(self, state: _Progress, ts: np.ndarray) -> None:
        if len(ts) == 0:
            return
        state.rows_kept += len(ts)
        if state.first_ts is None:
            state.first_ts = int(ts[0])
        state.last_ts = int(ts[-1])
        self._gaps.feed(ts)

    def _check_common(self, raw: RawChunk, state: _Progress, prices: F64, role: str) -> None:
        if raw.symbols:
            values, rows = zip(*raw.symbols, strict=True)
            check_symbol_values(list(values), self.symbol, raw.where, list(rows))
        if not state.level_checked and len(prices):
            check_price_level(prices, self.symbol, raw.where, role)
            state.level_checked = True

    def _ticks(
        self, raw: RawChunk, state: _Progress, source: Iterator[RawChunk]
    ) -> TickArrays | None:
        where, values = raw.where, raw.values
        bid, ask = values["bid"], values["ask"]
        ts = raw.ts_ns
        keep: np.ndarray | None = None
        if self.format.name == "mt5-ticks":
            bid, ask, keep = self._carry_forward(bid, ask, state)
        check_positive(bid, "bid", where)
        check_positive(ask, "ask", where)
        zeros = np.zeros(len(ts))
        if "bid_volume" in values or "ask_volume" in values:
            bid_volume = values.get("bid_volume", zeros)
            ask_volume = values.get("ask_volume", zeros)
        else:  # one volume column: the volume traded at the quote, seen by both sides
            bid_volume = ask_volume = values.get("volume", zeros)
        if self.format.name == "mt5-ticks":  # MT5 leaves <VOLUME> empty on quote-only ticks
            bid_volume = np.nan_to_num(bid_volume, nan=0.0)
            ask_volume = np.nan_to_num(ask_volume, nan=0.0)
        for role, volume in (("bid_volume", bid_volume), ("ask_volume", ask_volume)):
            check_volume(volume, role if role in values else "volume", where)
        state.order.check(ts, where)
        self._check_common(raw, state, bid, "bid")
        crossed = bid > ask
        if keep is not None:
            crossed &= keep
        count = int(crossed.sum())
        state.crossed += count
        if count:
            if self._crossed is CrossedQuotes.REJECT:
                self._reject_crossed(raw, bid, ask, crossed, state, source)
            if self._crossed is CrossedQuotes.DROP:
                keep = ~crossed if keep is None else keep & ~crossed
            elif self._crossed is CrossedQuotes.REPAIR:
                mid = (bid + ask) * 0.5
                bid = np.where(crossed, mid, bid)
                ask = np.where(crossed, mid, ask)
        ticks = TickArrays(ts, bid, ask, bid_volume, ask_volume)
        if keep is not None:
            ticks = ticks.take(keep)
        self._kept(state, ticks.ts_ns)
        return ticks if len(ticks) else None

    def _carry_forward(
        self, bid: F64, ask: F64, state: _Progress
    ) -> tuple[F64, F64, np.ndarray | None]:
        """MT5 ticks leave the unchanged side empty: carry the previous value forward."""
        quoted = ~np.isnan(bid) | ~np.isnan(ask)
        filled = []
        for values, carry in ((bid, state.carry_bid), (ask, state.carry_ask)):
            full = np.concatenate([[carry], values])
            index = np.where(np.isnan(full), 0, np.arange(len(full)))
            np.maximum.accumulate(index, out=index)
            filled.append(full[index][1:])
        bid, ask = filled
        if len(bid):
            state.carry_bid, state.carry_ask = float(bid[-1]), float(ask[-1])
        keep = quoted & ~np.isnan(bid) & ~np.isnan(ask)
        skipped = int((~keep).sum())
        state.skipped += skipped
        if skipped == 0:
            return bid, ask, None
        # rows kept are validated; skipped rows get a harmless placeholder price
        bid = np.where(keep, bid, 1.0)
        ask = np.where(keep, ask, 1.0)
        return bid, ask, keep

    def _reject_crossed(
        self,
        raw: RawChunk,
        bid: F64,
        ask: F64,
        crossed: np.ndarray,
        state: _Progress,
        source: Iterator[RawChunk],
    ) -> None:
        row = int(np.argmax(crossed))
        total, complete = state.crossed, True
        try:  # count the rest of the file so the message can say how many there are
            for more in source:
                total += int((more.values["bid"] > more.values["ask"]).sum())
        except DataFormatError:
            complete = False
        count = f"{total:,}" if complete else f"at least {total:,}"
        noun = "crossed quote" if total == 1 else "crossed quotes"
        raw.where.fail(
            row,
            "bid",
            f"bid {bid[row]:g} is above ask {ask[row]:g} (a crossed quote); the file has "
            f"{count} {noun}",
            hint="Choose what to do with them: --crossed keep|drop|repair on the command line, "
            'crossed="keep"|"drop"|"repair" in Python (keep imports them unchanged, drop leaves '
            "them out, repair sets bid and ask to their mid)",
        )

    def _bars(self, raw: RawChunk, state: _Progress) -> dict[PriceSide, BarArrays] | None:
        where, values, ts = raw.where, raw.values, raw.ts_ns
        volume = values.get("volume", np.zeros(len(ts)))
        check_volume(volume, "volume", where)
        sides: dict[PriceSide, tuple[F64, F64, F64, F64]] = {}
        if self._plan.bidask:
            prefixes = {PriceSide.BID: "bid_", PriceSide.ASK: "ask_"}
        else:
            prefixes = {self.side or PriceSide.BID: ""}
        for side, prefix in prefixes.items():
            o, h, low, c = (values[prefix + p] for p in ("open", "high", "low", "close"))
            check_bars(o, h, low, c, where, prefix=prefix)
            sides[side] = (o, h, low, c)
        state.order.check(ts, where)
        first_side = next(iter(sides.values()))
        self._check_common(raw, state, first_side[3], "close")
        columns = [c for ohlc in sides.values() for c in ohlc] + [volume]
        keep = state.dedupe.keep_mask(ts, columns, where)
        result = {
            side: BarArrays.from_ohlc(ts, *ohlc, volume=volume) for side, ohlc in sides.items()
        }
        if keep is not None:
            result = {side: bars.take(keep) for side, bars in result.items()}
        kept_ts = next(iter(result.values())).ts_ns
        self._kept(state, kept_ts)
        return result if len(kept_ts) else None


def open_market_file(
    path: str | Path,
    *,
    symbol: str,
    format: str | None = None,
    tz: str | None = None,
    crossed: CrossedQuotes = CrossedQuotes.REJECT,
    side: PriceSide | None = None,
    chunk_rows: int = 2_000_000,
) -> MarketFileReader:
    """Open a market-data file, detecting its format from the content.

    Parameters
    ----------
    path
        A CSV/text file (plain, ``.gz`` or single-member ``.zip``) or a Parquet file.
    symbol
        The instrument the file holds; a file name or symbol column naming another FX pair, or a
        price level impossible for the pair (a JPY level for EURUSD), is rejected.
    format
        One of :data:`FORMATS` (e.g. ``"mt-bars"``): the file must have that format's layout
        (a file whose lines contradict it is refused); a ``generic-…`` format reads any file
        with a header, and a forced HistData format reads headerless lines of its width.
    tz
        IANA zone of naive timestamps (e.g. ``"Europe/Athens"`` for an MT server), overriding
        the format's default (UTC; HistData: EST without daylight saving). Timestamps that carry
        an offset (``Z``, ``+02:00``) are always taken as written.
    crossed
        What to do with ticks whose bid is above the ask (see :class:`CrossedQuotes`).
    side
        The side of a plain bar file's prices, when the file name does not say.
    chunk_rows
        Most rows per yielded chunk; memory use is bounded by it, whatever the file's size.

    Raises
    ------
    DataFormatError
        The file is unreadable or malformed (message names file, line, column, problem).
    FormatDetectionError
        No known format matches the content.
    ConfigError
        A bad argument (unknown format name, time zone or chunk size).

    Examples
    --------
    >>> with open_market_file("EURUSD_ticks.csv", symbol="EURUSD") as reader:  # doctest: +SKIP
    ...     for ticks in reader.chunks():
    ...         store(ticks)
    """
    file = Path(path)
    if format is not None and format not in FORMATS:
        raise ConfigError(
            f"Unknown format '{format}': use one of {', '.join(FORMATS)}."
            + did_you_mean(format, FORMATS)
        )
    if chunk_rows < 1:
        raise ConfigError(f"chunk_rows must be at least 1, got {chunk_rows}")
    if tz is not None:
        _check_zone(tz)
    raw = open_raw(file)
    check_symbol_in_name(file, symbol)
    if raw.packaging == "parquet":
        plan = plan_parquet(file, forced=format, tz=tz, side=side)
    else:
        if format is not None and format.startswith("parquet"):
            raise FormatDetectionError(
                file, f"this is a text file, not {format}", hint="Drop --format"
            )
        stream = raw.open()
        try:
            sample = stream.read(SAMPLE_BYTES)
            at_eof = len(sample) < SAMPLE_BYTES or not stream.read(1)
        except DECOMPRESSION_ERRORS as error:
            raise DataFormatError(
                file,
                f"the compressed file is corrupt or truncated ({error})",
                hint="Download or export the file again",
            ) from error
        finally:
            stream.close()
        lines = decode_sample(file, sample, at_eof)
        plan = plan_csv(file, lines, forced=format, tz=tz, side=side, at_eof=at_eof)
    reader = MarketFileReader(
        file, raw, plan, symbol=symbol, crossed=crossed, chunk_rows=chunk_rows
    )
    reader._detect_timeframe()
    return reader


def _check_zone(tz: str) -> None:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError) as error:
        raise ConfigError(
            f"Unknown time zone '{tz}': use an IANA name such as 'Europe/Athens' or 'UTC'."
        ) from error
