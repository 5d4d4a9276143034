"""``dailypapers jobs list|run NAME``, ``dailypapers worker`` and ``dailypapers status``: jobs on the command line.

``worker`` runs the schedule (``DAILYPAPERS_SCHEDULE``) until stopped — SIGTERM or Ctrl-C stop it between ticks —
or, with ``--once``, does one round and exits when the jobs it started have ended (for a system crontab, say).
Any number of workers, on any number of machines, may run against one database: each slot runs once.
``jobs run NAME`` runs a job now, through the same function the scheduler calls, and records the run.
"""

from __future__ import annotations

import json
import signal
import threading

import click

from dailypapers.cli_common import friendly, open_library
from dailypapers.jobs.registry import JOBS
from dailypapers.jobs.scheduler import Scheduler, run_now
from dailypapers.jobs.status import instance_status, status_lines


@click.group()
def jobs() -> None:
    """The named background jobs (the scheduler calls the same functions)."""


@jobs.command("list")
@friendly
def jobs_list() -> None:
    """Every job, its schedule, and its newest run."""
    with open_library() as lib:
        status = instance_status(lib)
    for job in status.jobs:
        last = job.last
        when = f"last {last.status} {last.started_at:%Y-%m-%d %H:%M} UTC" if last else "never run"
        click.echo(f"{job.name:<22}{job.cron or 'by hand':<18}{when:<34}{job.help}")


@jobs.command("run")
@click.argument("name", type=click.Choice(sorted(JOBS)))
@friendly
def jobs_run(name: str) -> None:
    """Run job NAME now and record the run (exit status 1 if it failed or is running elsewhere)."""
    with open_library() as lib:
        outcome = run_now(lib, name)
    if outcome.result == "busy":
        raise click.ClickException(f"job {name} is running elsewhere (its lock is held); try again later")
    run = outcome.run
    assert run is not None
    took = f"{run.duration_s:.1f} s" if run.duration_s is not None else "?"
    click.echo(f"{name}: {run.status} in {took}; {json.dumps(run.counts, default=str)}")
    if run.status != "ok":
        raise click.ClickException(f"job {name} failed: {run.error}")


@click.command()
@click.option("--once", is_flag=True, help="Run the due jobs once, wait for them, and exit.")
@friendly
def worker(once: bool) -> None:
    """Run the jobs of DAILYPAPERS_SCHEDULE at their times (each slot once, however many workers run)."""
    with open_library() as lib:
        scheduler = Scheduler(lib)
        if not scheduler.entries:
            raise click.ClickException("nothing is scheduled: set DAILYPAPERS_SCHEDULE (see docs/jobs.md)")
        if once:
            started = scheduler.tick()
            outcomes = scheduler.wait_idle(timeout=None)
            click.echo(f"started {', '.join(started) or 'nothing (no job was due)'}")
            for o in outcomes:
                click.echo(f"{o.job}: {o.run.status if o.run else o.result}")
            return
        stopped = threading.Event()
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: stopped.set())
        for entry in scheduler.entries:
            click.echo(f"scheduled {entry.job}: {entry.cron} ({entry.zone.key})")
        scheduler.start()
        stopped.wait()
        scheduler.stop()
        running = scheduler.running()
        note = f"; interrupted {', '.join(running)} (retried by the next worker)" if running else ""
        click.echo("worker stopped" + note)


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@friendly
def status(as_json: bool) -> None:
    """Papers, embeddings, index and database size, and each job's last run."""
    with open_library() as lib:
        result = instance_status(lib)
    if as_json:
        click.echo(json.dumps(result.as_json(), indent=2, default=str))
        return
    for line in status_lines(result):
        click.echo(line)
