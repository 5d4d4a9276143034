"""The PostgreSQL backend's :class:`~dailypapers.search.vectors.base.VectorIndex`: pgvector's HNSW index.

The SQL lives with the store (:mod:`dailypapers.papers.store.pg_vectors`: per-model partial HNSW indexes created on
demand, filters in the same query, iterative scans); this adapter only calls
``PostgresStore.pgvector_search``. The database indexes each vector in the transaction that stores it, so the
update hooks have nothing to do and :meth:`PgVectorIndex.rebuild` only reports the size.
"""

from __future__ import annotations

import contextlib
from contextlib import AbstractContextManager
from typing import Any, Protocol

import numpy as np

from dailypapers.papers.models import Filters
from dailypapers.papers.store import pg_vectors
from dailypapers.papers.store.base import Hit
from dailypapers.search.vectors.base import similar_to_paper

VECTOR_CHUNK = 10_000  # keys per query when reading many vectors at once (:meth:`PgVectorIndex.vectors`)
VECTORS_SQL = "SELECT paper_pk, vector FROM embeddings WHERE model = %s AND paper_pk = ANY(%s)"


class PgVectorStore(Protocol):
    """What the adapter needs of :class:`~dailypapers.papers.store.postgres.PostgresStore`."""

    def pgvector_search(
        self, model: str, vector: np.ndarray, limit: int, filters: Filters = Filters(), *, ef: int | None = None
    ) -> list[Hit]:
        """Nearest stored papers by cosine similarity, filtered in the same query, with search effort ``ef``."""
        ...

    def get_embedding(self, model: str, pk: int) -> np.ndarray | None: ...

    def _rows(self, query: Any, params: Any = (), *, binary: bool = False) -> list[Any]: ...

    def embedding_counts(self) -> dict[str, int]: ...


class PgVectorIndex:
    """Vector search of one model in PostgreSQL (pgvector)."""

    def __init__(self, store: PgVectorStore, model: str) -> None:
        self.store, self.model = store, model

    # -- queries ---------------------------------------------------------------------------------------------
    def search(self, vector: np.ndarray, k: int, filters: Filters = Filters()) -> list[Hit]:
        return self.store.pgvector_search(self.model, vector, k, filters)

    def similar(self, pk: int, k: int, filters: Filters = Filters()) -> list[Hit]:
        def search(vector: np.ndarray, limit: int, filters: Filters) -> list[Hit]:
            return self.store.pgvector_search(self.model, vector, limit, filters, ef=pg_vectors.SIMILAR_EF_SEARCH)

        return similar_to_paper(search, self.store.get_embedding(self.model, pk), pk, k, filters)

    def size(self) -> int:
        return self.store.embedding_counts().get(self.model, 0)

    def vectors(self, pks: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        keys = np.asarray(pks, dtype=np.int64).reshape(-1)
        got: dict[int, np.ndarray] = {}
        for start in range(0, len(keys), VECTOR_CHUNK):  # one query per chunk, binary rows (no text parsing)
            chunk = keys[start : start + VECTOR_CHUNK].tolist()
            rows = self.store._rows(VECTORS_SQL, (self.model, chunk), binary=True)
            if rows:
                got.update(zip((int(r["paper_pk"]) for r in rows), pg_vectors.stack_vectors(rows), strict=True))
        found = np.fromiter((k for k in keys.tolist() if k in got), np.int64)
        if found.size == 0:
            return found, np.zeros((0, 0), np.float32)
        return found, np.vstack([got[k] for k in found.tolist()]).astype(np.float32, copy=False)

    def reload_if_changed(self) -> bool:
        return False  # every query reads the database's current state

    # -- updates: pgvector indexes each row as the store writes it ------------------------------------------------
    def writing(self) -> AbstractContextManager[object]:
        return contextlib.nullcontext()  # the store serialises its writes itself

    def recover(self) -> int:
        return 0  # vectors and their index change in one transaction: they never disagree

    def begin_update(self) -> None:
        pass

    def add(self, pks: np.ndarray, vectors: np.ndarray) -> None:
        pass

    def commit(self) -> None:
        pass

    def rebuild(self) -> int:
        return self.size()  # nothing to rebuild: the database maintains the index
