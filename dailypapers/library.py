"""The composition root: ``Library(config)`` opens the configured database and wires the domain services.

* ``lib.papers`` — the catalogue (:class:`dailypapers.papers.service.Papers`);
* ``lib.search`` — hybrid search, similar papers, the vector index (:class:`dailypapers.search.service.Search`);
* ``lib.accounts`` — users, sessions, API tokens (:class:`dailypapers.accounts.service.Accounts`);
  ``lib.recovery`` — password-reset and address-verification links (:mod:`dailypapers.accounts.recovery`),
  ``lib.account_mail`` — the mails that carry them and the notices (:mod:`dailypapers.mail.account_mail`);
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

The CLI and the web app call these services, never a store or SQL. The library only wires: importing records *and*
indexing them is :class:`dailypapers.search.indexing.Indexing`'s (``lib.indexing``), delivering mail outside the
request :class:`dailypapers.mail.delivery.Delivery`'s (``lib.delivery``); the methods below that do either are
one-line delegations kept for their callers. Creating the schema and the instance's signing key are its own.
"""

from __future__ import annotations

import logging
import secrets
import threading
from collections.abc import Iterable, Sequence
from datetime import date
from functools import cached_property

from dailypapers.accounts.login_limits import LoginLimits
from dailypapers.accounts.passwords import use_profile
from dailypapers.accounts.recovery import Recovery
from dailypapers.accounts.service import Accounts
from dailypapers.community.claims import Claims
from dailypapers.community.collections import Collections
from dailypapers.community.comments import Comments
from dailypapers.community.feedback import Feedback, FeedTokens, InterestsService
from dailypapers.community.saved_searches import SavedSearches
from dailypapers.community.submissions import Submissions
from dailypapers.community.votes import Votes
from dailypapers.config import Config
from dailypapers.mail.account_mail import AccountMail
from dailypapers.mail.delivery import Delivery
from dailypapers.mail.digests import Digests
from dailypapers.mail.links import Links, site_url
from dailypapers.mail.mailer import Mailer, open_mailer
from dailypapers.mail.outbox import DeliveryReport, Outbox
from dailypapers.mail.subscriptions import Subscriptions
from dailypapers.papers.announcements import AnnouncementReport
from dailypapers.papers.authors import Authors
from dailypapers.papers.copy import Progress, copy_store
from dailypapers.papers.oai_harvest import OaiReport
from dailypapers.papers.service import Papers
from dailypapers.papers.sources.arxiv_api import arxiv_options
from dailypapers.papers.sources.arxiv_feed import FeedRecord
from dailypapers.papers.sources.base import IngestReport, Record
from dailypapers.papers.store import Store, open_store
from dailypapers.search.indexing import LAST_ANNOUNCEMENT_KEY, Indexing
from dailypapers.search.recommend import Recommender
from dailypapers.search.service import Search
from dailypapers.search.taste import Tastes
from dailypapers.search.vectors.embedder import Embedder, MiniLMEmbedder
from dailypapers.topics.repository import TopicStore
from dailypapers.topics.service import Topics

Counts = dict[str, tuple[int, int]]
__all__ = ["LAST_ANNOUNCEMENT_KEY", "SECRET_META_KEY", "Library"]  # LAST_ANNOUNCEMENT_KEY: re-exported (jobs.status)

log = logging.getLogger(__name__)
SECRET_META_KEY = "secret_key"
"""Meta key of the generated signing key (used when ``DAILYPAPERS_SECRET_KEY`` is empty)."""
MAIL_CLOSE_WAIT_S = 10  # close() waits this long for a background delivery (one SMTP exchange: ~1 s)


