"""The ``dailypapers`` command: a thin layer over :class:`dailypapers.library.Library`.

Each command parses its options, calls one library method and turns known errors into a one-line message and a
non-zero exit (``click.ClickException``), never a traceback.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from functools import wraps
from pathlib import Path
from typing import Any

import click

from dailypapers.config import ConfigError, load_config
from dailypapers.errors import UserError
from dailypapers.jobs.registry import INGEST_LOCK as INGEST_JOB
from dailypapers.library import Library
from dailypapers.papers.models import InvalidRecord
from dailypapers.papers.sources.base import IngestReport, SourceError
from dailypapers.papers.store import Filters, StoreError


def _friendly(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Turn the errors a user can cause into a clear message instead of a traceback."""

    @wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except (ConfigError, SourceError, StoreError, UserError, InvalidRecord, ValueError, OSError) as exc:
            raise click.ClickException(str(exc)) from exc

    return wrapper


@contextmanager
def _library(**overrides: Any) -> Iterator[Library]:
    lib = Library(load_config(**overrides))
    try:
        lib.init()
        yield lib
    finally:
        lib.close()


@contextmanager
def _job_lock(lib: Library, name: str = INGEST_JOB) -> Iterator[None]:
    """Hold the job lock ``name`` (imports and index builds never interleave), or fail with a clear message."""
    with lib.papers.job_lock(name) as acquired:
        if not acquired:
            raise click.ClickException(f"another import is running (lock '{name}'); try again later")
        yield


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="dailypapers")
def main() -> None:
    """dailypapers: a self-hosted research-paper discovery service.

    Settings come from DAILYPAPERS_* environment variables (see docs/configuration.md).
    """


@main.command()
@click.option(
    "--demo/--no-demo",
    default=False,
    help="Import the demo corpus (DAILYPAPERS_DEMO_CORPUS, else the packaged one) over the last 10 weekdays if the "
    "database is empty.",
)
@_friendly
def init(demo: bool) -> None:
    """Create the data folder and database (or upgrade its schema)."""
    config = load_config()
    lib = Library(config)
    try:
        applied = lib.init()
        click.echo(f"database ready ({lib.papers.backend}); migrations applied: {', '.join(applied) or 'none'}")
        if config.embed_model == "static":  # built at install time (~20 s), not by the first import or search
            from dailypapers.search.vectors.static import ensure_static_model, static_model_dir

            click.echo(f"static embedding model ready in {ensure_static_model(static_model_dir(config.data_dir))}")
        with _job_lock(lib):
            if demo and lib.papers.count() == 0:
                from dailypapers.demo import import_demo

                corpus = Path(config.demo_corpus) if config.demo_corpus else None  # empty: the packaged demo
                _report(import_demo(lib, corpus, date.today()))
            n = lib.search.update_index()
        if n:
            click.echo(f"indexed {n} papers")
    finally:
        lib.close()


def _report(report: IngestReport) -> None:
    for rejected in report.rejected[:50]:
        click.echo(f"rejected {rejected}", err=True)
    if len(report.rejected) > 50:
        click.echo(f"... and {len(report.rejected) - 50} more rejected records", err=True)
    click.echo(report.summary())


@main.group()
def index() -> None:
    """Maintain the embedding and vector indexes."""


@index.command("update")
@_friendly
def index_update() -> None:
    """Embed papers that are new or changed since the last run."""
    with _library() as lib, _job_lock(lib):
        click.echo(f"embedded {lib.search.update_index()} papers")


@index.command("rebuild")
@_friendly
def index_rebuild() -> None:
    """Rebuild the vector index from scratch (embeddings of unchanged papers are reused)."""
    with _library() as lib, _job_lock(lib):
        click.echo(f"vector index rebuilt: {lib.search.rebuild_index()} papers")


@index.command("prune")
@_friendly
def index_prune() -> None:
    """Delete the embeddings and vector indexes of every model but the configured one (DAILYPAPERS_EMBED_MODEL)."""
    with _library() as lib, _job_lock(lib):
        deleted = lib.search.prune_other_models()
        for model, n in deleted.items():
            click.echo(f"deleted {n} embeddings of {model}")
        click.echo(f"kept {lib.search.embedder.name}; deleted {sum(deleted.values())} embeddings of other models")


@main.group()
def db() -> None:
    """The database: schema migrations, and moving an instance to another database."""


@db.command("migrate")
@_friendly
def db_migrate() -> None:
    """Apply pending schema migrations and print them."""
    lib = Library(load_config())
    try:
        applied = lib.init()
    finally:
        lib.close()
    for name in applied:
        click.echo(f"applied {name}")
    click.echo(f"{lib.papers.backend} database up to date ({len(applied)} migration(s) applied)")


