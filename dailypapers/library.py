"""The composition root: ``Library(config)`` opens the configured database and wires the domain services.

* ``lib.papers`` — the catalogue (:class:`dailypapers.papers.service.Papers`);
* ``lib.search`` — hybrid search, similar papers, the vector index (:class:`dailypapers.search.service.Search`);
* ``lib.accounts`` — users, sessions, API tokens (:class:`dailypapers.accounts.service.Accounts`);
* ``lib.votes`` — upvotes (:class:`dailypapers.community.votes.Votes`);
* ``lib.submissions`` — papers submitted by arXiv id, and code/project links
  (:class:`dailypapers.community.submissions.Submissions`);
* ``lib.authors`` — author pages by name slug (:class:`dailypapers.papers.authors.Authors`);
* ``lib.claims`` — authorship claims (:class:`dailypapers.community.claims.Claims`);
* ``lib.collections`` — reading lists (:class:`dailypapers.community.collections.Collections`);
* ``lib.comments`` — comments and their moderation (:class:`dailypapers.community.comments.Comments`).

The CLI and the web app call these services, never a store or SQL. The library itself does only what crosses
domains: creating the schema, importing records *and* indexing them, and the instance's signing key.
"""

from __future__ import annotations

import logging
import secrets
import threading
from collections.abc import Callable, Iterable, Sequence
from datetime import date
from functools import cached_property
from typing import Protocol, TypeVar

from dailypapers.accounts.service import Accounts
from dailypapers.community.claims import Claims
from dailypapers.community.collections import Collections
from dailypapers.community.comments import Comments
from dailypapers.community.submissions import Submissions
from dailypapers.community.votes import Votes
from dailypapers.config import Config
from dailypapers.papers.announcements import AnnouncementReport, ingest_announcements
from dailypapers.papers.authors import Authors
from dailypapers.papers.copy import Progress, copy_store
from dailypapers.papers.oai_harvest import OaiReport, harvest_sets
from dailypapers.papers.service import Papers
from dailypapers.papers.sources.arxiv_api import arxiv_options
from dailypapers.papers.sources.arxiv_feed import FeedRecord
from dailypapers.papers.sources.base import IngestReport, Record, SourceError
from dailypapers.papers.store import Store, open_store
from dailypapers.search.service import Search
from dailypapers.search.vectors.embedder import Embedder, MiniLMEmbedder

Counts = dict[str, tuple[int, int]]


class _Changes(Protocol):
    """What an import reports: how many papers it added and updated (what indexing then embeds)."""

    @property
    def added(self) -> int: ...

    @property
    def updated(self) -> int: ...


R = TypeVar("R", bound=_Changes)
log = logging.getLogger(__name__)
SECRET_META_KEY = "secret_key"
LAST_ANNOUNCEMENT_KEY = "announcements:last_day"  # the newest day an announcement feed listed papers on
"""Meta key of the generated signing key (used when ``DAILYPAPERS_SECRET_KEY`` is empty)."""


