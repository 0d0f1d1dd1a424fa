"""Sniff a text file's layout from its first lines: delimiter, header, column roles, time format.

The result is a :class:`CsvPlan`, everything the block reader needs. Detection is by content; the
file name only hints at the price side (``…_ASK.csv``) and is checked against the symbol elsewhere.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa

from backtestr.data.sources._formats import (
    BAR_ROLES,
    FORMATS,
    SIDED_BAR_ROLES,
    SourceFormat,
    normalize_header,
    role_of,
)
from backtestr.data.sources._timestamps import (
    LAYOUTS,
    TIME_OF_DAY,
    DateLayout,
    Zone,
    epoch_multiplier,
    parse_timestamps,
)
from backtestr.errors import DataFormatError, FormatDetectionError
from backtestr.model.arrays import DataKind, PriceSide

__all__ = [
    "SAMPLE_BYTES",
    "CsvPlan",
    "data_kind",
    "decode_sample",
    "formats_tried",
    "header_roles",
    "plan_csv",
    "side_from_name",
    "wrong_width",
]

SAMPLE_BYTES = 64 * 1024
_DELIMITERS = (",", "\t", ";", "|")
_DELIMITER_NAMES = {",": "comma", "\t": "tab", ";": "semicolon", "|": "pipe"}
_EST = Zone.fixed("EST (UTC-5, no daylight saving)", -5)
# formats whose delimiter is fixed by the vendor: forcing them on another delimiter must fail
_FIXED_DELIMITER = {"histdata-ticks": ",", "histdata-bars": ";"}
_NUMBER = re.compile(r"^\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*$")
_KNOWN_COLUMNS = (
    "Known columns: timestamp (or time, date, datetime), bid, ask, bid_volume, ask_volume, "
    "open, high, low, close, volume (or tickvol), bid_open … ask_close, symbol; ignored: "
    "openinterest, spread, flags, last, adj_close. Rename or remove the column"
)
_EPOCH = re.compile(r"^\s*\d{9,19}(\.\d+)?\s*$")


@dataclass(frozen=True, slots=True)
class CsvPlan:
    """How to read one delimited text file."""

    format: SourceFormat
    delimiter: str
    skip_lines: int  # lines before the first data line (header, leading blank lines)
    column_names: tuple[str, ...]  # as shown to users: header cells, or role names if no header
    roles: dict[str, int]  # role -> column index (time, date, clock, bid, ask, open, …)
    time_layout: DateLayout | None  # None with epoch timestamps
    epoch_multiplier: int | None
    zone: Zone
    side: PriceSide | None  # plain bar files: the side their prices are
    bidask: bool  # bar files with bid and ask OHLC
    numeric: tuple[int, ...] = field(default=())  # columns read as float64

    def name_of(self, role: str) -> str:
        return self.column_names[self.roles[role]]


def decode_sample(path: Path, sample: bytes, at_eof: bool) -> list[str]:
    """The sample's complete lines as text (BOM and CR stripped); binary content is rejected."""
    if not at_eof:
        cut = sample.rfind(b"\n")
        sample = sample[: cut + 1] if cut >= 0 else sample
    if _looks_binary(sample):  # a line number means nothing in binary content
        raise FormatDetectionError(
            path,
            "the file looks binary: it is not text, and not Parquet, gzip or zip",
            hint="Point the import at a CSV, Parquet, .gz or .zip file",
        )
    try:
        text = sample.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = sample[: error.start].count(b"\n") + 1
        raise FormatDetectionError(
            path,
            "the file is not UTF-8 text (another encoding?)",
            line=line,
            hint="Save the file as UTF-8 CSV, or point the import at a Parquet file",
        ) from error
    if "\r" in text and "\n" not in text.rstrip("\r"):
        raise FormatDetectionError(
            path,
            "lines end in a bare carriage return (classic Mac line endings)",
            hint="Convert the line endings to LF or CRLF",
        )
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    lines = [line.rstrip("\r") for line in lines]
    for number, text_line in enumerate(lines, start=1):
        if "\r" in text_line:
            raise FormatDetectionError(
                path,
                "a bare carriage return inside the line (mixed line endings)",
                line=number,
                hint="Convert the line endings to LF or CRLF",
            )
    return lines


