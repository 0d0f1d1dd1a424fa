"""``backtestr data …``: import, list, inspect, remove and export market data."""

from __future__ import annotations

import json
from pathlib import Path

import click
from rich.table import Table

from backtestr.cli import cli
from backtestr.cli._common import (
    ProgressBars,
    console,
    error_console,
    iso,
    open_store,
    parse_time,
)
from backtestr.data.export import write_bars
from backtestr.data.importer import ImportSummary
from backtestr.data.instruments import (
    custom_instrument,
    default_instrument,
    instrument_to_dict,
)
from backtestr.data.sources import FORMATS, CrossedQuotes
from backtestr.errors import ConfigError
from backtestr.model import Instrument, PriceSide, Timeframe, is_fx_symbol, normalize_symbol


@cli.group()
def data() -> None:
    """Import, list, inspect, remove and export market data."""


@data.command("import")
@click.argument("paths", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option("--symbol", "-s", required=True, help="Symbol the file holds, e.g. EURUSD.")
@click.option(
    "--format",
    "format_name",
    type=click.Choice(sorted(FORMATS), case_sensitive=False),
    help="Override format detection.",
)
@click.option("--tz", help="IANA time zone of the file's naive times (overrides the format's).")
@click.option(
    "--crossed",
    type=click.Choice([c.value for c in CrossedQuotes], case_sensitive=False),
    default=CrossedQuotes.REJECT.value,
    show_default=True,
    help="Ticks with bid above ask: reject the file, or keep, drop or repair them.",
)
@click.option(
    "--side",
    type=click.Choice([s.value for s in PriceSide], case_sensitive=False),
    help="For bar files: the bars are bid (default), ask or mid prices.",
)
@click.option("--timeframe", "-t", help="For bar files: their timeframe, if not detectable.")
@click.option("--currency", help="Non-FX symbols: the currency prices are in (e.g. USD).")
@click.option("--pip-size", type=float, help="Non-FX symbols: one point (default 0.01).")
@click.option("--contract-size", type=float, help="Non-FX symbols: units per lot (default 1).")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@click.pass_context
def import_command(
    ctx: click.Context,
    paths: tuple[str, ...],
    symbol: str,
    format_name: str | None,
    tz: str | None,
    crossed: str,
    side: str | None,
    timeframe: str | None,
    currency: str | None,
    pip_size: float | None,
    contract_size: float | None,
    as_json: bool,
) -> None:
    """Import CSV/Parquet files (HistData, Dukascopy, MetaTrader, generic) into the store.

    All files are imported as one change: if any is invalid, nothing is stored.
    """
    name = normalize_symbol(symbol)
    instrument = _instrument_from_options(name, currency, pip_size, contract_size)
    with open_store(ctx) as store, ProgressBars(f"Importing {name}") as progress:
        summaries = store.import_files(
            [Path(p) for p in paths],
            symbol=name,
            format=format_name,
            tz=tz,
            crossed=crossed,
            side=side,
            timeframe=timeframe,
            instrument=instrument,
            on_progress=progress,
        )
    if as_json:
        click.echo(json.dumps([_summary_dict(s) for s in summaries], indent=2))
        return
    for summary in summaries:
        _print_summary(summary)


def _instrument_from_options(
    name: str, currency: str | None, pip_size: float | None, contract_size: float | None
) -> Instrument | None:
    """The specification the options describe; ``None`` keeps the stored or built-in one.

    FX pairs ship with a specification: options that contradict it are refused rather than
    turning EURUSD into a 1-unit, 0.01-pip instrument.
    """
    if currency is None and pip_size is None and contract_size is None:
        return None
    if not is_fx_symbol(name):
        return custom_instrument(
            name,
            currency=currency or "USD",
            pip_size=pip_size or 0.01,
            contract_size=contract_size or 1.0,
        )
    built_in = default_instrument(name)
    given = {"--currency": currency, "--pip-size": pip_size, "--contract-size": contract_size}
    known = {
        "--currency": built_in.quote_currency,
        "--pip-size": built_in.pip_size,
        "--contract-size": built_in.contract_size,
    }
    wrong = [
        f"{option} {value} (it is {known[option]})"
        for option, value in given.items()
        if value is not None
        and str(value).upper() != str(known[option]).upper()
        and not (isinstance(value, float) and value == known[option])
    ]
    if wrong:
        raise ConfigError(
            f"{name} is an FX pair with a built-in specification; it contradicts "
            + ", ".join(wrong)
            + ". Leave these options out (they are for symbols such as stocks or indices)."
        )
    return None


def _summary_dict(summary: ImportSummary) -> dict[str, object]:
    return {
        "source": summary.source,
        "symbol": summary.symbol,
        "format": summary.format,
        "kind": summary.kind,
        "sides": list(summary.sides),
        "rows_read": summary.rows_read,
        "rows_kept": summary.rows_kept,
        "rows_added": summary.rows_added,
        "rows_replaced": summary.rows_replaced,
        "duplicates_dropped": summary.duplicates_dropped,
        "crossed_quotes": summary.crossed_quotes,
        "crossed_action": summary.crossed_action,
        "first": iso(summary.first_ns),
        "last": iso(summary.last_ns),
        "gaps": [[iso(a), iso(b)] for a, b in summary.gaps],
        "unchanged": summary.unchanged,
    }


def _print_summary(summary: ImportSummary) -> None:
    table = Table(title=f"Import completed: {Path(summary.source).name}", show_header=False)
    table.add_column(style="bold")
    table.add_column()
    table.add_row("symbol / kind", f"{summary.symbol} {summary.kind} ({', '.join(summary.sides)})")
    table.add_row("format", summary.format)
    table.add_row("rows read / kept", f"{summary.rows_read:,} / {summary.rows_kept:,}")
    table.add_row("range (UTC)", f"{iso(summary.first_ns)} → {iso(summary.last_ns)}")
    table.add_row("gaps found", _gaps_text(summary.gaps))
    table.add_row("duplicates dropped", f"{summary.duplicates_dropped:,}")
    if summary.crossed_quotes:
        table.add_row("crossed quotes", f"{summary.crossed_quotes:,} ({summary.crossed_action})")
    if summary.unchanged:
        table.add_row("store", "unchanged (this data was already stored)")
    else:
        table.add_row(
            "store", f"{summary.rows_added:,} rows added, {summary.rows_replaced:,} replaced"
        )
    console.print(table)


@data.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print as JSON.")
@click.pass_context
def list_command(ctx: click.Context, as_json: bool) -> None:
    """List stored datasets: symbol, kind, rows, first and last time."""
    with open_store(ctx) as store:
        rows = store.datasets()
    records = [
        {
            "symbol": row.symbol,
            "kind": row.kind,
            "side": row.side,
            "rows": row.rows,
            "first": iso(row.first_ns),
            "last": iso(row.last_ns),
        }
        for row in rows
    ]
    if as_json:
        click.echo(json.dumps(records, indent=2))
        return
    if not records:
        console.print(
            "No data stored yet. Import some with `backtestr data import FILE -s SYMBOL`."
        )
        return
    table = Table(title="Stored market data")
    for column in ("symbol", "kind", "side", "rows", "first (UTC)", "last (UTC)"):
        table.add_column(column, justify="right" if column == "rows" else "left")
    for record in records:
        table.add_row(
            str(record["symbol"]),
            str(record["kind"]),
            str(record["side"]),
            f"{record['rows']:,}",
            str(record["first"]),
            str(record["last"]),
        )
    console.print(table)


@data.command("info")
@click.argument("symbol")
@click.option("--json", "as_json", is_flag=True, help="Print as JSON.")
@click.pass_context
def info_command(ctx: click.Context, symbol: str, as_json: bool) -> None:
    """Show a symbol's specification, datasets and import history."""
    with open_store(ctx) as store:
        instrument = store.instrument(symbol)
        datasets = store.datasets(symbol)
        imports = store.imports(symbol)
    spec = instrument_to_dict(instrument)
    if as_json:
        payload = {
            "instrument": spec,
            "datasets": [
                {
                    "kind": d.kind,
                    "side": d.side,
                    "rows": d.rows,
                    "first": iso(d.first_ns),
                    "last": iso(d.last_ns),
                    "partitions": d.partitions,
                    "sha256": d.content_sha256,
                }
                for d in datasets
            ],
            "imports": [
                {
                    "at": i.imported_at_iso,
                    "source": i.source,
                    "format": i.format,
                    "kind": i.kind,
                    "rows_read": i.rows_read,
                    "rows_stored": i.rows_stored,
                    "rows_replaced": i.rows_replaced,
                }
                for i in imports
            ],
        }
        click.echo(json.dumps(payload, indent=2))
        return
    spec_table = Table(title=f"{instrument.symbol}", show_header=False)
    for key, value in spec.items():
        spec_table.add_row(key, _spec_text(value))
    console.print(spec_table)
    data_table = Table(title="Datasets")
    for column in ("kind", "side", "rows", "first (UTC)", "last (UTC)", "sha256"):
        data_table.add_column(column)
    for d in datasets:
        data_table.add_row(
            d.kind, d.side, f"{d.rows:,}", iso(d.first_ns), iso(d.last_ns), d.content_sha256[:16]
        )
    console.print(data_table)
    history = Table(title="Imports")
    for column in ("at (UTC)", "source", "format", "kind", "read", "stored", "replaced"):
        history.add_column(column)
    for i in imports:
        history.add_row(
            i.imported_at_iso,
            Path(i.source).name,
            i.format,
            i.kind,
            f"{i.rows_read:,}",
            f"{i.rows_stored:,}",
            f"{i.rows_replaced:,}",
        )
    console.print(history)


@data.command("remove")
@click.argument("symbol")
@click.option("--kind", help="Remove only this kind (ticks, M1, …); default: everything.")
@click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation.")
@click.pass_context
def remove_command(ctx: click.Context, symbol: str, kind: str | None, yes: bool) -> None:
    """Delete a symbol's stored data."""
    name = normalize_symbol(symbol)
    what = f"{kind} data" if kind else "all data"
    if not yes:
        click.confirm(f"Delete {what} of {name}?", abort=True)
    with open_store(ctx) as store:
        removed = store.remove(name, kind)
    rows = sum(row.rows for row in removed)
    console.print(f"Removed {what} of {name}: {rows:,} rows in {len(removed)} files.")


@data.command("bars")
@click.argument("symbol")
@click.option("--timeframe", "-t", required=True, help="M1 M5 M15 M30 H1 H4 D1 W1 MN1, M3, S30…")
@click.option("--from", "start", help="First bar open time (ISO-8601, UTC).")
@click.option("--to", "end", help="Last bar open time (a bare date includes the whole day).")
@click.option(
    "--price",
    type=click.Choice([s.value for s in PriceSide], case_sensitive=False),
    default="bid",
    show_default=True,
)
@click.option("--out", "-o", required=True, type=click.Path(dir_okay=False), help=".csv/.parquet")
@click.pass_context
def bars_command(
    ctx: click.Context,
    symbol: str,
    timeframe: str,
    start: str | None,
    end: str | None,
    price: str,
    out: str,
) -> None:
    """Export bars of any timeframe, built from whatever is stored (ticks or lower bars)."""
    frame = Timeframe.parse(timeframe)
    start_ns = None if start is None else parse_time(start)
    end_ns = None if end is None else parse_time(end, end=True)
    with open_store(ctx) as store:
        bars = store.bars(symbol, frame, side=price, start_ns=start_ns, end_ns=end_ns)
        datasets = store.datasets(symbol)
    path = write_bars(bars, out)
    if len(bars) == 0:
        # an empty file is a valid answer, but say why it is empty: a wrong range is the usual cause
        stored = "; ".join(
            f"{row.kind} {row.side} {iso(row.first_ns)} → {iso(row.last_ns)}" for row in datasets
        )
        error_console.print(
            f"Warning: no {frame} {price} bars of {normalize_symbol(symbol)} in that range. "
            f"Stored: {stored}.",
            style="yellow",
            soft_wrap=True,
        )
        console.print(f"Wrote 0 {frame} {price} bars to {path}")
        return
    first, last = iso(int(bars.ts_ns[0])), iso(int(bars.ts_ns[-1]))
    console.print(f"Wrote {len(bars):,} {frame} {price} bars ({first} → {last}) to {path}")


def _gaps_text(gaps: tuple[tuple[int, int], ...], shown: int = 3) -> str:
    """The gap count and the longest few gaps, so a trader can see where data is missing."""
    if not gaps:
        return "0"
    longest = sorted(gaps, key=lambda gap: gap[1] - gap[0], reverse=True)[:shown]
    spans = ", ".join(f"{iso(start)} → {iso(stop)}" for start, stop in sorted(longest))
    label = "longest" if len(gaps) > shown else "at"
    return f"{len(gaps):,} ({label}: {spans})"


def _spec_text(value: object) -> str:
    """An instrument field for people: no float noise, the trading day as '17:00 Zone'."""
    if isinstance(value, float):
        return f"{value:.10g}"
    if isinstance(value, dict):
        return " ".join(str(part) for part in value.values())
    return str(value)
