"""The command line: a thin face over the library.

One module per command group (``data.py``, ``demo.py`` …), each adding its commands to the root
group below. Domain errors are rendered once, in :func:`main`, and mapped to exit codes there.
"""

from __future__ import annotations

import sys

import click

from backtestr.app.paths import HOME_ENV
from backtestr.errors import BacktestrError, ConfigError, DataError

EXIT_DATA_ERROR = 3
EXIT_CONFIG_ERROR = 2
EXIT_OTHER_ERROR = 1


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
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


def exit_code_for(error: BacktestrError) -> int:
    """One place maps domain errors to process exit codes."""
    if isinstance(error, DataError):
        return EXIT_DATA_ERROR
    if isinstance(error, ConfigError):
        return EXIT_CONFIG_ERROR
    return EXIT_OTHER_ERROR


def main(argv: list[str] | None = None) -> None:
    """Entry point of the ``backtestr`` console script."""
    _register_commands()
    try:
        cli.main(args=argv, prog_name="backtestr", standalone_mode=False)
    except BacktestrError as error:
        click.secho(f"Error: {error}", fg="red", err=True)
        sys.exit(exit_code_for(error))
    except click.exceptions.Abort:
        click.echo("Aborted.", err=True)
        sys.exit(130)
    except click.ClickException as error:
        error.show()
        sys.exit(error.exit_code)


def _register_commands() -> None:
    """Import the command modules; each attaches its commands to :data:`cli`."""
    # Imported here, not at module top, so `import backtestr.cli` stays cheap and cycle-free.
    from backtestr.cli import commands  # noqa: F401


__all__ = ["cli", "exit_code_for", "main"]