_CONTROL_BYTES = bytes(b for b in range(32) if b not in (9, 10, 13)) + b"\x7f"


def _looks_binary(sample: bytes) -> bool:
    """NUL bytes, or more than 1 % control characters: no text file holds those."""
    if b"\x00" in sample:
        return True
    control = len(sample) - len(sample.translate(None, _CONTROL_BYTES))
    return control * 100 > len(sample)


def side_from_name(path: Path) -> PriceSide | None:
    """``BID``/``ASK``/``MID`` as a separate word in the file name (``…_1H_ASK.csv``)."""
    found = {m.lower() for m in re.findall(r"(?<![a-z])(bid|ask|mid)(?![a-z])", path.name, re.I)}
    return PriceSide(found.pop()) if len(found) == 1 else None


def _split(line: str, delimiter: str) -> list[str]:
    return next(csv.reader([line], delimiter=delimiter), [""])


def _choose_delimiter(
    path: Path, lines: list[tuple[int, str]], forced: str | None
) -> tuple[str, int | None]:
    """The delimiter, and the index of the first line whose width differs (``None`` if none)."""
    candidates = (forced,) if forced else _DELIMITERS
    texts = [text for _, text in lines]
    best: tuple[int, str] | None = None
    for delimiter in candidates:
        counts = {len(_split(line, delimiter)) for line in texts}
        if len(counts) == 1 and (n := counts.pop()) > 1 and (best is None or n > best[0]):
            best = (n, delimiter)
    if best is not None:
        return best[1], None
    present = [d for d in _DELIMITERS if d != forced and d in texts[0]]
    if forced and present:
        raise FormatDetectionError(
            path,
            f"expected {_DELIMITER_NAMES[forced]}-separated fields but line {lines[0][0]} splits "
            f"into {len(_split(texts[0], forced))} field(s); the delimiter looks wrong (the "
            f"lines contain '{present[0]}')",
            line=lines[0][0],
            hint="Check --format, or convert the file's delimiter",
        )
    widths = [len(_split(line, candidates[0])) for line in texts]
    if max(widths) <= 1:
        raise FormatDetectionError(
            path,
            "every line holds a single field; the delimiter looks wrong (expected ',', ';', "
            "tab or '|' between timestamp and prices)",
            line=lines[0][0],
            hint="Export the data as CSV with one column per field. " + formats_tried(),
        )
    # the delimiter that splits most lines like the first one; the others are bad lines
    ranked = []
    for delimiter in candidates:
        width = len(_split(texts[0], delimiter))
        agree = sum(len(_split(line, delimiter)) == width for line in texts)
        if width > 1:
            ranked.append((agree, width, delimiter))
    if ranked:
        _, width, delimiter = max(ranked)
        return delimiter, next(i for i, t in enumerate(texts) if len(_split(t, delimiter)) != width)
    first_bad = next(i for i, w in enumerate(widths) if w != widths[0])
    raise FormatDetectionError(
        path,
        f"lines differ in their number of fields ({widths[0]} on the first line, "
        f"{widths[first_bad]} here)",
        line=lines[first_bad][0],
        hint="Check that the file is one table with a fixed set of columns",
    )


def wrong_width(
    path: Path,
    fields: list[str],
    text: str,
    line: int,
    column_names: tuple[str, ...] | list[str],
    delimiter: str,
    is_last: bool,
) -> DataFormatError:
    """The error for a line with too few or too many fields, naming a likely cause."""
    expected = len(column_names)
    if len(fields) < expected:
        missing = column_names[len(fields)]
        problem = f"{len(fields)} field(s) instead of {expected}: column '{missing}' is missing"
        column: str | None = missing
    else:
        problem = f"{len(fields)} fields instead of {expected}: extra field '{fields[expected]}'"
        column = None
    hint = "Fix or remove the line"
    if is_last and len(fields) < expected:
        hint = "The last line looks truncated (interrupted download or export): remove it"
    others = [d for d in _DELIMITERS if d != delimiter and d in text]
    if len(fields) == 1 and others:
        problem += f"; the delimiter looks wrong (the line contains '{others[0]}')"
        hint = "Use one delimiter throughout the file"
    return DataFormatError(path, problem, line=line, column=column, hint=hint)


