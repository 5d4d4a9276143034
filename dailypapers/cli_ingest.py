"""``dailypapers ingest jsonl|kaggle|arxiv|hf|feed|oai``: importing papers from each source on the command line.

Each command reads its source, stores the papers under the ingest lock (the one the ``ingest.*`` jobs take, so a
manual import and a scheduled one never interleave), then embeds and indexes what changed unless ``--no-index``.
A source that fails midway keeps what it stored before the failure, and the command says how much that was.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click

from dailypapers.cli_common import friendly, job_lock, open_library, print_report
from dailypapers.config import load_config
from dailypapers.papers.sources.base import Record, SourceError


def _run_ingest(records: Iterator[Record], no_index: bool) -> None:
    with open_library() as lib, job_lock(lib):
        try:
            print_report(lib.ingest(records, index=not no_index))
        except SourceError as exc:
            if partial := getattr(exc, "report", None):
                click.echo(f"stopped early; stored before the error: {partial.summary()}", err=True)
            raise


@click.group()
def ingest() -> None:
    """Import papers from a source (idempotent: running it twice changes nothing)."""


_no_index = click.option("--no-index", is_flag=True, help="Import only; embed and index later (`index update`).")


@ingest.command("jsonl")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@_no_index
@friendly
def ingest_jsonl(path: Path, no_index: bool) -> None:
    """Plain JSONL: one {"title", "abstract", [id, authors, categories, published]} per line."""
    from dailypapers.papers.sources.jsonl import read_jsonl

    _run_ingest(read_jsonl(path), no_index)


@ingest.command("kaggle")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--category", "categories", multiple=True, help="Keep papers in this category (repeatable).")
@click.option("--since", type=click.DateTime(["%Y-%m-%d"]), help="Keep papers first published on or after.")
@click.option("--until", type=click.DateTime(["%Y-%m-%d"]), help="Keep papers first published on or before.")
@_no_index
@friendly
def ingest_kaggle(path: Path, categories: tuple[str, ...], since: Any, until: Any, no_index: bool) -> None:
    """The Kaggle arXiv snapshot (arxiv-metadata-oai-snapshot.json), streamed line by line."""
    from dailypapers.papers.sources.kaggle import read_kaggle

    records = read_kaggle(
        path,
        categories=set(categories) or None,
        since=since.date() if since else None,
        until=until.date() if until else None,
    )
    _run_ingest(records, no_index)


@ingest.command("arxiv")
@click.argument("query", default="cat:cs.LG")
@click.option("--max-results", default=200, show_default=True, help="Stop after this many entries.")
@click.option("--page-size", default=100, show_default=True, help="Entries per API request.")
@_no_index
@friendly
def ingest_arxiv(query: str, max_results: int, page_size: int, no_index: bool) -> None:
    """The arXiv API (newest first), e.g. `dailypapers ingest arxiv "cat:cs.CL"`."""
    from dailypapers.papers.sources.arxiv_api import arxiv_options, read_arxiv

    records = read_arxiv(query, max_results=max_results, page_size=page_size, **arxiv_options(load_config()))
    _run_ingest(records, no_index)


@ingest.command("hf")
@click.argument("source")
@_no_index
@friendly
def ingest_hf(source: str, no_index: bool) -> None:
    """Hugging Face daily-papers JSON, from a file or an http(s) URL."""
    from dailypapers.papers.sources.hf_daily import read_hf_daily

    _run_ingest(read_hf_daily(source, timeout=load_config().http_timeout), no_index)


@ingest.command("feed")
@click.argument("categories", nargs=-1, required=True)
@click.option("--format", "fmt", type=click.Choice(["atom", "rss"]), default="atom", show_default=True)
@_no_index
@friendly
def ingest_feed(categories: tuple[str, ...], fmt: str, no_index: bool) -> None:
    """Today's arXiv announcements, e.g. `dailypapers ingest feed cs.LG stat.ML` (new and cross-listed papers join
    the day's list; replacements update stored papers)."""
    from dailypapers.papers.sources.arxiv_feed import feed_options, read_arxiv_feed

    records = read_arxiv_feed(categories, fmt=fmt, **feed_options(load_config()))
    with open_library() as lib, job_lock(lib):
        report = lib.ingest_announcements(records, index=not no_index)
    for rejected in report.rejected[:50]:
        click.echo(f"rejected {rejected}", err=True)
    click.echo(report.summary())


@ingest.command("oai")
@click.option("--set", "sets", multiple=True, help="OAI-PMH set (cs, math, physics:hep-th; repeatable).")
@click.option(
    "--from", "from_", type=click.DateTime(["%Y-%m-%d"]), help="First metadata datestamp (not a submission day)."
)
@click.option("--until", type=click.DateTime(["%Y-%m-%d"]), help="Last metadata datestamp (default: today).")
@click.option("--format", "fmt", type=click.Choice(["arXiv", "arXivRaw"]), default="arXivRaw", show_default=True)
@_no_index
@friendly
def ingest_oai(sets: tuple[str, ...], from_: Any, until: Any, fmt: str, no_index: bool) -> None:
    """Bulk harvest over arXiv's OAI-PMH, resumable: a rerun goes on from the last page stored (default sets:
    DAILYPAPERS_OAI_SETS, else the archives of DAILYPAPERS_CATEGORIES)."""
    with open_library() as lib, job_lock(lib):
        try:
            report = lib.harvest_oai(
                list(sets) or None,
                from_.date() if from_ else None,
                until.date() if until else None,
                fmt,
                index=not no_index,
            )
        except SourceError as exc:
            if (partial := getattr(exc, "report", None)) and partial.harvests:
                click.echo(f"stopped early; stored before the error:\n{partial.summary()}", err=True)
            raise
    for rejected in report.rejected[:50]:
        click.echo(f"rejected {rejected}", err=True)
    click.echo(report.summary())
