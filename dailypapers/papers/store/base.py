"""The storage interface: every read and write of papers, authors and embeddings goes through a ``Store``.

Two implementations stand behind it: :mod:`dailypapers.papers.store.sqlite` (the embedded default) and
:mod:`dailypapers.papers.store.postgres` (PostgreSQL + pgvector). Higher layers (index, rank, web, mail) only see this
protocol; the store knows nothing of them.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Protocol

import numpy as np

from dailypapers.papers.models import Paper


class StoreError(RuntimeError):
    """A storage failure with a message meant for the user (bad URL, unreachable database, bad migration)."""


@dataclass
class UpsertCounts:
    """What an upsert did: each paper is counted in exactly one bucket."""

    added: int = 0
    updated: int = 0
    unchanged: int = 0

    def __iadd__(self, other: UpsertCounts) -> UpsertCounts:
        self.added += other.added
        self.updated += other.updated
        self.unchanged += other.unchanged
        return self


@dataclass(frozen=True)
class Filters:
    """Search filters. Dates apply to the paper's display date (arXiv publication day, else day added).

    ``category`` matches any of the paper's categories; ``author`` is a case-insensitive substring of any
    author's name.
    """

    since: date | None = None
    until: date | None = None
    category: str | None = None
    author: str | None = None

    @property
    def active(self) -> bool:
        return any(v is not None for v in (self.since, self.until, self.category, self.author))


@dataclass
class Hit:
    """One ranked result of a keyword or vector search: the paper's integer key and a score (higher is better)."""

    pk: int
    score: float
    extra: dict[str, object] = field(default_factory=dict)


@dataclass(frozen=True)
class Vote:
    """One community upvote: an anonymous voter's vote for a paper (by paper id: keys differ between databases)."""

    paper_id: str
    voter: str
    created_at: datetime


class Store(Protocol):
    """What the rest of dailypapers may ask of the database."""

    backend: str  # "sqlite" or "postgres"
    keyword_budget: int  # most matching rows one keyword search scores (dailypapers.papers.store.keyword_plan)

    # -- lifecycle -------------------------------------------------------------------------------------------
    def migrate(self) -> list[str]:
        """Apply pending migrations; return the names applied (empty when up to date)."""
        ...

    def close(self) -> None: ...

    # -- papers ----------------------------------------------------------------------------------------------
    def upsert_papers(self, papers: Sequence[Paper]) -> UpsertCounts:
        """Insert or update papers in one transaction.

        A paper whose id is stored is updated only if its content changed and its version is not older than the
        stored one; ``added_at`` of a stored paper never changes; upvotes never decrease.
        """
        ...

    def get_paper(self, paper_id: str) -> Paper | None: ...

    def get_papers_by_pk(self, pks: Sequence[int]) -> list[Paper]:
        """The papers with these keys, in the order given (unknown keys are skipped)."""
        ...

    def find_by_title(self, title: str) -> Paper | None:
        """The paper whose normalised title equals ``normalize_title(title)``, if any."""
        ...

    def count_papers(self) -> int: ...

    def papers_added_between(
        self, start: date, end: date, *, limit: int | None = None, offset: int = 0, sort: str = "added"
    ) -> list[Paper]:
        """Papers whose ``added_at`` lies in [start, end], newest first (``sort="upvotes"``: most upvoted first)."""
        ...

    def count_added_between(self, start: date, end: date) -> int: ...

    def latest_added_day(self) -> date | None: ...

    def neighbour_days(self, day: date) -> tuple[date | None, date | None]:
        """The closest earlier and later days that have papers (for previous/next navigation)."""
        ...

    def iter_papers(self, batch: int = 1000) -> Iterator[Paper]:
        """Every paper, in key order (used by copy, export and index rebuilds)."""
        ...

    # -- keyword search --------------------------------------------------------------------------------------
    def keyword_search(self, query: str, limit: int, filters: Filters = Filters()) -> list[Hit]:
        """BM25 ranking over title (weighted highest), abstract and authors; ``query`` is plain user text."""
        ...

    def filter_pks(self, filters: Filters, among: Collection[int] | None = None) -> set[int]:
        """Keys of all papers that pass ``filters``; only those in ``among`` when it is given."""
        ...

    # -- embeddings ------------------------------------------------------------------------------------------
    def papers_needing_embedding(self, model: str, batch: int = 256) -> Iterator[list[Paper]]:
        """Batches of papers with no embedding for ``model``, or one computed from different text."""
        ...

    def count_needing_embedding(self, model: str) -> int: ...

    def save_embeddings(self, model: str, rows: Iterable[tuple[Paper, np.ndarray]]) -> None:
        """Store each paper's embedding with a hash of the text it was computed from."""
        ...

    def iter_embeddings(self, model: str, batch: int = 10000) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """Batches of ``(pks int64[n], vectors float32[n, dim])``."""
        ...

    def get_embedding(self, model: str, pk: int) -> np.ndarray | None: ...

    def embedding_counts(self) -> dict[str, int]:
        """Number of stored embeddings per model."""
        ...

    def vector_search(
        self, model: str, vector: np.ndarray, limit: int, filters: Filters = Filters()
    ) -> list[Hit] | None:
        """Nearest papers by cosine similarity when the database indexes vectors itself (pgvector).

        Returns ``None`` when it does not (SQLite), and the caller uses the on-disk ANN index instead.
        """
        ...

    # -- community votes (see :mod:`dailypapers.community.votes`) -------------------------------------------------
    def set_vote(self, paper_id: str, voter: str, up: bool) -> int | None:
        """Record (``up``) or withdraw ``voter``'s upvote of the paper ``paper_id``, idempotently, in one transaction.

        Returns the paper's upvotes afterwards (imported + community), or ``None`` when no paper has that id.
        """
        ...

    def voted(self, voter: str, paper_pks: Sequence[int]) -> set[int]:
        """The keys among ``paper_pks`` of the papers ``voter`` has upvoted."""
        ...

    def count_votes(self) -> int: ...

    def iter_votes(self, batch: int = 1000) -> Iterator[Vote]:
        """Every vote, in (paper key, voter) order (used by copy)."""
        ...

    def save_votes(self, votes: Sequence[Vote]) -> int:
        """Add these votes (kept as they are, ``created_at`` included) in one transaction; votes already stored and
        votes for papers not stored are skipped. Returns how many were added."""
        ...

    # -- settings kept in the database ----------------------------------------------------------------------
    def get_meta(self, key: str) -> str | None: ...

    def set_meta(self, key: str, value: str) -> None: ...

    def meta_setdefault(self, key: str, value: str) -> str:
        """Store ``value`` under ``key`` unless the key exists; return the stored value (race-safe: of several
        processes doing this at once, one value wins and all of them get it)."""
        ...

    def meta_items(self) -> dict[str, str]:
        """Every meta key and its value."""
        ...

    # -- jobs and whole-database operations -----------------------------------------------------------------------
    def job_lock(self, name: str) -> AbstractContextManager[bool]:
        """Hold the lock ``name`` for the ``with`` block: yields True when acquired, False when another holder has
        it (never waits). Works across threads, processes and — with PostgreSQL — machines; released when the block
        ends or raises, or when the holder dies. See :mod:`dailypapers.db.locks`."""
        ...

    def table_counts(self) -> dict[str, int]:
        """Rows per table of the schema (not ``schema_migrations``, not search-index internals)."""
        ...
