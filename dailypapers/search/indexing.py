"""Keeping the search index in step with imports: import, then embed and index what the import changed.

The papers service stores records and nothing else; :class:`Indexing` runs an import (records, arXiv feed
announcements, an OAI-PMH harvest) and then :meth:`Search.update_index` over what it added or changed — also when
the import fails midway: what it stored before the failure is indexed, then the failure goes on up. A web request
that must not wait for the embedding model (a submission) stores now and asks for indexing *soon*: one background
thread embeds (:class:`~dailypapers.db.background.Soon`; the ``index.embed`` job picks up whatever it fails at).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import date
from typing import Protocol, TypeVar

from dailypapers.config import Config
from dailypapers.db.background import Soon
from dailypapers.db.meta import Meta
from dailypapers.papers.announcements import AnnouncementReport, ingest_announcements
from dailypapers.papers.oai_harvest import OaiReport, harvest_sets
from dailypapers.papers.service import Papers
from dailypapers.papers.sources.arxiv_feed import FeedRecord
from dailypapers.papers.sources.base import IngestReport, Record, SourceError
from dailypapers.search.service import Search

LAST_ANNOUNCEMENT_KEY = "announcements:last_day"  # the newest day an announcement feed listed papers on


class _Changes(Protocol):
    """What an import reports: how many papers it added and updated (what indexing then embeds)."""

    @property
    def added(self) -> int: ...

    @property
    def updated(self) -> int: ...


R = TypeVar("R", bound=_Changes)


class Indexing:
    """Imports followed by indexing, and indexing in the background, for one library's papers and search."""

    def __init__(self, papers: Papers, search: Search, meta: Meta, config: Config) -> None:
        self.papers, self.search, self.meta, self.config = papers, search, meta, config
        # Looked up at each run, not bound now: the search service's model may be swapped (tests) or not loaded yet.
        self._soon = Soon(
            "dailypapers-index", lambda: self.search.update_index(progress=False), failure="background indexing failed"
        )

    def ingest(
        self,
        records: Iterable[Record],
        *,
        added_at: date | None = None,
        progress: bool | None = None,
        index: bool = True,
    ) -> IngestReport:
        """Import records (:meth:`Papers.ingest`), then embed and index the new and changed papers."""
        return self.after(lambda: self.papers.ingest(records, added_at=added_at, progress=progress), index, progress)

    def ingest_announcements(
        self, records: Iterable[FeedRecord], *, progress: bool | None = None, index: bool = True
    ) -> AnnouncementReport:
        """Apply arXiv feed announcements (:mod:`dailypapers.papers.announcements`), then index what changed; the
        newest day a feed listed papers on is kept (:data:`LAST_ANNOUNCEMENT_KEY`, for ``dailypapers status``)."""

        def write(batch: Iterable[Record], /, *, added_at: date | None = None) -> IngestReport:
            return self.papers.ingest(batch, added_at=added_at, progress=progress)

        report = ingest_announcements(self.papers, write, records)
        if report.days:
            newest = max(report.days).isoformat()
            if newest > (self.meta.get(LAST_ANNOUNCEMENT_KEY) or ""):
                self.meta.set(LAST_ANNOUNCEMENT_KEY, newest)
        if index and (report.added or report.updated):
            self.search.update_index(progress=progress)
        return report

    def harvest_oai(
        self,
        sets: Sequence[str] | None = None,
        from_: date | None = None,
        until: date | None = None,
        metadata_prefix: str = "arXiv",
        progress: bool | None = None,
        *,
        index: bool = True,
    ) -> OaiReport:
        """Harvest arXiv's OAI-PMH sets resumably (:mod:`dailypapers.papers.oai_harvest`), then index what changed
        unless ``index`` is False."""
        return self.after(
            lambda: harvest_sets(
                self.papers, self.meta, self.config, sets=sets, from_=from_, until=until,
                metadata_prefix=metadata_prefix, progress=progress,
            ),
            index,
            progress,
        )  # fmt: skip

    def ingest_then_index_soon(self, records: Iterable[Record], day: date) -> IngestReport:
        """A submission's import: stored now, embedded by the background thread (never in the request's path)."""
        report = self.ingest(records, added_at=day, progress=False, index=False)
        if report.added or report.updated:
            self.soon()
        return report

    def soon(self) -> None:
        """Embed and index new papers in a background thread, now (see :class:`Soon`: no paper is left out)."""
        self._soon.request()

    def wait(self, timeout: float | None = None) -> bool:
        """Wait for the background indexing :meth:`soon` started; False if it still runs after ``timeout``."""
        return self._soon.wait(timeout)

    def after(self, run: Callable[[], R], index: bool, progress: bool | None) -> R:
        """Run the import ``run``, then (if ``index``) embed and index what it added or changed — also when it
        fails: a :class:`SourceError` carries what was stored before the failure as ``report``, and that is kept."""
        try:
            report = run()
        except SourceError as exc:
            partial = getattr(exc, "report", None)
            if index and partial and (partial.added or partial.updated):
                self.search.update_index(progress=progress)
            raise
        if index and (report.added or report.updated):
            self.search.update_index(progress=progress)
        return report