def _looks_like_time(value: str) -> bool:
    return _detect_layout([value]) is not None or bool(_EPOCH.match(value))


def _detect_layout(values: list[str]) -> DateLayout | None:
    array = pa.array(values, type=pa.large_string())
    for layout in LAYOUTS:
        parsed = parse_timestamps(array, layout)
        if parsed.bad_row < 0:
            return layout
    return None


def header_roles(path: Path, names: list[str], line: int) -> dict[str, int]:
    roles: dict[str, int] = {}
    volumes: list[int] = []
    # an unnamed first column is the time index (backtesting.py's EURUSD.csv), unless another
    # column is the time: then it is a pandas row number and is ignored
    named_time = any(role_of(n) in ("time", "date") for n in names[1:])
    for index, name in enumerate(names):
        role = role_of(name)
        if index == 0 and normalize_header(name) == "":
            role = "ignore" if named_time else "time"
        if role is None:
            raise DataFormatError(
                path,
                f"unknown column '{name.strip()}'",
                line=line,
                column=name.strip(),
                hint=_KNOWN_COLUMNS,
            )
        if role == "ignore":
            continue
        if role == "volume":
            volumes.append(index)
            continue
        if role in roles:
            raise DataFormatError(
                path,
                f"columns '{names[roles[role]].strip()}' and '{name.strip()}' both mean '{role}'",
                line=line,
                column=name.strip(),
                hint="Rename or remove one of them",
            )
        roles[role] = index
    if volumes:
        ticky = [i for i in volumes if "tick" in normalize_header(names[i])]
        roles["volume"] = (ticky or volumes)[0]
    if "date" in roles and "time" in roles:
        roles["clock"] = roles.pop("time")
    elif "date" in roles:
        roles["time"] = roles.pop("date")
    return roles


def _headerless(
    path: Path, fields: list[str], delimiter: str, forced: str | None
) -> tuple[str, dict[str, int]]:
    n = len(fields)
    # a forced headerless format only needs the right number of fields (its times are checked
    # by the timestamp detection that follows)
    bar_names = ["time", "open", "high", "low", "close", "volume"]
    if forced == "histdata-ticks" and n in (3, 4):
        return forced, {r: i for i, r in enumerate(["time", "bid", "ask", "volume"][:n])}
    if forced == "histdata-bars" and n in (5, 6):
        return forced, {r: i for i, r in enumerate(bar_names[:n])}
    compact = next(layout for layout in LAYOUTS if layout.name == "compact")
    first = pa.array([fields[0]], type=pa.large_string())
    if parse_timestamps(first, compact).bad_row < 0 and " " in fields[0].strip():
        names = ["time", "open", "high", "low", "close", "volume"]
        if n in (3, 4) and len(fields[0].strip()) == 18:
            tick_roles = ["time", "bid", "ask", "volume"][:n]
            return "histdata-ticks", {r: i for i, r in enumerate(tick_roles)}
        if n in (5, 6):
            return "histdata-bars", {r: i for i, r in enumerate(names[:n])}
    ymd_dot = next(layout for layout in LAYOUTS if layout.name == "ymd-dot")
    if (
        n >= 6
        and parse_timestamps(pa.array([fields[0]], pa.large_string()), ymd_dot).bad_row < 0
        and parse_timestamps(pa.array([fields[1]], pa.large_string()), TIME_OF_DAY).bad_row < 0
    ):
        roles = {"date": 0, "clock": 1, "open": 2, "high": 3, "low": 4, "close": 5}
        if n >= 7:
            roles["volume"] = 6
        return "mt-bars", roles
    raise FormatDetectionError(
        path,
        f"the file has no header and its {n}-field lines match no known headerless layout "
        "(tried histdata-ticks, histdata-bars, mt-bars)",
        line=1,
        hint="Add a header such as 'timestamp,bid,ask' or 'timestamp,open,high,low,close', or "
        "pass --format (one of: " + ", ".join(FORMATS) + ")",
    )


