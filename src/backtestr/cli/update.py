"""``backtestr update check|download|install|rollback|status``."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import TYPE_CHECKING

import click

from backtestr.app.http import UrllibClient
from backtestr.app.settings import load_settings
from backtestr.app.version import current_version
from backtestr.cli import cli
from backtestr.cli.version import app_paths

if TYPE_CHECKING:  # the updater pulls in python-tuf and cryptography: import it only when used
    from backtestr.app.updater import UpdateInfo, Updater

UPDATE_URL_ENV = "BACKTESTR_UPDATE_URL"
UPDATE_ROOT_ENV = "BACKTESTR_UPDATE_ROOT"


def _size(count: int) -> str:
    value = float(count)
    for unit in ("B", "kB", "MB"):
        if value < 1000:
            return f"{value:.0f} B" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1000
    return f"{value:.1f} GB"


def _updater(ctx: click.Context) -> Updater:
    from backtestr.app.updater import Updater

    options = ctx.find_object(dict) or {}
    paths = app_paths(ctx)
    config = load_settings(paths.settings_file).update
    if options.get("url"):
        config = dataclasses.replace(config, server_url=str(options["url"]))
    root_file = options.get("root")
    trusted_root = Path(str(root_file)).read_bytes() if root_file else None
    user_agent = f"BackTestr/{current_version().version}"
    return Updater(paths, config, UrllibClient(user_agent=user_agent), trusted_root=trusted_root)


def _describe(info: UpdateInfo) -> str:
    text = f"Update available: {info.version} ({info.channel.value}, {_size(info.size_bytes)}"
    if info.patch_size_bytes is not None:
        text += f"; delta {_size(info.patch_size_bytes)}"
    text += ")"
    if info.required:
        text += " — required"
    return text


@cli.group("update")
@click.option(
    "--url",
    envvar=UPDATE_URL_ENV,
    help=f"Update repository to use instead of the configured one (env {UPDATE_URL_ENV}).",
)
@click.option(
    "--root",
    "root",
    envvar=UPDATE_ROOT_ENV,
    type=click.Path(dir_okay=False, exists=True),
    help="Trusted root.json of a private repository (default: the one built into the app).",
)
@click.pass_context
def update_group(ctx: click.Context, url: str | None, root: str | None) -> None:
    """Check for, download, install or roll back application updates."""
    ctx.obj = {"url": url, "root": root}


@update_group.command("check")
@click.pass_context
def check_command(ctx: click.Context) -> None:
    """Say whether a newer version is available."""
    updater = _updater(ctx)
    info = updater.check()
    if info is None:
        click.echo(f"BackTestr {updater.installed_version} is up to date.")
        return
    click.echo(_describe(info))
    if info.release_notes:
        click.echo(info.release_notes)


@update_group.command("download")
@click.pass_context
def download_command(ctx: click.Context) -> None:
    """Download and verify the newest version (a delta when possible)."""
    downloaded = _updater(ctx).download()
    how = "delta" if downloaded.used_patch else "full archive"
    click.echo(
        f"Downloaded and verified {downloaded.version} ({how}, "
        f"{_size(downloaded.downloaded_bytes)} transferred)."
    )


@update_group.command("install")
@click.pass_context
def install_command(ctx: click.Context) -> None:
    """Download, verify and install the newest version next to the current one."""
    updater = _updater(ctx)
    result = updater.install(updater.download())
    kept = f"; {result.previous} kept for rollback" if result.previous else ""
    click.echo(f"Installed {result.version}{kept}. It starts the next time BackTestr starts.")


@update_group.command("rollback")
@click.pass_context
def rollback_command(ctx: click.Context) -> None:
    """Switch back to the previously installed version."""
    result = _updater(ctx).rollback()
    click.echo(f"Rolled back to {result.version} (from {result.previous}).")


@update_group.command("status")
@click.pass_context
def status_command(ctx: click.Context) -> None:
    """Show the installed versions, which one is current, and what the last check found."""
    updater = _updater(ctx)
    installer = updater.installer
    current = installer.current()
    versions = installer.installed()
    if not versions:
        click.echo("No versions installed by the updater yet.")
    for version in versions:
        marker = "*" if version == current else " "
        click.echo(f"{marker} {version}")
    last = updater.last_check()
    if last is not None:
        found = f"{last['available']} available" if last["available"] else "up to date"
        required = " (required)" if last.get("required") else ""
        click.echo(f"last check {last['checked_at']}: {found}{required}")
