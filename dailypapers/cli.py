"""The ``dailypapers`` command: a thin layer over :class:`dailypapers.library.Library`.

Each command parses its options, calls one library method and turns known errors into a one-line message and a
non-zero exit (``click.ClickException``), never a traceback. The helpers every command shares are in
:mod:`dailypapers.cli_common`; the ``cli_*`` modules define the other commands and groups, which ``main`` gathers at
the end of this module (none of them imports this one).
"""

from __future__ import annotations

import json
import sys
from datetime import date
from pathlib import Path
from typing import Any

import click

from dailypapers.cli_backup import backup, restore
from dailypapers.cli_common import friendly, job_lock, open_library, print_report
from dailypapers.cli_digest import digest
from dailypapers.cli_ingest import ingest
from dailypapers.cli_jobs import jobs, status, worker
from dailypapers.cli_mail import mail
from dailypapers.cli_ops import check, configure_cli_logging
from dailypapers.cli_topics import map_group, topics
from dailypapers.cli_users import users
from dailypapers.config import load_config
from dailypapers.library import Library
from dailypapers.ops.logs import logging_config
from dailypapers.ops.metrics import prepare_multiprocess_dir
from dailypapers.papers.models import Filters


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="dailypapers")
def main() -> None:
    """dailypapers: a self-hosted research-paper discovery service.

    Settings come from DAILYPAPERS_* environment variables (see docs/configuration.md).
    """
    configure_cli_logging()  # JSON lines for `worker`, `jobs run`, … when DAILYPAPERS_LOG_FORMAT=json


@main.command()
@click.option(
    "--demo/--no-demo",
    default=False,
    help="Import the demo corpus (DAILYPAPERS_DEMO_CORPUS, else the packaged one) over the last 10 weekdays if the "
    "database is empty.",
)
@friendly
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
        with job_lock(lib):
            if demo and lib.papers.count() == 0:
                from dailypapers.demo import import_demo

                corpus = Path(config.demo_corpus) if config.demo_corpus else None  # empty: the packaged demo
                print_report(import_demo(lib, corpus, date.today()))
            n = lib.search.update_index()
        if n:
            click.echo(f"indexed {n} papers")
    finally:
        lib.close()


@main.group()
def index() -> None:
    """Maintain the embedding and vector indexes."""


@index.command("update")
@friendly
def index_update() -> None:
    """Embed papers that are new or changed since the last run."""
    with open_library() as lib, job_lock(lib):
        click.echo(f"embedded {lib.search.update_index()} papers")


@index.command("rebuild")
@friendly
def index_rebuild() -> None:
    """Rebuild the vector index from scratch (embeddings of unchanged papers are reused)."""
    with open_library() as lib, job_lock(lib):
        click.echo(f"vector index rebuilt: {lib.search.rebuild_index()} papers")


@index.command("prune")
@friendly
def index_prune() -> None:
    """Delete the embeddings and vector indexes of every model but the configured one (DAILYPAPERS_EMBED_MODEL)."""
    with open_library() as lib, job_lock(lib):
        deleted = lib.search.prune_other_models()
        for model, n in deleted.items():
            click.echo(f"deleted {n} embeddings of {model}")
        click.echo(f"kept {lib.search.embedder.name}; deleted {sum(deleted.values())} embeddings of other models")


@main.group()
def db() -> None:
    """The database: schema migrations, and moving an instance to another database."""


@db.command("migrate")
@friendly
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
@friendly
def db_copy(url: str, force: bool, batch: int) -> None:
    """Copy papers, embeddings, users, votes and settings from the configured database to URL (migrated first).

    Then point DAILYPAPERS_DATABASE_URL at URL. Exits non-zero when the row counts of both sides differ.
    """
    from dailypapers.papers.copy import describe, mismatches, open_target, progress_bars

    with open_library() as lib, job_lock(lib):
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
@friendly
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
    with open_library() as lib:
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
@friendly
def serve(host: str | None, port: int | None, workers: int | None) -> None:
    """Serve the web site and the JSON API."""
    import uvicorn

    config = load_config()
    if config.serve_worker:  # a bad schedule stops here with its reason, not in each worker's startup
        from dailypapers.jobs.registry import JOBS
        from dailypapers.jobs.schedule import parse_schedule

        parse_schedule(config.schedule, config.time_zone, JOBS)
    with open_library():
        pass  # migrate once before workers start
    port, workers = port or config.port, workers or config.workers
    if workers > 1:  # each worker writes its metrics there; a scrape of any one sums them all (ops/metrics.py)
        prepare_multiprocess_dir(config.data_dir / "metrics" / str(port))
    uvicorn.run(
        "dailypapers.web.app:create_app",
        factory=True,
        host=host or config.host,
        port=port,
        workers=workers,
        log_level=config.log_level.lower(),
        # Our access log (dailypapers.web.access) replaces uvicorn's, which wrote secrets in URLs; each worker
        # applies the log config: text or JSON lines (DAILYPAPERS_LOG_FORMAT).
        access_log=False,
        log_config=logging_config(config.log_format, config.log_level),
        # A GET search of DAILYPAPERS_MAX_QUERY_LENGTH (10,000) characters percent-encodes to up to 12 bytes a
        # character (a 4-byte UTF-8 character is %XX four times): 120,000 bytes, past h11's default 16 KiB
        # request head, which it refuses with a bare text/plain 400. Reverse proxies have their own limit (nginx:
        # 8 KB), hence POST /search and POST /api/search for long text.
        h11_max_incomplete_event_size=max(16 * 1024, 12 * config.max_query_length + 64 * 1024),
    )


# each cli_* module's commands (none imports this one)
for command in (users, jobs, worker, status, digest, mail, ingest, backup, restore, check, topics, map_group):
    main.add_command(command)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
