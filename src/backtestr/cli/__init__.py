"""The command line: a thin face over the library.

One module per command group (``data.py``, ``demo.py`` …), each adding its commands to the root
group below. Domain errors are rendered once, in :func:`main`, and mapped to exit codes there.
"""

from __future__ import annotations

import sys
import traceback
from typing import TYPE_CHECKING

import click

from backtestr.app.paths import HOME_ENV
from backtestr.errors import BacktestrError, ConfigError, DataError

if TYPE_CHECKING:
    from backtestr.app.services import LifeCycle

# The life-cycle services of the running command (crash reporter, consented telemetry), kept
# here so that main() can file a crash report for an error that escapes the command.
_life_cycle: LifeCycle | None = None

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
    global _life_cycle
    ctx.obj = home
    from backtestr.app.http import UrllibClient
    from backtestr.app.layout import AppPaths
    from backtestr.app.services import LifeCycle

    # update checks run only when asked (`backtestr update check`) or in the UI, never as a
    # side effect of a data or backtest command
    _life_cycle = LifeCycle.from_settings(
        AppPaths.resolve(home), UrllibClient(), check_updates=False
    )
    _life_cycle.start()
    ctx.call_on_close(_life_cycle.stop)


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
    except Exception as error:  # a bug: keep a (scrubbed, local) report and say where it is
        report = None
        if _life_cycle is not None and _life_cycle.crash_reporter is not None:
            report = _life_cycle.crash_reporter.record_exception(error, thread_name=None)
        traceback.print_exc()
        where = f" A crash report was saved to {report}." if report else ""
        click.secho(f"BackTestr hit an internal error.{where}", fg="red", err=True)
        sys.exit(EXIT_OTHER_ERROR)


def _register_commands() -> None:
    """Import the command modules; each attaches its commands to :data:`cli`."""
    # Imported here, not at module top, so `import backtestr.cli` stays cheap and cycle-free.
    from backtestr.cli import commands  # noqa: F401


__all__ = ["cli", "exit_code_for", "main"]
