"""Nearest-neighbour search over paper embeddings, whichever backend holds them.

PostgreSQL answers with its own pgvector HNSW index (filters in the same SQL); on SQLite the on-disk ANN index
(:mod:`.hnsw`) answers. A filtered search there first *post-filters*: it takes the nearest papers
of the whole index and keeps those the store says pass (one indexed lookup of a few hundred keys), widening once
by the pass rate it saw. Only when the filter keeps too few of the nearest papers (a narrow filter, or one far
from the query's neighbourhood) does it *pre-filter*: every key that passes, then the index restricted to them
(exact search when they are few). Pre-filtering costs time in proportion to the papers that pass: 372 ms p50
for 80,000 of 1M papers in the 2026-11-23 benchmark, which post-filtering avoids for broad filters.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from dailypapers.papers.store.base import Filters, Hit, Store

# Post-filtering looks at POST_FILTER_FACTOR × k nearest papers first and at most POST_FILTER_MAX in all: a filter
# passing 5% of the papers near the query is answered from ~3,000 candidates in two index searches.
POST_FILTER_FACTOR = 3
POST_FILTER_MAX = 4_000

if TYPE_CHECKING:
    from dailypapers.search.vectors.hnsw import AnnIndex


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
        found = self._post_filtered(vector, k, filters) if filters.active else self.ann.search(vector, k)
        if found is None:
            allowed = self.store.filter_pks(filters)
            found = self.ann.search(vector, k, allowed) if allowed else []
        return [Hit(pk=int(key), score=float(sim)) for key, sim in found]

    def _post_filtered(self, vector: np.ndarray, k: int, filters: Filters) -> list[tuple[int, float]] | None:
        """The ``k`` nearest that pass ``filters`` found among the nearest of the whole index, or None when the
        filter keeps too few of them to get ``k`` within :data:`POST_FILTER_MAX` candidates."""
        assert self.ann is not None
        total = len(self.ann)
        probe = min(total, POST_FILTER_FACTOR * k)
        while True:
            near = self.ann.search(vector, probe)
            passing = self.store.filter_pks(filters, among=[key for key, _ in near])
            kept = [(key, sim) for key, sim in near if key in passing]
            if len(kept) >= k or len(near) >= total:
                return kept[:k]
            wanted = math.ceil(1.5 * k * len(near) / max(len(kept), 1))  # 1.5: margin on the observed pass rate
            if not kept or probe >= POST_FILTER_MAX or wanted > POST_FILTER_MAX:
                return None
            probe = min(total, wanted)

    def similar(self, pk: int, k: int, filters: Filters = Filters()) -> list[Hit]:
        """The ``k`` papers nearest to paper ``pk`` (itself excluded); empty if it has no embedding yet."""
        vector = self.store.get_embedding(self.model, pk)
        if vector is None:
            return []
        return [h for h in self.search(vector, k + 1, filters) if h.pk != pk][:k]
