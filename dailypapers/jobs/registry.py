"""The job registry: every background job is a named function of the library, returning what it did.

``dailypapers jobs run NAME``, the scheduler (:mod:`dailypapers.jobs.scheduler`) and the tests call the same
function through :func:`dailypapers.jobs.scheduler.run_now` or a scheduled slot. A job returns a small dict of
counts (``{"added": 12, ...}``), which the run record keeps and the status page shows; it raises to fail.

Each job names the lock it runs under (:meth:`dailypapers.papers.service.Papers.job_lock`): the imports share
:data:`INGEST_LOCK` with the CLI's import commands, so two imports never interleave, while ``index.embed`` has a
lock of its own (the vector index serialises its writers itself) and may embed while a long harvest runs.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from dailypapers.config import category_list

if TYPE_CHECKING:
    from dailypapers.library import Library

INGEST_LOCK = "ingest"  # also taken by `dailypapers ingest …`, `index …` and `db copy`
Counts = dict[str, Any]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Job:
    """A named job: what it does (``help``), the lock it holds, and the function that does it."""

    name: str
    help: str
    lock: str
    fn: Callable[[Library], Counts]


def ingest_announcements(lib: Library) -> Counts:
    """Read today's announcement feed of the configured categories; new and cross-listed papers join the day."""
    from dailypapers.papers.sources.arxiv_feed import feed_options, read_arxiv_feed

    categories = category_list(lib.config.categories)
    if not categories:
        return {"note": "no categories configured (DAILYPAPERS_CATEGORIES)"}
    records = read_arxiv_feed(categories, **feed_options(lib.config))
    report = lib.ingest_announcements(records, progress=False, index=False)
    replaced = report.replaced.counts
    return {
        "days": sorted(day.isoformat() for day in report.days),
        "added": sum(r.added for r in report.days.values()),
        "listed": sum(r.counts.added + r.counts.updated + r.counts.unchanged for r in report.days.values()),
        "replaced": replaced.updated,
        "rejected": len(report.rejected),
    }


def ingest_oai(lib: Library) -> Counts:
    """Harvest the metadata changed since the last harvest (OAI-PMH), resuming an interrupted one."""
    if not (lib.config.oai_sets or lib.config.categories):
        return {"note": "no OAI sets or categories configured (DAILYPAPERS_OAI_SETS, DAILYPAPERS_CATEGORIES)"}
    # arXivRaw, not arXiv: only it carries version numbers, and "one paper, at its newest version" needs them
    # (a record without a version never replaces a stored numbered one, so metadata fixes would not arrive).
    return lib.harvest_oai(metadata_prefix="arXivRaw", progress=False, index=False).counts_dict()


def ingest_arxiv(lib: Library) -> Counts:
    """Import the newest ``DAILYPAPERS_INGEST_MAX_RESULTS`` papers of ``DAILYPAPERS_INGEST_QUERY`` (arXiv API)."""
    from dailypapers.papers.sources.arxiv_api import arxiv_options, read_arxiv

    config = lib.config
    if not config.ingest_query:
        return {"note": "no query configured (DAILYPAPERS_INGEST_QUERY)"}
    gate = lib.submissions.gate  # one arXiv API request at a time for the whole instance, submissions included
    with gate.held(), gate.spaced():
        records = list(read_arxiv(config.ingest_query, max_results=config.ingest_max_results, **arxiv_options(config)))
    report = lib.ingest(records, progress=False, index=False)
    return {"added": report.added, "updated": report.updated, "unchanged": report.unchanged,
            "rejected": len(report.rejected)}  # fmt: skip


def index_embed(lib: Library) -> Counts:
    """Embed new and changed papers with the configured model and add them to the vector index."""
    embedded = lib.search.update_index(progress=False)
    return {"embedded": embedded, "model": lib.embedder.name}


def digest_send(lib: Library) -> Counts:
    """Record the email digest of every due subscription in the outbox, then deliver it (``lib.digests``)."""
    return lib.digests.send_due().counts()


def mail_deliver(lib: Library) -> Counts:
    """Deliver the due email of the outbox: retries after temporary failures, mail left by a stopped sender."""
    report = lib.deliver_mail()
    counts: Counts = {"sent": report.sent, "retried": report.retried, "failed": report.failed}
    if report.skipped_locked:
        counts["note"] = "another delivery holds the lock 'mail'"
    if report.held or report.recovered:
        counts.update(held=report.held, recovered=report.recovered)
    return counts


def topic_map(lib: Library) -> Counts:
    """Place new papers on the topic map by their neighbours (the whole layout the first time)."""
    return lib.topics.update_map()


def topic_map_full(lib: Library) -> Counts:
    """Compute the whole topic map again: layout, clusters and labels (a new generation)."""
    return lib.topics.update_map(full=True)


def keyphrases(lib: Library) -> Counts:
    """Extract the key phrases and key sentence of papers that have none (or whose text changed), at most
    :data:`~dailypapers.topics.service.PHRASES_PER_RUN` a run (a backlog is worked off by the next runs)."""
    from dailypapers.topics.service import PHRASES_PER_RUN

    return lib.topics.update_phrases(limit=PHRASES_PER_RUN)


JOBS: dict[str, Job] = {
    job.name: job
    for job in (
        Job("ingest.announcements", "today's arXiv announcement feeds of DAILYPAPERS_CATEGORIES", INGEST_LOCK,
            ingest_announcements),
        Job("ingest.oai", "OAI-PMH harvest of changed metadata (resumable)", INGEST_LOCK, ingest_oai),
        Job("ingest.arxiv", "the arXiv API query DAILYPAPERS_INGEST_QUERY", INGEST_LOCK, ingest_arxiv),
        Job("index.embed", "embed new and changed papers", "index.embed", index_embed),
        Job("digest.send", "email the digests that are due (each subscriber's own hour)", "digest.send", digest_send),
        # its own lock name: deliver() takes the lock "mail" itself, and a second flock of one name in one process
        # would find it held
        Job("mail.deliver", "deliver due email: retries, and mail a stopped sender left", "mail.deliver",
            mail_deliver),
        # "map" and "map.full" share a lock: a recomputation and a placement never interleave.
        Job("map", "place new papers on the topic map (the whole map the first time)", "map", topic_map),
        Job("map.full", "compute the whole topic map again (layout, clusters, labels)", "map", topic_map_full),
        Job("keyphrases", "key phrases and key sentence of new and changed papers", "keyphrases", keyphrases),
    )
}  # fmt: skip


def register(job: Job) -> Job:
    """Add ``job`` to :data:`JOBS` (for jobs of higher layers, such as the e-mail digest); returns it."""
    if job.name in JOBS and JOBS[job.name] is not job:
        raise ValueError(f"a job named {job.name!r} is registered already")
    JOBS[job.name] = job
    return job


def get_job(name: str) -> Job:
    """The registered job ``name``; :class:`KeyError` with the known names otherwise."""
    try:
        return JOBS[name]
    except KeyError:
        raise KeyError(f"no job named {name!r}; the jobs are {', '.join(sorted(JOBS))}") from None
