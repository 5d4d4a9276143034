"""The storage interface: every read and write of papers, authors and embeddings goes through a ``Store``.

Two implementations stand behind it: :mod:`dailypapers.papers.store.sqlite` (the embedded default) and
:mod:`dailypapers.papers.store.postgres` (PostgreSQL + pgvector). Higher layers (index, rank, web, mail) only see this
protocol; the store knows nothing of them. Nearest-neighbour search is not part of it: it goes through
:class:`dailypapers.search.vectors.base.VectorIndex`, whose PostgreSQL implementation calls the PostgreSQL store's
own ``pgvector_search``.

Visibility is the store's: a paper an admin hid (:mod:`dailypapers.papers.hidden`) is left out by the SQL of every
read that serves a page — lists and counts, lookups by id, key or title, keyword search, ``filter_pks`` and the
vector candidates filtered with it — unless the caller asks for it by name (``include_hidden=True``: moderation,
an admin's view, copying the database). Whole-database reads (``iter_papers``, embeddings) see every paper.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import date
from typing import Protocol

import numpy as np

from dailypapers.db.engine import Database
from dailypapers.db.meta import Meta
from dailypapers.errors import StoreError
from dailypapers.papers.models import Filters, Paper  # Filters: re-exported, it was defined here

__all__ = ["Filters", "Hit", "Store", "StoreError", "UpsertCounts"]  # Filters, StoreError: re-exported


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


@dataclass
class Hit:
    """One ranked result of a keyword or vector search: the paper's integer key and a score (higher is better)."""

    pk: int
    score: float
    extra: dict[str, object] = field(default_factory=dict)


class Store(Protocol):
    """What the rest of dailypapers may ask of the database."""

    backend: str  # "sqlite" or "postgres"
    db: Database  # the same database's plain tables (SQLAlchemy Core): votes, users, sessions, …
    meta: Meta  # settings kept in the database (the ``meta`` table, written once for both backends)
    keyword_budget: int  # most matching rows one keyword search scores (dailypapers.papers.store.keyword_plan)

    # -- lifecycle -------------------------------------------------------------------------------------------
    def migrate(self) -> list[str]:
        """Apply pending migrations; return the names applied (empty when up to date)."""
        ...

    def close(self) -> None: ...

    # -- papers ----------------------------------------------------------------------------------------------
    def upsert_papers(self, papers: Sequence[Paper]) -> UpsertCounts:
        """Insert or update papers in one transaction, by the one rule of :func:`dailypapers.papers.upsert.plan_upsert`.

        A paper whose id is stored is updated only if its content changed and its version is not older than the
        stored one; ``added_at`` of a stored paper never changes; upvotes never decrease.
        """
        ...

    def get_paper(self, paper_id: str, *, include_hidden: bool = False) -> Paper | None:
        """The paper with this id (None for a hidden one unless ``include_hidden``)."""
        ...

    def get_papers_by_pk(self, pks: Sequence[int], *, include_hidden: bool = False) -> list[Paper]:
        """The papers with these keys, in the order given (unknown keys, and hidden ones unless ``include_hidden``,
        are skipped)."""
        ...

    def find_by_title(self, title: str, *, include_hidden: bool = False) -> Paper | None:
        """The paper whose normalised title equals ``normalize_title(title)``, if any (hidden ones: as above)."""
        ...

    def count_papers(self) -> int: ...

    def papers_added_between(
        self,
        start: date,
        end: date,
        *,
        limit: int | None = None,
        offset: int = 0,
        sort: str = "added",
        weights: Mapping[date, float] | None = None,
    ) -> list[Paper]:
        """Papers whose ``added_at`` lies in [start, end] and that no admin hid, in the order ``sort`` names
        (:mod:`dailypapers.papers.store.list_sql`; ``trending`` scores each day by ``weights``, days not in it
        score 0)."""
        ...

    def count_added_between(self, start: date, end: date) -> int:
        """How many papers :meth:`papers_added_between` lists (hidden ones not counted)."""
        ...

    def latest_added_day(self) -> date | None: ...

    def neighbour_days(self, day: date) -> tuple[date | None, date | None]:
        """The closest earlier and later days that have papers (for previous/next navigation)."""
        ...

    def iter_papers(self, batch: int = 1000) -> Iterator[Paper]:
        """Every paper, hidden ones too, in key order (used by copy, export and index rebuilds)."""
        ...

    # -- keyword search --------------------------------------------------------------------------------------
    def keyword_search(self, query: str, limit: int, filters: Filters = Filters()) -> list[Hit]:
        """BM25 ranking over title (weighted highest), abstract and authors; ``query`` is plain user text. Hidden
        papers are never hits."""
        ...

    def filter_pks(self, filters: Filters, among: Collection[int] | None = None) -> set[int]:
        """Keys of all papers that pass ``filters`` and are not hidden; only those in ``among`` when it is given."""
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

    def delete_embeddings(self, model: str) -> int:
        """Delete every stored embedding of ``model`` (and, in PostgreSQL, its HNSW indexes); return how many."""
        ...

    # -- jobs and whole-database operations -----------------------------------------------------------------------
    def job_lock(self, name: str) -> AbstractContextManager[bool]:
        """Hold the lock ``name`` for the ``with`` block: yields True when acquired, False when another holder has
        it (never waits). Works across threads, processes and — with PostgreSQL — machines; released when the block
        ends or raises, or when the holder dies. See :mod:`dailypapers.db.locks`."""
        ...

    def database_bytes(self) -> int:
        """The size of the database on disk, in bytes."""
        ...

    def table_counts(self) -> dict[str, int]:
        """Rows per table of the schema (not ``schema_migrations``, not search-index internals)."""
        ...
