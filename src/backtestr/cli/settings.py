"""``backtestr settings show|set``."""

from __future__ import annotations

import json

import click

from backtestr.app.settings import load_settings, save_settings
from backtestr.cli import cli
from backtestr.cli.version import app_paths


@cli.group("settings")
def settings_group() -> None:
    """Show or change the settings of updates, telemetry and crash reports."""


@settings_group.command("show")
@click.pass_context
def show_command(ctx: click.Context) -> None:
    """Print the settings as JSON."""
    settings = load_settings(app_paths(ctx).settings_file)
    click.echo(json.dumps(settings.to_json(), indent=2, sort_keys=True))


@settings_group.command("set")
@click.argument("key")
@click.argument("value")
@click.pass_context
def set_command(ctx: click.Context, key: str, value: str) -> None:
    """Set KEY (e.g. update.channel, crash_upload_consent) to VALUE."""
    path = app_paths(ctx).settings_file
    updated = load_settings(path).with_value(key, value)
    save_settings(path, updated)
    click.echo(f"{key} = {value}")
