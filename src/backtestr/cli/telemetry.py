"""``backtestr telemetry on|off|status|show|rotate-id`` and ``backtestr crashes list|upload``."""

from __future__ import annotations

import dataclasses
import json

import click

from backtestr.app.crash import CrashReporter
from backtestr.app.http import UrllibClient
from backtestr.app.settings import load_settings, save_settings
from backtestr.app.telemetry import Telemetry, do_not_track, telemetry_enabled
from backtestr.app.version import current_version
from backtestr.cli import cli
from backtestr.cli.version import app_paths


def _telemetry(ctx: click.Context) -> Telemetry:
    paths = app_paths(ctx)
    settings = load_settings(paths.settings_file)
    return Telemetry(
        paths.telemetry_dir,
        consent=settings.telemetry_consent,
        http=UrllibClient(),
        url=settings.telemetry_url,
        version=str(current_version().version),
    )


@cli.group("telemetry")
def telemetry_group() -> None:
    """Anonymous usage statistics: off unless you turn them on (DO_NOT_TRACK=1 always wins)."""


def _set_consent(ctx: click.Context, consent: bool) -> None:
    paths = app_paths(ctx)
    settings = load_settings(paths.settings_file)
    save_settings(paths.settings_file, dataclasses.replace(settings, telemetry_consent=consent))


@telemetry_group.command("on")
@click.pass_context
def on_command(ctx: click.Context) -> None:
    """Allow sending anonymous usage statistics."""
    _set_consent(ctx, True)
    click.echo("on" + (" (but DO_NOT_TRACK is set, so nothing is sent)" if do_not_track() else ""))


@telemetry_group.command("off")
@click.pass_context
def off_command(ctx: click.Context) -> None:
    """Stop sending usage statistics (local metrics stay on this machine)."""
    _set_consent(ctx, False)
    click.echo("off")


@telemetry_group.command("status")
@click.pass_context
def status_command(ctx: click.Context) -> None:
    """Print ``on`` or ``off``."""
    consent = load_settings(app_paths(ctx).settings_file).telemetry_consent
    click.echo("on" if telemetry_enabled(consent) else "off")


@telemetry_group.command("show")
@click.pass_context
def show_command(ctx: click.Context) -> None:
    """Show the usage metrics kept on this machine (never sent without consent)."""
    click.echo(json.dumps(_telemetry(ctx).local_metrics(), indent=2, sort_keys=True))


@telemetry_group.command("rotate-id")
@click.pass_context
def rotate_command(ctx: click.Context) -> None:
    """Start a new anonymous id, unlinked from the old one."""
    _telemetry(ctx).rotate_id()
    click.echo("New anonymous id drawn.")


@cli.group("crashes")
def crashes_group() -> None:
    """Crash reports saved on this machine."""


@crashes_group.command("list")
@click.pass_context
def list_command(ctx: click.Context) -> None:
    """List pending crash reports."""
    paths = app_paths(ctx)
    reporter = CrashReporter(paths.crash_dir, str(current_version().version))
    if paths.crash_dir.is_dir():
        reporter.collect_fatal_logs()  # fatal signals of earlier runs become reports
    reports = reporter.pending()
    if not reports:
        click.echo("No crash reports.")
    for path in reports:
        click.echo(str(path))


@crashes_group.command("upload")
@click.pass_context
def upload_command(ctx: click.Context) -> None:
    """Upload pending crash reports (only if you allowed it: settings crash_upload_consent)."""
    paths = app_paths(ctx)
    settings = load_settings(paths.settings_file)
    if settings.crash_upload_consent is not True:
        click.echo(
            "Crash upload is off. Allow it with: backtestr settings set crash_upload_consent true"
        )
        return
    reporter = CrashReporter(paths.crash_dir, str(current_version().version))
    outcome = reporter.upload_pending(UrllibClient(), settings.crash_upload_url, consent=True)
    click.echo(f"Uploaded {outcome.uploaded}; {outcome.kept} kept for a later try.")
