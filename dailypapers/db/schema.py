"""The plain tables, defined once for both backends (SQLAlchemy Core): what every repository queries.

The tables are created by the numbered migrations of :mod:`dailypapers.db.migrations` (0002 votes, 0004 accounts
and rate limits, 0005 the community: submissions, links, comments, hidden papers, collections, claims; 0006
the runs of scheduled jobs; 0007 the inbox: feedback, interests, taste models, feed tokens, saved searches,
subscriptions and the outbox), written
per backend because a migration, once landed, must never change; these definitions are
what the queries are compiled from, and ``tests/db/test_schema.py`` checks that they match what the migrations
create, column by column, on both backends.

``papers`` is listed with the columns plain queries use (joins from votes, counts); its full definition, with
the full-text index and vectors, belongs to the paper stores, as do ``authors`` and ``paper_authors``
(:data:`STORE_OWNED`: the stores write them with the papers; author pages read them here).

:data:`COPY_ORDER` lists the plain tables in the order ``db copy`` writes them (parents before children), and
:data:`PAPER_KEYED` the columns that hold a paper's integer key, which differs between two databases and is
re-keyed by paper id on the way.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Dialect,
    Float,
    ForeignKey,
    Integer,
    LargeBinary,
    MetaData,
    Table,
    Text,
)
from sqlalchemy.types import DateTime, TypeDecorator, TypeEngine

metadata = MetaData()


class UtcDateTime(TypeDecorator[datetime]):
    """An aware UTC timestamp: ``TIMESTAMPTZ`` on PostgreSQL, ISO-8601 text on SQLite (as the stores write it, so
    rows written before SQLAlchemy arrived read back unchanged)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        return dialect.type_descriptor(Text() if dialect.name == "sqlite" else DateTime(timezone=True))

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        value = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
        # Fixed width (microseconds always written), so that text order is time order in comparisons.
        return value.isoformat(timespec="microseconds") if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        moment = datetime.fromisoformat(value) if isinstance(value, str) else value
        return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


papers = Table(
    "papers",
    metadata,
    Column("pk", BigInteger().with_variant(Integer(), "sqlite"), primary_key=True),
    Column("id", Text, nullable=False, unique=True),
    Column("title", Text, nullable=False),
    Column("upvotes", Integer, nullable=False),
    Column("votes_count", Integer, nullable=False),
)

authors = Table(
    "authors",
    metadata,
    Column("pk", BigInteger().with_variant(Integer(), "sqlite"), primary_key=True),
    Column("name", Text, nullable=False, unique=True),
    # dailypapers.papers.models.author_slug(name): the author page's URL, the same in every copy of the database.
    Column("slug", Text, index=True),
)

paper_authors = Table(
    "paper_authors",
    metadata,
    Column("paper_pk", ForeignKey("papers.pk", ondelete="CASCADE"), primary_key=True),
    Column("position", Integer, primary_key=True),
    Column("author_pk", ForeignKey("authors.pk"), nullable=False, index=True),
    Column("affiliation", Text),
)

meta = Table(
    "meta",
    metadata,
    Column("key", Text, primary_key=True),
    Column("value", Text, nullable=False),
)

votes = Table(
    "votes",
    metadata,
    Column("paper_pk", ForeignKey("papers.pk", ondelete="CASCADE"), primary_key=True),
    # "user:<user id>" for a signed-in user; a random cookie id for an anonymous voter (letters, digits, - and _,
    # never a colon), so the two kinds never collide.
    Column("voter", Text, primary_key=True),
    Column("created_at", UtcDateTime, nullable=False),
)