@db.command("copy")
@click.option("--to", "url", required=True, metavar="URL", help="Target database: postgresql://… or sqlite:///PATH.")
@click.option("--force", is_flag=True, help="Copy even if the target database is not empty.")
@click.option("--batch", default=1000, show_default=True, help="Papers per transaction.")
@_friendly
def db_copy(url: str, force: bool, batch: int) -> None:
    """Copy papers, embeddings, users, votes and settings from the configured database to URL (migrated first).

    Then point DAILYPAPERS_DATABASE_URL at URL. Exits non-zero when the row counts of both sides differ.
    """
    from dailypapers.papers.copy import describe, mismatches, open_target, progress_bars

    with _library() as lib, _job_lock(lib):
        dst = open_target(lib.config, url)
        try:
            dst.migrate()
            filled = {t: n for t, n in dst.table_counts().items() if n}
            if filled and not force:
                rows = ", ".join(f"{t}: {n}" for t, n in filled.items())
                raise click.ClickException(f"{describe(dst)} is not empty ({rows}); use --force to copy into it")
            with progress_bars() as progress:
                counts = lib.copy_to(dst, batch=batch, progress=progress)
            target = describe(dst)
        finally:
            dst.close()
    for table, (n_src, n_dst) in counts.items():
        click.echo(f"{table}: {n_src} -> {n_dst}")
    if bad := mismatches(counts):
        details = "; ".join(f"{t}: {a} rows in the source, {b} in the target" for t, (a, b) in bad.items())
        raise click.ClickException(f"copy incomplete: {details}")
    click.echo(f"copied to {target}; switch DAILYPAPERS_DATABASE_URL to it")


@main.command()
@click.argument("query")
@click.option("--since", type=click.DateTime(["%Y-%m-%d"]), help="Only papers dated on or after.")
@click.option("--until", type=click.DateTime(["%Y-%m-%d"]), help="Only papers dated on or before.")
@click.option("--category", help="Only papers in this category (cs.LG, or a prefix like cs).")
@click.option("--author", help="Only papers with an author whose name contains this.")
@click.option("--added-since", type=click.DateTime(["%Y-%m-%d"]), help="Only papers added here on or after.")
@click.option("--added-until", type=click.DateTime(["%Y-%m-%d"]), help="Only papers added here on or before.")
@click.option("--mode", type=click.Choice(["hybrid", "keyword", "semantic"]), default="hybrid", show_default=True)
@click.option("--limit", default=10, show_default=True, help="Results to print.")
@click.option("--page", default=1, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@_friendly
def search(
    query: str, since: Any, until: Any, category: str | None, author: str | None, added_since: Any, added_until: Any,
    mode: str, limit: int, page: int, as_json: bool,
) -> None:  # fmt: skip
    """Search papers by meaning and keywords. QUERY may be a whole abstract (up to DAILYPAPERS_MAX_QUERY_LENGTH
    characters); `-` reads it from standard input."""
    if query == "-":
        query = sys.stdin.read()
    given = dict(since=since, until=until, added_since=added_since, added_until=added_until)
    day = {k: v.date() for k, v in given.items() if v}
    filters = Filters(category=category, author=author, **day)
    with _library() as lib:
        result = lib.search.query(query, filters=filters, mode=mode, page=page, page_size=limit)
    if as_json:
        from dailypapers.serialize import search_json

        click.echo(json.dumps(search_json(result), indent=2))
        return
    if not result.results:
        click.echo("no results")
    for n, r in enumerate(result.results, start=(page - 1) * limit + 1):
        p = r.paper
        pin = " [exact match]" if r.pinned else ""
        click.echo(f"{n:3}. {p.title}{pin}")
        click.echo(f"     {p.id} · {p.display_date or ''} · {', '.join(p.authors[:3])}")


@main.command()
@click.option("--host", help="Address to listen on (default DAILYPAPERS_HOST).")
@click.option("--port", type=int, help="Port (default DAILYPAPERS_PORT).")
@click.option("--workers", type=int, help="Worker processes (default DAILYPAPERS_WORKERS).")
@_friendly
def serve(host: str | None, port: int | None, workers: int | None) -> None:
    """Serve the web site and the JSON API."""
    import uvicorn

    config = load_config()
    if config.serve_worker:  # a bad schedule stops here with its reason, not in each worker's startup
        from dailypapers.jobs.registry import JOBS
        from dailypapers.jobs.schedule import parse_schedule

        parse_schedule(config.schedule, config.time_zone, JOBS)
    with _library():
        pass  # migrate once before workers start
    uvicorn.run(
        "dailypapers.web.app:create_app",
        factory=True,
        host=host or config.host,
        port=port or config.port,
        workers=workers or config.workers,
        log_level=config.log_level.lower(),
        # A GET search of DAILYPAPERS_MAX_QUERY_LENGTH (10,000) characters percent-encodes to up to 12 bytes a
        # character (a 4-byte UTF-8 character is %XX four times): 120,000 bytes, past h11's default 16 KiB
        # request head, which it refuses with a bare text/plain 400. Reverse proxies have their own limit (nginx:
        # 8 KB), hence POST /search and POST /api/search for long text.
        h11_max_incomplete_event_size=max(16 * 1024, 12 * config.max_query_length + 64 * 1024),
    )


@main.command()
@click.argument("target", type=click.Path(dir_okay=False, path_type=Path))
@_friendly
def backup(target: Path) -> None:
    """Copy the SQLite database to TARGET while the service runs (online backup)."""
    with _library() as lib:
        lib.papers.backup(target)
    click.echo(f"backed up the database to {target} on {date.today().isoformat()}")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())


from dailypapers.cli_users import users  # noqa: E402  (after `main`: the group registers itself on it)

main.add_command(users)

from dailypapers import cli_jobs  # noqa: E402  (after `main`: worker and status register themselves on it)

cli_jobs.register(main)

from dailypapers import cli_digest  # noqa: E402  (after `main`: `dailypapers digest preview|send`)

cli_digest.register(main)

from dailypapers import cli_mail  # noqa: E402  (after `main`: `dailypapers mail test|deliver|outbox`)

cli_mail.register(main)

from dailypapers import cli_ingest  # noqa: E402  (after `main`: `dailypapers ingest jsonl|kaggle|arxiv|…`)

cli_ingest.register(main)
