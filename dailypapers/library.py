"""The library the CLI and the web app both call: one object that ties store, embedder, vector index and ranking.

``Library(config)`` opens the store the configuration names; every operation a user can ask for (import, index,
search, similar papers, a day's list) is one method here, so the CLI commands and the web views stay thin and
behave the same.
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Iterable
from datetime import date
from functools import cached_property

import numpy as np

from dailypapers.config import Config
from dailypapers.papers.models import Paper, parse_arxiv_id
from dailypapers.papers.periods import Period
from dailypapers.papers.sources.base import IngestReport, Record, SourceError, ingest
from dailypapers.papers.store import Filters, Store, open_store
from dailypapers.search.hybrid import SearchPage, hybrid_search
from dailypapers.search.similar import similar_papers
from dailypapers.search.vectors.embedder import Embedder, MiniLMEmbedder
from dailypapers.search.vectors.hnsw import AnnIndex
from dailypapers.search.vectors.index import VectorSearch
from dailypapers.search.vectors.indexer import rebuild_index, update_index

SECRET_META_KEY = "secret_key"
"""Meta key of the generated signing key (used when ``DAILYPAPERS_SECRET_KEY`` is empty)."""


class Library:
    """dailypapers as a library. Thread-safe for reads; writes are serialised by the store."""

    def __init__(self, config: Config, *, store: Store | None = None, embedder: Embedder | None = None) -> None:
        self.config = config
        self.store = store or open_store(config)
        self._embedder = embedder
        self._lock = threading.Lock()

    # -- parts, created on first use ---------------------------------------------------------------------------
    @property
    def embedder(self) -> Embedder:
        with self._lock:
            if self._embedder is None:
                self._embedder = MiniLMEmbedder(
                    precision=self.config.embed_precision, batch_size=self.config.embed_batch
                )
            return self._embedder

    @cached_property
    def ann(self) -> AnnIndex | None:
        """The on-disk ANN index (SQLite backend only; PostgreSQL indexes vectors itself)."""
        if self.store.backend != "sqlite":
            return None
        return AnnIndex.open(self.config.vector_dir, self.embedder.dim)

    @cached_property
    def vectors(self) -> VectorSearch:
        return VectorSearch(self.store, self.embedder.name, self.ann)

    @cached_property
    def secret_key(self) -> str:
        """The key that signs voter cookies and CSRF tokens: ``DAILYPAPERS_SECRET_KEY``, else a random key generated
        once and kept in the database, so that every worker and machine serving this database signs alike (there is
        never a default in code). Whoever stores it first wins; the others read the winner's key."""
        if self.config.secret_key:
            return self.config.secret_key
        stored = self.store.get_meta(SECRET_META_KEY)
        return stored or self.store.meta_setdefault(SECRET_META_KEY, secrets.token_urlsafe(32))

    def embed_query(self, text: str) -> np.ndarray:
        return self.embedder.embed([text])[0]

    # -- lifecycle ----------------------------------------------------------------------------------------------
    def init(self) -> list[str]:
        """Create or upgrade the schema; return the migrations applied."""
        self.config.data_dir.mkdir(parents=True, exist_ok=True)
        return self.store.migrate()

    def close(self) -> None:
        self.store.close()

    # -- import and index -----------------------------------------------------------------------------------------
    def ingest(
        self,
        records: Iterable[Record],
        *,
        added_at: date | None = None,
        progress: bool | None = None,
        index: bool = True,
    ) -> IngestReport:
        """Import records (see :func:`dailypapers.papers.sources.base.ingest`), then embed and index the new papers."""
        try:
            report = ingest(self.store, records, added_at=added_at, progress=progress)
        except SourceError as exc:  # what was read before the failure is stored: index it too
            partial: IngestReport | None = getattr(exc, "report", None)
            if index and partial and (partial.added or partial.updated):
                self.update_index(progress=progress)
            raise
        if index and (report.added or report.updated):
            self.update_index(progress=progress)
        return report

    def update_index(self, *, progress: bool | None = None) -> int:
        """Embed papers that are new or changed and add them to the vector index; return how many."""
        return update_index(self.store, self.embedder, self.ann, batch=self.config.embed_batch, progress=progress)

    def rebuild_index(self) -> int:
        """Rebuild the vector index from stored embeddings (computing missing ones); return its size."""
        if self.store.backend != "sqlite":
            return self.update_index()
        ann = rebuild_index(self.store, self.embedder, self.config.vector_dir)
        self.__dict__["ann"] = ann
        self.__dict__.pop("vectors", None)
        return len(ann)

    # -- reading ------------------------------------------------------------------------------------------------------
    def paper(self, paper_id: str) -> Paper | None:
        """A paper by id; an arXiv id with a version suffix or an abs URL resolves to the paper too."""
        paper = self.store.get_paper(paper_id)
        if paper is None and (parsed := parse_arxiv_id(paper_id)):
            paper = self.store.get_paper(parsed[0])
        return paper

    def search(
        self,
        query: str,
        *,
        filters: Filters = Filters(),
        mode: str = "hybrid",
        page: int = 1,
        page_size: int | None = None,
    ) -> SearchPage:
        if len(query) > self.config.max_query_length:
            raise ValueError(f"query is longer than {self.config.max_query_length} characters")
        semantic = mode != "keyword" and self.store.latest_added_day() is not None  # indexed max(), not count(*)
        return hybrid_search(
            self.store,
            self.vectors if semantic else None,
            self.embed_query if semantic else None,
            query,
            filters=filters,
            mode=mode,
            page=page,
            page_size=page_size or self.config.page_size,
            candidates=self.config.candidates,
            rrf_k=self.config.rrf_k,
        )

    def similar(self, paper: Paper, k: int = 10) -> list[tuple[Paper, float]]:
        return similar_papers(self.store, self.vectors, paper, k)

    def papers_in(
        self, period: Period, *, limit: int | None = None, offset: int = 0, sort: str = "added"
    ) -> list[Paper]:
        return self.store.papers_added_between(period.start, period.end, limit=limit, offset=offset, sort=sort)

    def count_in(self, period: Period) -> int:
        return self.store.count_added_between(period.start, period.end)
