"""The resumable OAI-PMH harvest: pages of :mod:`dailypapers.papers.sources.oai` into the catalogue, with the
resumption state kept in the database, so that a harvest killed at any moment goes on where it stopped.

The state of each (set, metadata format) is one JSON value in the ``meta`` table under ``oai:<format>:<set>``
(:func:`state_key`): the window under way (``from``, ``until``), the resumption token of the next page, the pages
and records done, and ``harvested_up_to``, the ``until`` of the last finished window.

Nothing is lost or duplicated because of the order of the writes: a page's records are stored first, then its token
is committed. A process killed in between re-requests that page on the next run and stores its records a second
time, which changes nothing (the upsert is idempotent: the same record twice is one paper, and the second time
counts as unchanged). A run that finds a window under way resumes it from the saved token (unless it is given other
``from``/``until``: then it starts the window asked for); one that finds none starts a new window from
``harvested_up_to`` (the day the last one covered, so that records arXiv changed later that day are not missed),
else from ``DAILYPAPERS_OAI_FROM``, else from yesterday, up to today. arXiv's resumption tokens expire after some
hours: a ``badResumptionToken`` for a saved token restarts that window from its ``from`` (safe for the same
reason), and the log says so.

Harvested papers join the daily list the way every bulk import does (:meth:`Papers.ingest`): a paper not stored
yet gets ``added_at`` = today; a stored paper keeps its ``added_at`` and its newest version.
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any, Protocol

from tqdm import tqdm

from dailypapers.config import Config, category_list
from dailypapers.db.meta import Meta
from dailypapers.papers.service import Papers
from dailypapers.papers.sources.base import Counted, Rejected, SourceError, today_utc
from dailypapers.papers.sources.oai import (
    OaiClient,
    OaiError,
    OaiPage,
    check_set,
    list_params,
    oai_options,
    resume_params,
    set_of_category,
)
from dailypapers.papers.store.base import UpsertCounts

log = logging.getLogger(__name__)


class PageSource(Protocol):
    """Where pages come from: :meth:`OaiClient.list_records`."""

    def list_records(self, params: Mapping[str, str], where: str) -> OaiPage: ...


@dataclass
class HarvestReport(Counted):
    """What one harvest of one set did; ``resumed_from`` is the saved token it went on from (None: from the start)."""

    set_spec: str
    metadata_prefix: str
    from_: date
    until: date
    pages: int = 0
    records: int = 0
    """Records seen on the pages of this run, deleted ones included."""
    deleted: int = 0
    counts: UpsertCounts = field(default_factory=UpsertCounts)
    rejected: list[Rejected] = field(default_factory=list)
    resumed_from: str | None = None
    restarted: bool = False
    """The saved token had expired (``badResumptionToken``): the window was harvested again from its start."""
    complete: bool = False

    def summary(self) -> str:
        resumed = "yes" if self.resumed_from else "no"
        if self.restarted:
            resumed += " (the saved token had expired: restarted from the window's start)"
        return (
            f"set {self.set_spec} ({self.metadata_prefix}, {self.from_} to {self.until}): pages {self.pages},"
            f" records {self.records}, {self.counts_text()},"
            f" deleted skipped {self.deleted}, rejected {len(self.rejected)}, resumed from token: {resumed}"
        )


@dataclass
class OaiReport:
    """The harvests of one run, one per set."""

    harvests: list[HarvestReport] = field(default_factory=list)

    @property
    def added(self) -> int:
        return sum(h.added for h in self.harvests)

    @property
    def updated(self) -> int:
        return sum(h.updated for h in self.harvests)

    @property
    def rejected(self) -> list[Rejected]:
        return [r for h in self.harvests for r in h.rejected]

    def summary(self) -> str:
        return "\n".join(h.summary() for h in self.harvests) or "no set harvested"

    def counts_dict(self) -> dict[str, Any]:
        """The totals as plain numbers (what a job run records), with the sets that resumed from a saved token."""
        h = self.harvests
        return {
            "sets": [x.set_spec for x in h],
            "pages": sum(x.pages for x in h),
            "records": sum(x.records for x in h),
            "added": self.added,
            "updated": self.updated,
            "unchanged": sum(x.unchanged for x in h),
            "deleted": sum(x.deleted for x in h),
            "rejected": len(self.rejected),
            "resumed": [x.set_spec for x in h if x.resumed_from],
        }


def state_key(set_spec: str, metadata_prefix: str) -> str:
    """The ``meta`` key of the harvest state of a set in a metadata format."""
    return f"oai:{metadata_prefix}:{set_spec}"


def load_state(meta: Meta, set_spec: str, metadata_prefix: str) -> dict[str, Any]:
    """The saved state (an empty dict before the first harvest); a value that is not ours is an error."""
    raw = meta.get(state_key(set_spec, metadata_prefix))
    if not raw:
        return {}
    try:
        state = json.loads(raw)
    except ValueError:
        state = None
    if not isinstance(state, dict):
        raise SourceError(f"the harvest state {state_key(set_spec, metadata_prefix)!r} in meta is not ours: {raw[:80]}")
    return state


def _window(
    state: Mapping[str, Any], from_: date | None, until: date | None, default_from: date | None
) -> tuple[date, date, str | None]:
    """``(from, until, saved token)``: the window under way when the arguments agree with it, else a new one."""
    if state.get("from") and state.get("until"):
        saved_from, saved_until = date.fromisoformat(state["from"]), date.fromisoformat(state["until"])
        if from_ in (None, saved_from) and until in (None, saved_until):
            return saved_from, saved_until, state.get("token") or None
        log.info("OAI-PMH: leaving the unfinished window %s to %s for the one asked for", saved_from, saved_until)
    done = state.get("harvested_up_to")
    today = today_utc()
    start = from_ or (date.fromisoformat(done) if done else None) or default_from or today - timedelta(days=1)
    return start, until or today, None


@dataclass
class _Progress:
    """The saved state of the window under way, written to ``meta`` at each commit."""

    meta: Meta
    report: HarvestReport
    harvested_up_to: str | None
    pages: int = 0
    records: int = 0

    def save(self, **extra: Any) -> None:
        r = self.report
        state = {"set": r.set_spec, "metadata_prefix": r.metadata_prefix, "pages": self.pages, "records": self.records}
        state.update(harvested_up_to=self.harvested_up_to, **extra)
        self.meta.set(state_key(r.set_spec, r.metadata_prefix), json.dumps(state, sort_keys=True))

    def start(self) -> dict[str, str]:
        """Begin (or begin again) the window at its first page; the arguments of its first request."""
        r = self.report
        self.pages = self.records = 0
        self.save(**{"from": r.from_.isoformat(), "until": r.until.isoformat(), "token": None})
        return list_params(r.set_spec, r.metadata_prefix, r.from_, r.until)

    def commit(self, page: OaiPage) -> dict[str, str] | None:
        """Record a stored page: the arguments of the next request, or None (and the window finished) at the end."""
        r = self.report
        self.pages, self.records = self.pages + 1, self.records + len(page.records) + page.deleted
        if page.token:
            self.save(**{"from": r.from_.isoformat(), "until": r.until.isoformat(), "token": page.token})
            return resume_params(page.token)
        self.harvested_up_to = r.until.isoformat()
        self.save(last_from=r.from_.isoformat())
        r.complete = True
        return None


def harvest(
    papers: Papers,
    meta: Meta,
    source: PageSource,
    *,
    set_spec: str,
    metadata_prefix: str = "arXiv",
    from_: date | None = None,
    until: date | None = None,
    default_from: date | None = None,
    progress: bool | None = None,
) -> HarvestReport:
    """Harvest ``set_spec`` page by page into ``papers``, committing the resumption state to ``meta`` after each
    page (see the module docstring for the window and the order of writes). ``from_``/``until`` are metadata
    datestamps; ``default_from`` is where a first harvest starts without ``from_`` (default: yesterday).

    A failure (network, OAI-PMH error, hostile XML) raises :class:`SourceError` with ``report`` on it: the pages
    before it are stored and their token committed, so the next run goes on from there.
    """
    state = load_state(meta, check_set(set_spec), metadata_prefix)
    start, end, token = _window(state, from_, until, default_from)
    report = HarvestReport(set_spec, metadata_prefix, start, end, resumed_from=token)
    run = _Progress(meta, report, state.get("harvested_up_to"))
    if token:
        run.pages, run.records = int(state.get("pages", 0)), int(state.get("records", 0))
    params: dict[str, str] | None = resume_params(token) if token else run.start()
    show = sys.stderr.isatty() if progress is None else progress
    bar = tqdm(unit=" records", disable=not show, file=sys.stderr, desc=f"oai {set_spec}")
    try:
        while params is not None:
            where = f"OAI-PMH set {set_spec} page {run.pages + 1}"
            try:
                page = source.list_records(params, where)
            except OaiError as exc:
                saved = token is not None and params.get("resumptionToken") == token
                if exc.code != "badResumptionToken" or not saved or report.restarted:
                    raise
                log.warning("%s: the saved resumption token expired; harvesting %s to %s again from its start",
                            where, start, end)  # fmt: skip
                report.restarted, params = True, run.start()
                continue
            _store_page(papers, page, report)  # first the records ...
            params = run.commit(page)  # ... then the token that leads past them
            bar.total = page.complete_size
            bar.update(len(page.records) + page.deleted)
            log.info("%s: %d records (%d deleted)", where, len(page.records) + page.deleted, page.deleted)
    except SourceError as exc:
        exc.report = report  # type: ignore[attr-defined]
        raise
    finally:
        bar.close()
    return report


def _store_page(papers: Papers, page: OaiPage, report: HarvestReport) -> None:
    """Upsert one page's papers (``added_at`` left to the ingest rule of every bulk import) and count them."""
    ingested = papers.ingest(page.records, progress=False)
    report.pages += 1
    report.records += len(page.records) + page.deleted
    report.deleted += page.deleted
    report.counts += ingested.counts
    report.rejected.extend(ingested.rejected)


