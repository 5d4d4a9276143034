"""What every ``dailypapers`` command shares: errors a user can cause as one-line messages, the configured library
opened and closed around a command, the import lock, and an import's report.

:mod:`dailypapers.cli` and each ``cli_*`` module import these; none of them imports :mod:`dailypapers.cli`, which
only gathers their commands on ``main``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import wraps
from typing import Any

import click

from dailypapers.config import ConfigError, load_config
from dailypapers.errors import UserError
from dailypapers.jobs.registry import INGEST_LOCK as INGEST_JOB
from dailypapers.library import Library
from dailypapers.papers.models import InvalidRecord
from dailypapers.papers.sources.base import IngestReport, SourceError
from dailypapers.papers.store import StoreError

MAX_REJECTED_SHOWN = 50  # rejected records printed one per line; the rest are counted


def friendly(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Turn the errors a user can cause into a clear message instead of a traceback."""

    @wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except (ConfigError, SourceError, StoreError, UserError, InvalidRecord, ValueError, OSError) as exc:
            raise click.ClickException(str(exc)) from exc

    return wrapper


@contextmanager
def open_library(**overrides: Any) -> Iterator[Library]:
    """The configured library, its schema migrated, closed when the block ends."""
    lib = Library(load_config(**overrides))
    try:
        lib.init()
        yield lib
    finally:
        lib.close()


@contextmanager
def job_lock(lib: Library, name: str = INGEST_JOB) -> Iterator[None]:
    """Hold the job lock ``name`` (imports and index builds never interleave), or fail with a clear message."""
    with lib.papers.job_lock(name) as acquired:
        if not acquired:
            raise click.ClickException(f"another import is running (lock '{name}'); try again later")
        yield


def print_report(report: IngestReport) -> None:
    """An import's rejected records (on standard error) and its summary."""
    for rejected in report.rejected[:MAX_REJECTED_SHOWN]:
        click.echo(f"rejected {rejected}", err=True)
    if len(report.rejected) > MAX_REJECTED_SHOWN:
        click.echo(f"... and {len(report.rejected) - MAX_REJECTED_SHOWN} more rejected records", err=True)
    click.echo(report.summary())
