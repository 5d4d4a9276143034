"""Operations commands: ``dailypapers check [--repair] [--json]``, and the log format every command uses.

``check`` opens the configured database without migrating it (a pending migration is one of the things it reports),
runs :func:`dailypapers.ops.check.run_checks` and exits 0 when the instance is consistent, 1 when problems remain;
with ``--repair`` it rebuilds what is derived and exits 0 when that repaired everything.
"""

from __future__ import annotations

import json

import click

from dailypapers.cli_common import friendly
from dailypapers.config import ConfigError, load_config
from dailypapers.library import Library
from dailypapers.ops.check import run_checks
from dailypapers.ops.logs import configure_logging


def configure_cli_logging() -> None:
    """JSON log lines for every command when ``DAILYPAPERS_LOG_FORMAT=json`` (a job run by ``worker`` or ``jobs run``
    logs its events as JSON); plain text stays as it was. A bad configuration is left to the command to report."""
    try:
        config = load_config()
    except ConfigError:
        return
    if config.log_format == "json":
        configure_logging("json", config.log_level)


@click.command()
@click.option("--repair", is_flag=True, help="Rebuild what is derived (indexes, embeddings, job and mail states).")
@click.option("--json", "as_json", is_flag=True, help="Print the findings as JSON.")
@friendly
def check(repair: bool, as_json: bool) -> None:
    """Check that the keyword and vector indexes hold every paper, that no job or mail was left half done by a
    process that died, and that the schema is current. Exit status: 0 clean (or repaired), 1 problems remain.

    --repair never changes what people wrote: papers, accounts, votes, comments, collections, subscriptions."""
    lib = Library(load_config())
    try:
        report = run_checks(lib, repair=repair)
    finally:
        lib.close()
    if as_json:
        click.echo(json.dumps(report.as_json(), indent=2, default=str))
    else:
        for found in report.findings:
            mark = "ok     " if found.ok else "PROBLEM"
            click.echo(f"{mark} {found.name}: {found.detail}")
            if found.repaired:
                click.echo(f"        repaired: {found.repaired}")
        click.echo(
            "clean" if report.ok else "problems found" + ("" if repair else " (--repair rebuilds what is derived)")
        )
    raise SystemExit(report.exit_code)
