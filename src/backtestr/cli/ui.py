"""``backtestr ui``: the local web workstation in the browser."""

from __future__ import annotations

import webbrowser

import click

from backtestr.app.paths import resolve_home
from backtestr.cli import cli
from backtestr.cli._common import console


@cli.command()
@click.option("--port", type=click.IntRange(0, 65535), default=0, show_default=True,
              help="Port on 127.0.0.1 (0: any free port).")  # fmt: skip
@click.option("--no-browser", is_flag=True, help="Print the address but do not open a browser.")
@click.option("--home", "home_option", type=click.Path(file_okay=False),
              help="Data home (overrides the global --home).")  # fmt: skip
@click.pass_context
def ui(ctx: click.Context, port: int, no_browser: bool, home_option: str | None) -> None:
    """Start the web workstation on 127.0.0.1 and open it in the browser.

    The address printed carries a random access token: only someone who has it (and only from
    this machine) can use the workstation. Stop with Ctrl+C.
    """
    # imported here so that other commands do not pay for FastAPI and uvicorn
    from backtestr.server import ServerSettings
    from backtestr.server.runner import free_port, serve

    home = resolve_home(home_option or ctx.find_root().obj)
    settings = ServerSettings(home=home, port=port or free_port())

    def started() -> None:
        console.print(f"BackTestr is running on {settings.base_url} (data home: {home})")
        console.print("Open this address (it carries your access token):", style="bold")
        # printed plainly so that terminals do not wrap or style the token
        click.echo(settings.url_with_token)
        console.print("Press Ctrl+C to stop.", style="dim")
        if not no_browser:
            webbrowser.open(settings.url_with_token)

    serve(settings, on_started=started)
