"""The search service: hybrid search, similar papers, and keeping embeddings and the vector index up to date.

It holds the parts search needs — the paper store (keyword SQL), the embedding model and the backend's
:class:`~dailypapers.search.vectors.base.VectorIndex` — and loads the model and the index on first use, so a
command that only lists papers never pays for them.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cached_property
from pathlib import Path

import numpy as np

from dailypapers.errors import BadInput
from dailypapers.papers.models import Filters, Paper
from dailypapers.papers.store.base import Store
from dailypapers.papers.store.consistency import (
    SAMPLE,
    KeywordIndexCheck,
    check_store_keywords,
    rebuild_store_keywords,
)
from dailypapers.search.hybrid import SearchPage, hybrid_search
from dailypapers.search.keyword import KeywordEngine, open_keyword_engine
from dailypapers.search.similar import similar_papers
from dailypapers.search.vectors.base import VectorIndex
from dailypapers.search.vectors.embedder import Embedder
from dailypapers.search.vectors.index import open_vector_index, remove_model_index
from dailypapers.search.vectors.indexer import rebuild_index, update_index


class Search:
    """Searching the papers of one store. Thread-safe for searches; index updates take the index's writer lock."""

    def __init__(
        self,
        store: Store,
        embedder: Callable[[], Embedder],
        vector_dir: Path,
        *,
        max_query_length: int = 10_000,
        page_size: int = 20,
        candidates: int = 100,
        rrf_k: int = 60,
        embed_batch: int = 64,
        keyword_dir: Path | None = None,
    ) -> None:
        self.store = store
        self.keyword_dir = keyword_dir or vector_dir.parent / "keyword"  # beside the vector index
        self._embedder = embedder
        self.vector_dir = vector_dir
        self.max_query_length, self.page_size, self.candidates, self.rrf_k = (
            max_query_length,
            page_size,
            candidates,
            rrf_k,
        )
        self.embed_batch = embed_batch

    @property
    def embedder(self) -> Embedder:
        return self._embedder()

    @cached_property
    def vectors(self) -> VectorIndex:
        """The vector index, loaded now (a saved on-disk index is read here, not by the first search)."""
        self._vector_index.reload_if_changed()
        return self._vector_index

    @cached_property
    def _vector_index(self) -> VectorIndex:
        """The vector index of the store's backend, not loaded yet: a rebuild never reads the old one."""
        return open_vector_index(self.store, self.vector_dir, self.embedder.name, self.embedder.dim)

    @cached_property
    def keywords(self) -> KeywordEngine:
        """The keyword engine: tantivy in the data folder on SQLite, ``tsvector`` on PostgreSQL."""
        return open_keyword_engine(self.store, self.keyword_dir)

    def embed_query(self, text: str) -> np.ndarray:
        return self.embedder.embed([text])[0]

    def query(
        self,
        text: str,
        *,
        filters: Filters = Filters(),
        mode: str = "hybrid",
        page: int = 1,
        page_size: int | None = None,
    ) -> SearchPage:
        """One page of results for ``text`` (keywords, a title, an arXiv id or URL, or a pasted abstract)."""
        if len(text) > self.max_query_length:
            raise BadInput(f"A query can be at most {self.max_query_length:,} characters; this one has {len(text):,}.")
        semantic = mode != "keyword" and self.store.latest_added_day() is not None  # indexed max(), not count(*)
        return hybrid_search(
            self.store,
            self.vectors if semantic else None,
            self.embed_query if semantic else None,
            text,
            filters=filters,
            mode=mode,
            page=page,
            page_size=page_size or self.page_size,
            candidates=self.candidates,
            rrf_k=self.rrf_k,
            keywords=self.keywords,
        )

    def similar(self, paper: Paper, k: int = 10) -> list[tuple[Paper, float]]:
        """The ``k`` papers nearest to ``paper`` by meaning (itself excluded)."""
        return similar_papers(self.store, self.vectors, paper, k)

    def update_index(self, *, progress: bool | None = None) -> int:
        """Bring the keyword index in step with the store, then embed papers that are new or changed and add them to
        the vector index; return how many were embedded. Both indexes are derived: one step keeps them in step."""
        self.keywords.update(progress=progress)
        return update_index(self.store, self.embedder, self._vector_index, batch=self.embed_batch, progress=progress)

    def prune_other_models(self) -> dict[str, int]:
        """Delete the stored embeddings of every model but the current one, and their vector indexes; return the
        embeddings deleted per model. The index files go first, so a prune stopped midway is finished by a rerun."""
        current, deleted = self.embedder.name, {}
        for model in self.store.embedding_counts():
            if model != current:
                remove_model_index(self.store, self.vector_dir, model)
                deleted[model] = self.store.delete_embeddings(model)
        return deleted

    def rebuild_index(self) -> int:
        """Rebuild the keyword index, and the vector index from stored embeddings (computing missing ones); return
        the vector index's size."""
        rebuild = getattr(self.keywords, "rebuild", None)
        if rebuild is not None:
            rebuild()
        return rebuild_index(self.store, self.embedder, self._vector_index)

    def warm_up(self) -> None:
        """Load the model and open the vector and keyword indexes, so the first search is as fast as the others."""
        self.embed_query("warm up")
        _ = self.vectors
        self.keywords.search("warm up", 1)

    # -- consistency (dailypapers check) -------------------------------------------------------------------------
    def keyword_index_check(self) -> KeywordIndexCheck:
        """Whether the keyword index holds every paper and nothing else: the engine's own ``check()`` when it has one
        (a derived index, such as tantivy), else the store's (:mod:`dailypapers.papers.store.consistency`)."""
        check = getattr(self.keywords, "check", None)
        if check is None:
            return check_store_keywords(self.store)
        found = check()  # the engine's own report (tantivy's IndexCheck): missing and orphan keys, in step or not
        missing, orphans = list(found.missing), list(found.orphans)
        faults = [] if getattr(found, "in_step", True) else ["the index is not at the database's generation"]
        return KeywordIndexCheck(
            engine=getattr(self.keywords, "name", "keywords"),
            papers=self.store.count_papers(),
            indexed=int(getattr(found, "documents", 0)),
            missing=missing[:SAMPLE],
            missing_count=len(missing),
            orphans=orphans[:SAMPLE],
            orphan_count=len(orphans),
            faults=faults,
        )

    def keyword_index_repair(self) -> None:
        """Rebuild the keyword index from the papers (the engine's ``rebuild()`` when it has one)."""
        rebuild = getattr(self.keywords, "rebuild", None)
        if rebuild is not None:
            rebuild()
        else:
            rebuild_store_keywords(self.store)
