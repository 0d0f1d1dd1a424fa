"""``backtestr app``: the web workstation in a native window (needs the ``app`` extra)."""

from __future__ import annotations

import importlib

import click

from backtestr.app.paths import resolve_home
from backtestr.cli import cli
from backtestr.errors import ConfigError


@cli.command(name="app")
@click.option("--home", "home_option", type=click.Path(file_okay=False),
              help="Data home (overrides the global --home).")  # fmt: skip
@click.pass_context
def app_window(ctx: click.Context, home_option: str | None) -> None:
    """Open the workstation in its own window (pywebview); `backtestr ui` uses the browser."""
    try:
        webview = importlib.import_module("webview")
    except ImportError:
        raise ConfigError(
            "The desktop window needs pywebview: pip install 'backtestr[app]'. "
            "Or run `backtestr ui` to use the workstation in your browser."
        ) from None
    from backtestr.server import ServerSettings
    from backtestr.server.runner import BackgroundServer, free_port

    settings = ServerSettings(
        home=resolve_home(home_option or ctx.find_root().obj), port=free_port()
    )
    with BackgroundServer(settings):
        webview.create_window("BackTestr", settings.url_with_token, width=1400, height=900)
        webview.start()  # returns when the window is closed; the server stops with it
