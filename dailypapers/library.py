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
* ``lib.comments`` — comments and their moderation (:class:`dailypapers.community.comments.Comments`);
* ``lib.recommend``, ``lib.feedback``, ``lib.interests`` — "For you" picks with reasons, "not for me", the
  cold-start interests (:mod:`dailypapers.search.recommend`, :mod:`dailypapers.community.feedback`);
* ``lib.saved_searches`` — saved searches and their alerts
  (:class:`dailypapers.community.saved_searches.SavedSearches`);
* ``lib.subscriptions`` — email subscriptions, double opt-in and their signed links
  (:class:`dailypapers.mail.subscriptions.Subscriptions`; ``lib.links`` signs and reads the links);
* ``lib.mailer`` / ``lib.outbox`` — how email leaves, and the outbox every email passes through
  (:mod:`dailypapers.mail`); ``lib.deliver_soon()`` sends due mail from a background thread.
* ``lib.digests`` — the email digest: who is due, composing, recording in the outbox, sending; previews
  (:class:`dailypapers.mail.digests.Digests`).

The CLI and the web app call these services, never a store or SQL. The library itself does only what crosses
domains: creating the schema, importing records *and* indexing them, and the instance's signing key.
"""

from __future__ import annotations

import logging
import secrets
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from datetime import date
from functools import cached_property
from typing import Protocol, TypeVar

from dailypapers.accounts.service import Accounts
from dailypapers.community.claims import Claims
from dailypapers.community.collections import Collections
from dailypapers.community.comments import Comments
from dailypapers.community.feedback import Feedback, FeedTokens, InterestsService
from dailypapers.community.saved_searches import SavedSearches
from dailypapers.community.submissions import Submissions
from dailypapers.community.votes import Votes
from dailypapers.config import Config
from dailypapers.db.background import Soon
from dailypapers.mail.digests import Digests
from dailypapers.mail.links import Links, site_url
from dailypapers.mail.mailer import Mailer, open_mailer
from dailypapers.mail.outbox import DeliveryReport, Outbox
from dailypapers.mail.subscriptions import Subscriptions
from dailypapers.papers.announcements import AnnouncementReport, ingest_announcements
from dailypapers.papers.authors import Authors
from dailypapers.papers.copy import Progress, copy_store
from dailypapers.papers.oai_harvest import OaiReport, harvest_sets
from dailypapers.papers.service import Papers
from dailypapers.papers.sources.arxiv_api import arxiv_options
from dailypapers.papers.sources.arxiv_feed import FeedRecord
from dailypapers.papers.sources.base import IngestReport, Record, SourceError
from dailypapers.papers.store import Store, open_store
from dailypapers.search.recommend import Recommender
from dailypapers.search.service import Search
from dailypapers.search.taste import Tastes
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
MAIL_CLOSE_WAIT_S = 10  # close() waits this long for a background delivery (one SMTP exchange: ~1 s)
MAIL_BUSY_TRIES = 30  # deliver_soon: seconds it waits out another sender's lock before leaving it to mail.deliver


class Library:
    """dailypapers as a library. Thread-safe for reads; writes are serialised by the database."""

    def __init__(self, config: Config, *, store: Store | None = None, embedder: Embedder | None = None) -> None:
        self.config = config
        self.store = store or open_store(config)  # a part: the services use it, callers use the services
        self.db = self.store.db  # the plain tables (accounts, votes, rate limits): SQLAlchemy Core
        self._embedder = embedder
        self._lock = threading.Lock()
        # Slow work a request asks for runs in these threads: a submission's embedding, a confirmation's SMTP.
        self._indexing = Soon(
            "dailypapers-index", lambda: self.search.update_index(progress=False), failure="background indexing failed"
        )
        self._delivery = Soon("dailypapers-mail", self._deliver_in_background, failure="background delivery failed")
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
        return Votes(self.db, self._on_signal)

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
        return Claims(self.db, self.store, self._on_signal)

    @cached_property
    def collections(self) -> Collections:
        return Collections(self.db, self._on_signal)

    # -- recommendations (dailypapers.search.recommend) ------------------------------------------------------------
    @cached_property
    def tastes(self) -> Tastes:
        """The per-user models (``taste_models``) of the current embedding model."""
        return Tastes(self.db, self.store, self._model_name)

    @cached_property
    def recommend(self) -> Recommender:
        """``lib.recommend.picks(user_id, limit=20, since=None)``: the "For you" picks."""
        return Recommender(self.store, self.papers, self.tastes, lambda: self.search.vectors,
                           days=self.config.recommend_days)  # fmt: skip

    @cached_property
    def feedback(self) -> Feedback:
        return Feedback(self.db, self.papers, self._on_signal)

    @cached_property
    def interests(self) -> InterestsService:
        return InterestsService(self.db, self.papers, self._on_signal)

    @cached_property
    def feed_tokens(self) -> FeedTokens:
        return FeedTokens(self.db)

    def _model_name(self) -> str:
        """The current embedding model's name, without loading the model (a CLI vote need not wait for it)."""
        if self._embedder is not None:
            return self._embedder.name
        if self.config.embed_model == "static":
            from dailypapers.search.vectors.static import STATIC_MODEL_NAME

            return STATIC_MODEL_NAME
        return MiniLMEmbedder.name

    def _on_signal(self, user_id: str, paper_pks: Sequence[int]) -> None:
        """A vote, collection item, claim, "not for me" or interest changed: fold it into the user's model. Never
        fails the action itself: the model is a cache, rebuilt from the signals if this update is lost."""
        try:
            self.tastes.changed(user_id, paper_pks)
        except Exception:
            log.exception("updating the recommendation model of %s failed; dropping it for a rebuild", user_id)
            try:
                self.tastes.delete(user_id)
            except Exception:
                log.exception("dropping the recommendation model of %s failed", user_id)

    @cached_property
    def comments(self) -> Comments:
        return Comments(self.db)

    @cached_property
    def links(self) -> Links:
        """Signs the confirm, unsubscribe and manage links of emails, under :attr:`secret_key`."""
        return Links(self.secret_key, site_url(self.config))

    @cached_property
    def subscriptions(self) -> Subscriptions:
        c = self.config
        return Subscriptions(
            self.db,
            self.outbox,
            self.links,
            confirm_hours=c.confirm_hours,
            default_time_zone=c.time_zone,
            default_weekends=c.digest_weekends,
            mail_from=c.mail_from,
            deliver=self.deliver_soon,
        )

    @cached_property
    def saved_searches(self) -> SavedSearches:
        return SavedSearches(self.db, self.search)

    @cached_property
    def mailer(self) -> Mailer:
        return open_mailer(self.config)

    @cached_property
    def outbox(self) -> Outbox:
        c = self.config
        return Outbox(self.db, self.store.job_lock, retries=c.mail_retries, backoff=c.mail_backoff,
                      max_failures=c.mail_max_failures, sender=c.mail_from)  # fmt: skip

    @cached_property
    def digests(self) -> Digests:
        c = self.config
        return Digests(
            self.papers, self.subscriptions, self.outbox, lambda: self.mailer, self.links, self.store.meta,
            mail_from=c.mail_from, per_section=c.digest_papers, time_zone=c.time_zone,
            picks=lambda user_id, limit, since: self.recommend.picks(user_id, limit=limit, since=since),
            matches=lambda user_id, limit, since: self.saved_searches.matches(user_id, since=since, limit=limit),
        )  # fmt: skip

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
        self.wait_for_delivery(MAIL_CLOSE_WAIT_S)  # a confirmation mail on its way; what is left goes next run
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
        """Embed and index new papers in a background thread, now (see :class:`Soon`: no paper is left out)."""
        self._indexing.request()

    def wait_for_indexing(self, timeout: float | None = None) -> bool:
        """Wait for the background indexing :meth:`index_soon` started; False if it still runs after ``timeout``."""
        return self._indexing.wait(timeout)

    def deliver_soon(self) -> None:
        """Deliver due mail in a background thread, now: a web request records a confirmation mail and returns,
        SMTP never runs in a request."""
        self._delivery.request()

    def wait_for_delivery(self, timeout: float | None = None) -> bool:
        """Wait for the delivery :meth:`deliver_soon` started; False if it still runs after ``timeout``."""
        return self._delivery.wait(timeout)

    def _deliver_in_background(self) -> None:
        for _ in range(MAIL_BUSY_TRIES):  # another sender (the mail.deliver job) may be just finishing
            if not self.outbox.deliver(self.mailer).skipped_locked:
                return
            time.sleep(1)

    def deliver_mail(self, *, limit: int | None = None) -> DeliveryReport:
        """Deliver the due mail now, in this thread (the CLI and the ``mail.deliver`` job)."""
        return self.outbox.deliver(self.mailer, limit=limit)

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
