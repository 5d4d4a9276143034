"""Nearest-neighbour search over paper embeddings, whichever backend holds them.

PostgreSQL answers with its own pgvector HNSW index (filters in the same SQL); on SQLite the on-disk ANN index
(:mod:`dailypapers.index.ann`) answers, restricted to the keys that pass the filters.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from dailypapers.store.base import Filters, Hit, Store

if TYPE_CHECKING:
    from dailypapers.index.ann import AnnIndex


class VectorSearch:
    """Cosine nearest neighbours of a query vector among stored papers."""

    def __init__(self, store: Store, model: str, ann: AnnIndex | None) -> None:
        self.store = store
        self.model = model
        self.ann = ann

    def search(self, vector: np.ndarray, k: int, filters: Filters = Filters()) -> list[Hit]:
        """The ``k`` papers closest to ``vector`` that pass ``filters``, best first (score = cosine)."""
        hits = self.store.vector_search(self.model, vector, k, filters)
        if hits is not None:
            return hits
        if self.ann is None:
            raise RuntimeError("no vector index: run `dailypapers index rebuild`")
        self.ann.reload_if_changed()
        allowed = self.store.filter_pks(filters) if filters.active else None
        if allowed is not None and not allowed:
            return []
        return [Hit(pk=int(key), score=float(sim)) for key, sim in self.ann.search(vector, k, allowed)]

    def similar(self, pk: int, k: int, filters: Filters = Filters()) -> list[Hit]:
        """The ``k`` papers nearest to paper ``pk`` (itself excluded); empty if it has no embedding yet."""
        vector = self.store.get_embedding(self.model, pk)
        if vector is None:
            return []
        return [h for h in self.search(vector, k + 1, filters) if h.pk != pk][:k]
