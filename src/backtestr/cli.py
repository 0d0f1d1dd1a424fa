"""The command line: a thin face over the library. Errors are rendered once, here."""

from __future__ import annotations

import click

from backtestr.app.paths import HOME_ENV


@click.group()
@click.option(
    "--home",
    type=click.Path(file_okay=False),
    envvar=HOME_ENV,
    help="Data home (default: the platform's user data dir; env BACKTESTR_HOME).",
)
@click.pass_context
def cli(ctx: click.Context, home: str | None) -> None:
    """BackTestr: backtest Python trading strategies on tick-accurate market data."""
    ctx.obj = home


def main() -> None:
    cli()