class Library:
    """dailypapers as a library. Thread-safe for reads; writes are serialised by the database."""

    def __init__(self, config: Config, *, store: Store | None = None, embedder: Embedder | None = None) -> None:
        self.config = config
        self.store = store or open_store(config)  # a part: the services use it, callers use the services
        self.db = self.store.db  # the plain tables (accounts, votes, rate limits): SQLAlchemy Core
        self._embedder = embedder
        self._lock = threading.Lock()
        self._index_lock = threading.Lock()  # guards the two fields below
        self._indexer: threading.Thread | None = None
        self._index_wanted = False
        self.papers = Papers(self.store)
        c = config
        self.search = Search(
            self.store,
            lambda: self.embedder,
            c.vector_dir,
            max_query_length=c.max_query_length,
            page_size=c.page_size,
            candidates=c.candidates,
            rrf_k=c.rrf_k,
            embed_batch=c.embed_batch,
        )

    @cached_property
    def accounts(self) -> Accounts:
        c = self.config
        return Accounts(self.db, signup=c.signup, session_days=c.session_days, invite_days=c.invite_days)

    @cached_property
    def votes(self) -> Votes:
        return Votes(self.db)

    @cached_property
    def submissions(self) -> Submissions:
        c = self.config
        return Submissions(
            self.db,
            self.papers,
            self.store.meta,
            self._submit_ingest,
            arxiv=arxiv_options(c),
            window_days=c.submission_window_days,
            time_zone=c.time_zone,
        )

    @cached_property
    def authors(self) -> Authors:
        return Authors(self.store)

    @cached_property
    def claims(self) -> Claims:
        return Claims(self.db, self.store)

    @cached_property
    def collections(self) -> Collections:
        return Collections(self.db)

    @cached_property
    def comments(self) -> Comments:
        return Comments(self.db)

    @property
    def embedder(self) -> Embedder:
        """The embedding model of ``embed_model``, loaded on first use (seconds; a command that only lists papers
        never loads it): MiniLM on ``embed_device``, or the static model of the data folder (built if missing)."""
        with self._lock:
            if self._embedder is None:
                c = self.config
                if c.embed_model == "static":
                    from dailypapers.search.vectors.static import StaticEmbedder, static_model_dir

                    self._embedder = StaticEmbedder(static_model_dir(c.data_dir))
                else:
                    self._embedder = MiniLMEmbedder(
                        precision=c.embed_precision, batch_size=c.embed_batch, device=c.embed_device
                    )
            return self._embedder

    @cached_property
    def secret_key(self) -> str:
        """The key that signs CSRF tokens and anonymous-voter cookies: ``DAILYPAPERS_SECRET_KEY``, else a random key
        generated once and kept in the database, so that every worker and machine serving this database signs alike
        (there is never a default in code). Whoever stores it first wins; the others read the winner's key."""
        if self.config.secret_key:
            return self.config.secret_key
        stored = self.store.meta.get(SECRET_META_KEY)
        return stored or self.store.meta.setdefault(SECRET_META_KEY, secrets.token_urlsafe(32))

    # -- lifecycle ----------------------------------------------------------------------------------------------
    def init(self) -> list[str]:
        """Create or upgrade the schema; return the migrations applied."""
        self.config.data_dir.mkdir(parents=True, exist_ok=True)
        return self.store.migrate()

    def close(self) -> None:
        self.wait_for_indexing(60)  # a submission's background embedding: let it finish before the store closes
        self.store.close()  # and its plain-table engine

    # -- what crosses domains ----------------------------------------------------------------------------------
    def ingest(
        self,
        records: Iterable[Record],
        *,
        added_at: date | None = None,
        progress: bool | None = None,
        index: bool = True,
    ) -> IngestReport:
        """Import records (:meth:`Papers.ingest`), then embed and index the new and changed papers."""
        return self._indexed_after(
            lambda: self.papers.ingest(records, added_at=added_at, progress=progress), index, progress
        )

    def ingest_announcements(
        self, records: Iterable[FeedRecord], *, progress: bool | None = None, index: bool = True
    ) -> AnnouncementReport:
        """Apply arXiv feed announcements (:mod:`dailypapers.papers.announcements`), then index what changed."""

        def write(batch: Iterable[Record], /, *, added_at: date | None = None) -> IngestReport:
            return self.papers.ingest(batch, added_at=added_at, progress=progress)

        report = ingest_announcements(self.papers, write, records)
        if report.days:  # for `dailypapers status`: the newest day a feed listed papers on
            newest = max(report.days).isoformat()
            if newest > (self.store.meta.get(LAST_ANNOUNCEMENT_KEY) or ""):
                self.store.meta.set(LAST_ANNOUNCEMENT_KEY, newest)
        if index and (report.added or report.updated):
            self.search.update_index(progress=progress)
        return report

    def _submit_ingest(self, records: Iterable[Record], day: date) -> IngestReport:
        """A submission's import: stored now, embedded by a background thread (never in the request's path)."""
        report = self.ingest(records, added_at=day, progress=False, index=False)
        if report.added or report.updated:
            self.index_soon()
        return report

    def index_soon(self) -> None:
        """Embed and index new papers in a background thread, now (one such thread at a time; a request made while
        it runs makes it run once more, so no paper is left out)."""
        with self._index_lock:
            self._index_wanted = True
            if self._indexer is not None and self._indexer.is_alive():
                return
            self._indexer = threading.Thread(target=self._index_while_wanted, name="dailypapers-index", daemon=True)
            self._indexer.start()

    def wait_for_indexing(self, timeout: float | None = None) -> bool:
        """Wait for the background indexing :meth:`index_soon` started; False if it still runs after ``timeout``."""
        with self._index_lock:
            thread = self._indexer
        if thread is not None:
            thread.join(timeout)
        return thread is None or not thread.is_alive()

    def _index_while_wanted(self) -> None:
        while True:
            with self._index_lock:
                if not self._index_wanted:
                    self._indexer = None
                    return
                self._index_wanted = False
            try:
                self.search.update_index(progress=False)
            except Exception:  # the index.embed job picks the papers up later
                log.exception("background indexing failed")

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
        """Harvest arXiv's OAI-PMH sets (default: ``oai_sets``, else the archives of ``categories``), resumably
        (:mod:`dailypapers.papers.oai_harvest`), then index what changed unless ``index`` is False."""
        return self._indexed_after(
            lambda: harvest_sets(
                self.papers, self.store.meta, self.config, sets=sets, from_=from_, until=until,
                metadata_prefix=metadata_prefix, progress=progress,
            ),
            index,
            progress,
        )  # fmt: skip

    def _indexed_after(self, store: Callable[[], R], index: bool, progress: bool | None) -> R:
        """Run the import ``store``, then (if ``index``) embed and index what it added or changed — also when it
        fails: a :class:`SourceError` carries what was stored before the failure as ``report``, and that is kept."""
        try:
            report = store()
        except SourceError as exc:
            partial = getattr(exc, "report", None)
            if index and partial and (partial.added or partial.updated):
                self.search.update_index(progress=progress)
            raise
        if index and (report.added or report.updated):
            self.search.update_index(progress=progress)
        return report

    def copy_to(self, dst: Store, *, batch: int = 1000, progress: Progress | None = None) -> Counts:
        """Copy this whole instance into the migrated database of ``dst`` (:mod:`dailypapers.papers.copy`); returns
        the row counts of both sides per table."""
        return copy_store(self.store, dst, batch=batch, progress=progress)