def data_kind(
    path: Path, roles: dict[str, int], names: list[str], line: int
) -> tuple[DataKind, bool]:
    sided = [r for r in SIDED_BAR_ROLES if r in roles]
    plain = [r for r in BAR_ROLES if r in roles]
    quotes = [r for r in ("bid", "ask") if r in roles]
    if "time" not in roles and "date" not in roles:
        raise DataFormatError(
            path,
            "missing column 'timestamp' (no column named timestamp, time, date or datetime)",
            line=line,
            hint="Name the time column 'timestamp'",
        )
    if sided and len(sided) < len(SIDED_BAR_ROLES):
        bid_only = all(f"bid_{p}" in roles for p in BAR_ROLES) and not any(
            r.startswith("ask_") for r in sided
        )
        ask_only = all(f"ask_{p}" in roles for p in BAR_ROLES) and not any(
            r.startswith("bid_") for r in sided
        )
        if not (bid_only or ask_only):
            missing = next(r for r in SIDED_BAR_ROLES if r not in roles)
            raise DataFormatError(
                path, f"missing column '{missing}'", line=line, column=missing, hint=_has(names)
            )
        prefix = "bid_" if bid_only else "ask_"
        for part in BAR_ROLES:
            roles[part] = roles.pop(prefix + part)
        return DataKind.BARS, False
    if sided:
        return DataKind.BARS, True
    if plain:
        missing_bar = [r for r in BAR_ROLES if r not in roles]
        if missing_bar:
            raise DataFormatError(
                path,
                f"missing column '{missing_bar[0]}'",
                line=line,
                column=missing_bar[0],
                hint=_has(names),
            )
        return DataKind.BARS, False
    if quotes:
        if len(quotes) < 2:
            missing_quote = "ask" if "bid" in roles else "bid"
            raise DataFormatError(
                path,
                f"missing column '{missing_quote}'",
                line=line,
                column=missing_quote,
                hint=_has(names),
            )
        return DataKind.TICKS, False
    raise FormatDetectionError(
        path,
        "no price columns: expected bid and ask (ticks) or open, high, low, close (bars)",
        line=line,
        hint=_has(names) + ". " + formats_tried(),
    )


def formats_tried() -> str:
    """The hint every detection failure ends with."""
    return f"Formats tried: {', '.join(FORMATS)}; pass --format NAME to choose one"


def _has(names: list[str]) -> str:
    return "The header has: " + ", ".join(n.strip() or "(unnamed)" for n in names)