class Library:
    """dailypapers as a library. Thread-safe for reads; writes are serialised by the database."""

    def __init__(self, config: Config, *, store: Store | None = None, embedder: Embedder | None = None) -> None:
        self.config = config
        self.store = store or open_store(config)  # a part: the services use it, callers use the services
        self.db = self.store.db  # the plain tables (accounts, votes, rate limits): SQLAlchemy Core
        self._embedder = embedder
        self._lock = threading.Lock()
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
        # Slow work a request asks for runs in their threads: a submission's embedding, a confirmation's SMTP.
        self.indexing = Indexing(self.papers, self.search, self.store.meta, config)
        self.delivery = Delivery(lambda: self.outbox, lambda: self.mailer)

    @cached_property
    def accounts(self) -> Accounts:
        c = self.config
        use_profile(c.password_hash)  # one process, one configuration: the hasher is the module's
        limits = LoginLimits(self.db, pair=c.login_pair_limit, stranger=c.login_stranger_limit)
        return Accounts(self.db, signup=c.signup, session_days=c.session_days, invite_days=c.invite_days,
                        login_limits=limits)  # fmt: skip

    @cached_property
    def recovery(self) -> Recovery:
        """Password-reset and address-verification links (:mod:`dailypapers.accounts.recovery`)."""
        c = self.config
        return Recovery(self.db, self.secret_key, reset_minutes=c.reset_minutes, verify_hours=c.verify_hours)

    @cached_property
    def account_mail(self) -> AccountMail:
        """The mails of accounts: verification, reset, notices (:mod:`dailypapers.mail.account_mail`)."""
        return AccountMail(self.db, self.recovery, self.outbox, self.subscriptions, site_url=site_url(self.config),
                           mail_from=self.config.mail_from, deliver=self.deliver_soon)  # fmt: skip

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
            self.indexing.ingest_then_index_soon,
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

    @property
    def model_name(self) -> str:
        """The configured embedding model's name, without loading the model (``/readyz``, ``dailypapers check``)."""
        return self._model_name()

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

    @cached_property
    def topics(self) -> Topics:
        """The topic map, rising topics, key phrases and key sentences (:mod:`dailypapers.topics`)."""
        return Topics(self.store, TopicStore(self.db), lambda: self.embedder, self._model_name)

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
        if "account_mail" in self.__dict__:  # a "forgot password" look-up in its thread (made only if used)
            self.account_mail.wait(MAIL_CLOSE_WAIT_S)
        self.wait_for_delivery(MAIL_CLOSE_WAIT_S)  # a confirmation mail on its way; what is left goes next run
        self.store.close()  # and its plain-table engine

    # -- imports and indexing (dailypapers.search.indexing), mail outside the request (dailypapers.mail.delivery) --
    def ingest(
        self,
        records: Iterable[Record],
        *,
        added_at: date | None = None,
        progress: bool | None = None,
        index: bool = True,
    ) -> IngestReport:
        """Import records, then embed and index the new and changed papers (:meth:`Indexing.ingest`)."""
        return self.indexing.ingest(records, added_at=added_at, progress=progress, index=index)

    def ingest_announcements(
        self, records: Iterable[FeedRecord], *, progress: bool | None = None, index: bool = True
    ) -> AnnouncementReport:
        """Apply arXiv feed announcements, then index what changed (:meth:`Indexing.ingest_announcements`)."""
        return self.indexing.ingest_announcements(records, progress=progress, index=index)

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
        """Harvest arXiv's OAI-PMH sets (default: ``oai_sets``, else the archives of ``categories``), then index what
        changed unless ``index`` is False (:meth:`Indexing.harvest_oai`)."""
        return self.indexing.harvest_oai(sets, from_, until, metadata_prefix, progress, index=index)

    def index_soon(self) -> None:
        """Embed and index new papers in a background thread, now (:meth:`Indexing.soon`)."""
        self.indexing.soon()

    def wait_for_indexing(self, timeout: float | None = None) -> bool:
        """Wait for the background indexing :meth:`index_soon` started; False if it still runs after ``timeout``."""
        return self.indexing.wait(timeout)

    def deliver_soon(self) -> None:
        """Deliver due mail in a background thread, now: a web request records a confirmation mail and returns,
        SMTP never runs in a request (:meth:`Delivery.soon`)."""
        self.delivery.soon()

    def wait_for_delivery(self, timeout: float | None = None) -> bool:
        """Wait for the delivery :meth:`deliver_soon` started; False if it still runs after ``timeout``."""
        return self.delivery.wait(timeout)

    def deliver_mail(self, *, limit: int | None = None) -> DeliveryReport:
        """Deliver the due mail now, in this thread (the CLI and the ``mail.deliver`` job)."""
        return self.delivery.now(limit=limit)

    def copy_to(self, dst: Store, *, batch: int = 1000, progress: Progress | None = None) -> Counts:
        """Copy this whole instance into the migrated database of ``dst`` (:mod:`dailypapers.papers.copy`); returns
        the row counts of both sides per table."""
        return copy_store(self.store, dst, batch=batch, progress=progress)