def configured_sets(config: Config) -> list[str]:
    """``DAILYPAPERS_OAI_SETS``, else the sets of the archives of ``DAILYPAPERS_CATEGORIES`` (``cs.LG`` → ``cs``)."""
    sets = category_list(config.oai_sets) or [set_of_category(c) for c in category_list(config.categories)]
    return list(dict.fromkeys(sets))


def harvest_sets(
    papers: Papers,
    meta: Meta,
    config: Config,
    *,
    sets: Sequence[str] | None = None,
    from_: date | None = None,
    until: date | None = None,
    metadata_prefix: str = "arXiv",
    progress: bool | None = None,
) -> OaiReport:
    """Harvest each of ``sets`` (default: :func:`configured_sets`) in turn from ``config``'s OAI-PMH server.

    A failure raises :class:`SourceError` whose ``report`` is an :class:`OaiReport` of everything stored before it.
    """
    wanted = [check_set(s) for s in dict.fromkeys(sets or configured_sets(config))]
    if not wanted:
        raise SourceError("no OAI-PMH set to harvest: name one (--set cs) or set DAILYPAPERS_OAI_SETS / _CATEGORIES")
    default_from = date.fromisoformat(config.oai_from) if config.oai_from else None
    report = OaiReport()
    with OaiClient(**oai_options(config)) as client:
        for spec in wanted:
            try:
                report.harvests.append(
                    harvest(papers, meta, client, set_spec=spec, metadata_prefix=metadata_prefix,
                            from_=from_, until=until, default_from=default_from, progress=progress)
                )  # fmt: skip
            except SourceError as exc:
                if partial := getattr(exc, "report", None):
                    report.harvests.append(partial)
                exc.report = report  # type: ignore[attr-defined]
                raise
    return report