def plan_csv(
    path: Path,
    lines: list[str],
    *,
    forced: str | None,
    tz: str | None,
    side: PriceSide | None,
    at_eof: bool = False,
) -> CsvPlan:
    """Work out how to read a text file from its first lines (decoded; all of them: ``at_eof``)."""
    skip = 0
    while skip < len(lines) and not lines[skip].strip():
        skip += 1
    numbered = [(n, line) for n, line in enumerate(lines, start=1) if line.strip()][:200]
    body = [line for _, line in numbered]
    if not body:
        raise DataFormatError(path, "the file holds no data lines", hint="Export the data again")
    head = numbered[:50]
    delimiter, bad = _choose_delimiter(path, head, _FIXED_DELIMITER.get(forced or ""))
    first = _split(body[0], delimiter)
    all_numbers = all(_NUMBER.match(f) for f in first)
    has_header = not all_numbers and not (first[0].strip() and _looks_like_time(first[0]))
    header_line = skip + 1
    if has_header:
        names = [n.strip().strip("\ufeff") for n in first]
        roles = header_roles(path, names, header_line)
        rows = [_split(line, delimiter) for line in body[1:]]
        skip += 1
        mt_style = any(n.startswith("<") for n in names)
        name = None
    else:
        name, roles = _headerless(path, first, delimiter, forced)
        names = [""] * len(first)
        for role, index in roles.items():
            names[index] = role
        names = [n or f"column{i + 1}" for i, n in enumerate(names)]
        rows = [_split(line, delimiter) for line in body]
        mt_style = name == "mt-bars"
    if bad is not None:
        line, text = head[bad]
        is_last = at_eof and line == numbered[-1][0]
        raise wrong_width(path, _split(text, delimiter), text, line, names, delimiter, is_last)
    kind, bidask = data_kind(path, roles, names, header_line)
    time_col = roles.get("time", roles.get("date", 0))
    values = [r[time_col] for r in rows if len(r) > time_col and r[time_col].strip()][:200]
    layout, multiplier = _time_layout(path, values, roles, names, skip)
    if name is None:
        if mt_style:
            name = "mt5-ticks" if kind is DataKind.TICKS else "mt-bars"
        elif layout is not None and layout.name == "dmy-dot":
            name = "dukascopy-ticks" if kind is DataKind.TICKS else "dukascopy-bars"
        else:
            name = "generic-ticks" if kind is DataKind.TICKS else "generic-bars"
    if forced is not None and forced != name:
        # a generic format reads any file with a header; the others have a layout of their own
        # (HistData's headerless EST lines, Dukascopy's dates …) that the file must have
        if forced != f"generic-{kind.value}" or not has_header:
            times = "epoch" if layout is None else layout.pattern.split("[")[0]
            found = (
                f"{'a header line' if has_header else 'no header'}, "
                f"{_DELIMITER_NAMES.get(delimiter, repr(delimiter))}-separated, {times} times"
            )
            raise FormatDetectionError(
                path,
                f"the file looks like {name} ({kind.value}: {found}), not {forced} "
                f"({FORMATS[forced].description})",
                hint=f"Drop --format to let the format be detected, or use --format {name}",
            )
        name = forced
    zone = Zone(tz, iana=tz) if tz else (_EST if name.startswith("histdata") else Zone.utc())
    numeric = tuple(
        index for role, index in roles.items() if role not in ("time", "date", "clock", "symbol")
    )
    plain_side = None
    if kind is DataKind.BARS and not bidask:
        plain_side = side or _side_from_roles(names, roles) or side_from_name(path) or PriceSide.BID
    return CsvPlan(
        format=FORMATS[name],
        delimiter=delimiter,
        skip_lines=skip,
        column_names=tuple(names),
        roles=roles,
        time_layout=layout,
        epoch_multiplier=multiplier,
        zone=zone,
        side=plain_side,
        bidask=bidask,
        numeric=numeric,
    )


def _side_from_roles(names: list[str], roles: dict[str, int]) -> PriceSide | None:
    header = normalize_header(names[roles["open"]])
    if header.startswith("ask") or header.endswith("_ask"):
        return PriceSide.ASK
    if header.startswith("bid") or header.endswith("_bid"):
        return PriceSide.BID
    return None


def _time_layout(
    path: Path, values: list[str], roles: dict[str, int], names: list[str], skip: int
) -> tuple[DateLayout | None, int | None]:
    column = "date" if "date" in roles else "time"
    if not values:
        raise DataFormatError(path, "the file holds no data lines", hint="Export the data again")
    layout = _detect_layout(values)
    if layout is not None:
        return layout, None
    if column == "time" and all(_EPOCH.match(v) for v in values):
        return None, epoch_multiplier(values[0])
    # name the first value no layout accepts, with its line
    single = [v for v in values if _detect_layout([v]) is None and not _EPOCH.match(v)]
    bad = single[0] if single else values[0]
    line = skip + 1 + values.index(bad)
    raise FormatDetectionError(
        path,
        f"cannot parse timestamp '{bad}' (tried "
        + ", ".join(layout.pattern for layout in LAYOUTS)
        + ", and epoch seconds/ms/µs/ns)",
        line=line,
        column=names[roles.get(column, 0)],
        hint="Write timestamps as ISO-8601, e.g. 2019-02-04 00:00:00.994, or pass --format",
    )


def numbers_ok(values: list[str]) -> bool:
    """True when every value reads as a number (or is empty); used by the diagnostics."""
    return all(not v.strip() or _NUMBER.match(v) for v in values)
