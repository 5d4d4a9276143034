"""``dailypapers backup FILE`` and ``dailypapers restore FILE``: thin commands over :mod:`dailypapers.ops.backup`
(SQLite's online backup API or pg_dump; restore into a fresh data folder or an empty database)."""

from __future__ import annotations

from pathlib import Path

import click

from dailypapers.cli_common import friendly, open_library
from dailypapers.config import load_config


@click.command()
@click.argument("target", type=click.Path(dir_okay=False, path_type=Path))
@friendly
def backup(target: Path) -> None:
    """Write a backup of the database to the new file TARGET while the service runs (SQLite: online backup API;
    PostgreSQL: pg_dump, custom format)."""
    from dailypapers.ops.backup import backup as run_backup

    with open_library() as lib:
        click.echo(run_backup(lib, target).summary())


@click.command()
@click.argument("source", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Replace the configured database even if it holds rows.")
@friendly
def restore(source: Path, force: bool) -> None:
    """Restore the backup SOURCE into the configured database: a fresh data folder or an empty PostgreSQL database
    (stop the server and the worker first). SQLite's vector and keyword indexes are rebuilt from the restored rows."""
    from dailypapers.ops.backup import restore as run_restore

    click.echo(run_restore(load_config(), source, force=force).summary())
