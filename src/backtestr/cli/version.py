"""``backtestr version``, ``backtestr paths`` and ``backtestr self-test``."""

from __future__ import annotations

import json

import click

from backtestr.app.layout import AppPaths
from backtestr.app.version import current_version
from backtestr.cli import cli


def app_paths(ctx: click.Context) -> AppPaths:
    """The installation's paths for the ``--home`` given to the root group."""
    home = ctx.find_root().obj
    return AppPaths.resolve(home if isinstance(home, str) else None)


@cli.command("version")
@click.option("--json", "as_json", is_flag=True, help="Print all fields as JSON.")
def version_command(as_json: bool) -> None:
    """Show the version, build number, commit, build date and release channel."""
    info = current_version()
    if as_json:
        click.echo(json.dumps(info.to_json(), indent=2))
        return
    click.echo(f"BackTestr {info.format_display()}")
    click.echo(f"commit {info.commit}, built {info.build_date}")


@cli.command("paths")
@click.option("--json", "as_json", is_flag=True, help="Print as JSON.")
@click.pass_context
def paths_command(ctx: click.Context, as_json: bool) -> None:
    """Show where data, settings, caches, crash reports and installed versions live."""
    paths = app_paths(ctx).as_dict()
    if as_json:
        click.echo(json.dumps(paths, indent=2))
        return
    width = max(len(name) for name in paths)
    for name, path in paths.items():
        click.echo(f"{name:<{width}}  {path}")


@cli.command("self-test")
def self_test_command() -> None:
    """Check that this installation works (run by the updater after installing a version)."""
    from backtestr.app.self_test import run_self_test

    results = run_self_test()
    for result in results:
        mark = "ok  " if result.ok else "FAIL"
        click.echo(f"{mark} {result.name:<8} {result.detail} ({result.seconds:.2f} s)")
    if not all(result.ok for result in results):
        raise click.ClickException("self-test failed")
    click.echo(f"self-test ok: BackTestr {current_version().format_display()}")