users = Table(
    "users",
    metadata,
    Column("id", Text, primary_key=True),  # random, never reused: stable across `db copy`
    Column("username", Text, nullable=False, unique=True),  # stored lower-case: unique regardless of case
    Column("email", Text, nullable=False, unique=True),  # stored lower-case
    Column("password_hash", Text, nullable=False),
    Column("role", Text, nullable=False),  # "admin" or "member"
    Column("disabled", Boolean, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("email_verified_at", UtcDateTime),  # when a link mailed to the address was opened (issue 21 #11)
    Column("pending_email", Text),  # a new address waiting for its verification link
)

sessions = Table(
    "sessions",
    metadata,
    Column("id", Text, primary_key=True),  # SHA-256 of the cookie's secret: a stolen table opens no session
    Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("created_at", UtcDateTime, nullable=False),
    Column("expires_at", UtcDateTime, nullable=False),
    Column("last_seen_at", UtcDateTime, nullable=False),
    Column("user_agent", Text, nullable=False),
)

api_tokens = Table(
    "api_tokens",
    metadata,
    Column("id", Text, primary_key=True),  # public id, shown in lists and used to revoke
    Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("name", Text, nullable=False),
    Column("token_hash", Text, nullable=False, unique=True),  # SHA-256 of the secret, shown once at creation
    Column("created_at", UtcDateTime, nullable=False),
    Column("last_used_at", UtcDateTime),
    Column("revoked_at", UtcDateTime),
)

invites = Table(
    "invites",
    metadata,
    Column("id", Text, primary_key=True),  # SHA-256 of the invite code
    Column("created_by", ForeignKey("users.id", ondelete="SET NULL")),
    Column("created_at", UtcDateTime, nullable=False),
    Column("expires_at", UtcDateTime, nullable=False),
    Column("used_by", ForeignKey("users.id", ondelete="SET NULL")),
    Column("used_at", UtcDateTime),
)

rate_limits = Table(
    "rate_limits",
    metadata,
    Column("key", Text, primary_key=True),
    Column("count", Integer, nullable=False),
    Column("expires_at", Float, nullable=False),  # Unix time the window ends (the `limits` storage contract)
)

submissions = Table(  # who brought a paper to the daily list (a paper fetched from arXiv by its id)
    "submissions",
    metadata,
    Column("paper_pk", ForeignKey("papers.pk", ondelete="CASCADE"), primary_key=True),
    Column("user_id", ForeignKey("users.id", ondelete="SET NULL"), index=True),
    Column("created_at", UtcDateTime, nullable=False),
)

paper_links = Table(  # code and project links set by a submitter or an author (else: the abstract's, on papers)
    "paper_links",
    metadata,
    Column("paper_pk", ForeignKey("papers.pk", ondelete="CASCADE"), primary_key=True),
    Column("code_url", Text),
    Column("project_url", Text),
    Column("set_by", ForeignKey("users.id", ondelete="SET NULL")),
    Column("set_at", UtcDateTime, nullable=False),
)

comments = Table(
    "comments",
    metadata,
    Column("id", Text, primary_key=True),  # dailypapers.db.ids.sortable_id: key order is creation order
    Column("paper_pk", ForeignKey("papers.pk", ondelete="CASCADE"), nullable=False),
    Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("parent_id", ForeignKey("comments.id", ondelete="CASCADE"), index=True),  # replies: one level deep
    Column("body", Text, nullable=False),  # Markdown source as written; rendered and sanitised when shown
    Column("created_at", UtcDateTime, nullable=False),
    Column("edited_at", UtcDateTime),
    Column("deleted_at", UtcDateTime),
    Column("hidden_at", UtcDateTime),
    Column("hidden_by", ForeignKey("users.id", ondelete="SET NULL")),
    Column("hidden_reason", Text, nullable=False, default=""),
)

hidden_papers = Table(  # papers an admin took off every list, feed and search
    "hidden_papers",
    metadata,
    Column("paper_pk", ForeignKey("papers.pk", ondelete="CASCADE"), primary_key=True),
    Column("hidden_by", ForeignKey("users.id", ondelete="SET NULL")),
    Column("hidden_at", UtcDateTime, nullable=False),
    Column("reason", Text, nullable=False, default=""),
)

collections = Table(
    "collections",
    metadata,
    Column("id", Text, primary_key=True),  # random: stable across `db copy`, unguessable for private ones
    Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("name", Text, nullable=False),
    Column("description", Text, nullable=False, default=""),
    Column("public", Boolean, nullable=False, default=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
)

collection_items = Table(
    "collection_items",
    metadata,
    Column("collection_id", ForeignKey("collections.id", ondelete="CASCADE"), primary_key=True),
    Column("paper_pk", ForeignKey("papers.pk", ondelete="CASCADE"), primary_key=True),
    Column("position", Integer, nullable=False),  # the owner's order, 0 first
    Column("note", Text, nullable=False, default=""),
    Column("added_at", UtcDateTime, nullable=False),
)

claims = Table(  # "I am this author": pending until an admin approves or rejects it
    "claims",
    metadata,
    Column("id", Text, primary_key=True),
    Column("paper_pk", ForeignKey("papers.pk", ondelete="CASCADE"), nullable=False),
    Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("author_name", Text, nullable=False),
    Column("status", Text, nullable=False, index=True),  # "pending", "approved" or "rejected"
    Column("created_at", UtcDateTime, nullable=False),
    Column("decided_by", ForeignKey("users.id", ondelete="SET NULL")),
    Column("decided_at", UtcDateTime),
)

job_runs = Table(  # one run of a named job; a scheduled run's (job, slot, attempt) is unique: the claim
    "job_runs",
    metadata,
    Column("id", Text, primary_key=True),
    Column("job", Text, nullable=False),
    Column("slot", UtcDateTime),  # the schedule time this run is for; NULL for a run started by hand
    Column("attempt", Integer, nullable=False),  # 1, then 2, 3, ... for the retries of the same slot
    Column("trigger", Text, nullable=False),  # "schedule", "retry" or "manual"
    Column("status", Text, nullable=False),  # "running", "ok", "failed" or "interrupted"
    Column("started_at", UtcDateTime, nullable=False),
    Column("finished_at", UtcDateTime),
    Column("counts", Text, nullable=False, server_default="{}"),  # JSON object: what the run did
    Column("error", Text, nullable=False, server_default=""),
    Column("host", Text, nullable=False),
    Column("pid", Integer, nullable=False),
)

paper_feedback = Table(  # "not for me": a paper its user wants fewer of (a negative recommendation signal)
    "paper_feedback",
    metadata,
    Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("paper_pk", ForeignKey("papers.pk", ondelete="CASCADE"), primary_key=True, index=True),
    Column("kind", Text, nullable=False),  # "not_for_me"
    Column("created_at", UtcDateTime, nullable=False),
)

interests = Table(  # the cold start: what a user picked before (or beside) any upvote
    "interests",
    metadata,
    Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("categories", Text, nullable=False, default=""),  # space-separated arXiv categories
    Column("keywords", Text, nullable=False, default=""),  # comma-separated phrases as the user wrote them
    Column("paper_ids", Text, nullable=False, default=""),  # space-separated arXiv ids of seed papers
    Column("updated_at", UtcDateTime, nullable=False),
)

taste_models = Table(  # a user's recommendation model for one embedding model: a cache, rebuilt from the signals
    "taste_models",
    metadata,
    Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("model", Text, primary_key=True),
    Column("state", LargeBinary, nullable=False),  # see dailypapers.search.recommend
    Column("positives", Integer, nullable=False),
    Column("negatives", Integer, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
)

feed_tokens = Table(  # the secret in the URL of a private Atom feed of one's picks
    "feed_tokens",
    metadata,
    Column("id", Text, primary_key=True),
    Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("token_hash", Text, nullable=False, unique=True),  # SHA-256 of the token: a stolen table opens no feed
    Column("created_at", UtcDateTime, nullable=False),
    Column("revoked_at", UtcDateTime),
)

saved_searches = Table(
    "saved_searches",
    metadata,
    Column("id", Text, primary_key=True),
    Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("name", Text, nullable=False),
    Column("query", Text, nullable=False),
    Column("filters", Text, nullable=False, default="{}"),  # JSON object of the search's filters
    Column("created_at", UtcDateTime, nullable=False),
)

subscriptions = Table(  # an email subscription, with or without an account
    "subscriptions",
    metadata,
    Column("id", Text, primary_key=True),
    Column("email", Text, nullable=False, unique=True),  # as dailypapers.mail.addresses normalised it
    Column("user_id", ForeignKey("users.id", ondelete="SET NULL"), index=True),
    Column("status", Text, nullable=False, index=True),  # "pending", "active", "unsubscribed" or "disabled"
    Column("frequency", Text, nullable=False),  # "daily" or "weekly"
    Column("time_zone", Text, nullable=False),  # IANA name
    Column("send_hour", Integer, nullable=False),  # 0-23, local time
    Column("weekends", Boolean, nullable=False, default=False),  # daily digests on Saturday and Sunday too
    Column("sections", Text, nullable=False),  # space-separated: trending picks saved categories
    Column("categories", Text, nullable=False, default=""),  # space-separated arXiv categories
    Column("nonce", Text, nullable=False),  # changes when a signed link is used: older links are spent
    Column("failures", Integer, nullable=False, default=0),  # permanent delivery failures in a row
    Column("created_at", UtcDateTime, nullable=False),
    Column("confirmed_at", UtcDateTime),
    Column("unsubscribed_at", UtcDateTime),
    Column("updated_at", UtcDateTime, nullable=False),
)

outbox = Table(  # every email, recorded before it is sent; (subscription_id, kind, period) is unique
    "outbox",
    metadata,
    Column("id", Text, primary_key=True),
    Column("subscription_id", ForeignKey("subscriptions.id", ondelete="SET NULL")),
    Column("kind", Text, nullable=False),  # "confirm", "digest", "test"
    Column("period", Text, nullable=False),  # a digest's day or ISO week ("2026-12-02", "2026-W49"); else a key
    Column("recipient", Text, nullable=False),
    Column("message", Text, nullable=False),  # the whole RFC 5322 message, exactly as it is sent
    Column("message_id", Text, nullable=False),
    Column("status", Text, nullable=False),  # "pending", "sending", "sent" or "failed"
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_attempt_at", UtcDateTime, nullable=False),
    Column("last_error", Text, nullable=False, default=""),
    Column("created_at", UtcDateTime, nullable=False),
    Column("sent_at", UtcDateTime),
)

topic_points = Table(  # a paper's point on the topic map (issue 24; derived by the `map` job)
    "topic_points",
    metadata,
    Column("paper_pk", ForeignKey("papers.pk", ondelete="CASCADE"), primary_key=True),
    Column("x", Float, nullable=False),
    Column("y", Float, nullable=False),
    Column("cluster", Integer, nullable=False, index=True),
    Column("generation", Integer, nullable=False),
    Column("placed", Text, nullable=False),  # "fit" (with the whole layout) or "near" (by its neighbours)
    Column("day", Text, nullable=False, default=""),  # the day it entered the list, YYYY-MM-DD
    Column("category", Text, nullable=False, default=""),  # its primary category
)

topic_clusters = Table(  # a cluster of the current layout, its label terms (class-based tf-idf) and size
    "topic_clusters",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("generation", Integer, nullable=False),
    Column("terms", Text, nullable=False),  # "; "-separated, most distinctive first
    Column("size", Integer, nullable=False),
    Column("x", Float, nullable=False),
    Column("y", Float, nullable=False),
)

paper_summaries = Table(  # a paper's key sentence ("In one sentence"); a row means its key phrases are done
    "paper_summaries",
    metadata,
    Column("paper_pk", ForeignKey("papers.pk", ondelete="CASCADE"), primary_key=True),
    Column("sentence", Text, nullable=False),
    Column("model", Text, nullable=False),
    Column("text_hash", Text, nullable=False),
    Column("day", Text, nullable=False, default=""),
    Column("computed_at", UtcDateTime, nullable=False),
)

paper_keyphrases = Table(  # a paper's key phrases in rank order
    "paper_keyphrases",
    metadata,
    Column("paper_pk", ForeignKey("papers.pk", ondelete="CASCADE"), primary_key=True),
    Column("rank", Integer, primary_key=True, autoincrement=False),
    Column("phrase", Text, nullable=False, index=True),
)

# db copy: plain tables in write order (a parent before the tables that reference it); papers and embeddings
# are copied by the paper stores. rate_limits is not copied: counters of a few minutes mean nothing elsewhere.
COPY_ORDER: tuple[Table, ...] = (
    meta, users, sessions, api_tokens, invites, votes,
    submissions, paper_links, hidden_papers, comments, collections, collection_items, claims, job_runs,
    paper_feedback, interests, feed_tokens, saved_searches, subscriptions, outbox,
)  # fmt: skip
# taste_models: a per-user cache, rebuilt from votes, collections and feedback when missing.
# topic_points, topic_clusters, paper_summaries, paper_keyphrases: derived by the `map` and `keyphrases` jobs.
NOT_COPIED: tuple[Table, ...] = (
    rate_limits, taste_models, topic_points, topic_clusters, paper_summaries, paper_keyphrases,
)  # fmt: skip
STORE_OWNED: tuple[Table, ...] = (papers, authors, paper_authors)
PAPER_KEYED: dict[str, str] = {
    t.name: "paper_pk"
    for t in (votes, submissions, paper_links, hidden_papers, comments, collection_items, claims, paper_feedback)
}
