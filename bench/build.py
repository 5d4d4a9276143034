"""Filling a benchmark database: the real demo corpus through the real import path, or a synthetic corpus in bulk.

* :func:`import_demo`: ``read_jsonl`` → ``Library.ingest`` (three daily batches, as ``tests.demo.build_demo``),
  then ``Library.update_index`` with the real embedding model (loaded beforehand). Import and embedding are timed
  separately.
* :func:`import_synthetic`: ``bench.corpus.synthetic`` streamed into ``store.upsert_papers`` in batches of 1000,
  then the synthetic vectors stored with ``store.save_embeddings`` (no model). Only the store calls are timed, not
  the generation. Memory: one float32 ``[n, dim]`` array (1.5 GB at 1M) plus one batch of papers.
* :func:`build_index`: SQLite: the tantivy keyword index from the store, then hnswlib from the stored vectors
  (saved to disk), each timed;
  PostgreSQL the ``CREATE INDEX … USING hnsw`` that ``save_embeddings`` issues, run on the filled table (synthetic
  imports skip its creation on the first save so that the timed build is the whole build, not an empty index
  grown row by row), followed by an untimed ``VACUUM ANALYZE`` (what autovacuum would do after a bulk load).
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, timedelta
from itertools import islice
from pathlib import Path
from typing import Any

import numpy as np
from psycopg import sql

from bench.backends import pg_connect
from bench.corpus import Demo, synthetic
from dailypapers.library import Library
from dailypapers.papers.models import Paper
from dailypapers.papers.store.base import Filters
from dailypapers.papers.store.pg_vectors import create_hnsw_indexes, hnsw_index
from dailypapers.papers.store.postgres import PostgresStore


@dataclass
class Profile:
    """What the filtered queries need to know about a corpus: its date span and its categories."""

    first: date | None = None
    last: date | None = None
    categories: Counter[str] = field(default_factory=Counter)

    def observe(self, paper: Paper) -> None:
        day = paper.display_date
        if day is not None:
            self.first = day if self.first is None else min(self.first, day)
            self.last = day if self.last is None else max(self.last, day)
        self.categories.update(paper.categories)

    def filters(self) -> Filters:
        """The most common category (if any) and the middle third of the date span."""
        category = self.categories.most_common(1)[0][0] if self.categories else None
        if self.first is None or self.last is None:
            return Filters(category=category)
        third = timedelta(days=(self.last - self.first).days // 3)
        return Filters(since=self.first + third, until=self.last - third, category=category)


def import_demo(lib: Library) -> tuple[dict[str, Any], Profile]:
    """Import the demo corpus as ``dailypapers init --demo`` does, timing import and embedding separately."""
    from dailypapers.papers.sources.jsonl import read_jsonl
    from tests.demo import DEMO_CORPUS, DEMO_DAYS

    records = list(read_jsonl(DEMO_CORPUS))
    per_day = -(-len(records) // len(DEMO_DAYS))
    it = iter(records)
    started = time.perf_counter()
    for day in DEMO_DAYS:
        lib.ingest(islice(it, per_day), added_at=day, progress=False, index=False)
    import_s = time.perf_counter() - started
    started = time.perf_counter()
    embedded = lib.search.update_index(progress=False)
    embed_s = time.perf_counter() - started
    profile = Profile()
    for paper in lib.store.iter_papers():
        profile.observe(paper)
    n = lib.papers.count()
    return {
        "papers": n,
        "import_s": import_s,
        "import_papers_per_s": n / import_s,
        "embed_s": embed_s,
        "embed_papers_per_s": embedded / embed_s,
        "embeddings_save_s": None,
        "embeddings_save_per_s": None,
    }, profile


def import_synthetic(
    lib: Library, demo: Demo, n: int, *, batch: int = 1000, seed: int = 0, vectors: np.ndarray | None = None
) -> tuple[dict[str, Any], Profile]:
    """Stream ``n`` synthetic papers into the store, then their vectors; time only the store calls.

    ``vectors``: ``[n, dim]`` embeddings of the papers' texts in stream order (e.g. by the static tier,
    ``bench.tier_recall``) stored instead of the synthetic :class:`bench.corpus.Vectors`.
    """
    store, model = lib.store, lib.embedder.name
    given = vectors is not None
    if vectors is None:
        vectors = np.empty((n, demo.vectors.shape[1]), dtype=np.float32)
    elif vectors.shape[0] != n:
        raise ValueError(f"{vectors.shape[0]} vectors given for {n} papers")
    profile = Profile()
    pending: list[Paper] = []
    import_s = 0.0
    started = time.perf_counter()
    for i, (paper, vector) in enumerate(synthetic(demo, n, seed=seed)):
        if not given:
            vectors[i] = vector
        profile.observe(paper)
        pending.append(paper)
        if len(pending) == batch or i == n - 1:
            t0 = time.perf_counter()
            counts = store.upsert_papers(pending)
            import_s += time.perf_counter() - t0
            if counts.added != len(pending):
                raise RuntimeError(f"expected {len(pending)} new papers, the store added {counts.added}")
            pending = []
    total_s = time.perf_counter() - started
    if isinstance(store, PostgresStore):  # skip the on-demand CREATE INDEX: build_index times the whole build
        store._indexed.add((model, vectors.shape[1]))
    save_s = 0.0
    saved = 0
    papers = store.iter_papers(batch)
    while chunk := list(islice(papers, batch)):
        rows = [(p, vectors[_synthetic_number(p)]) for p in chunk]
        t0 = time.perf_counter()
        store.save_embeddings(model, rows)
        save_s += time.perf_counter() - t0
        saved += len(rows)
    if saved != n:
        raise RuntimeError(f"saved {saved} embeddings for {n} papers")
    return {
        "papers": n,
        "import_s": import_s,
        "import_papers_per_s": n / import_s,
        "generate_s": total_s - import_s,
        "embed_s": None,
        "embed_papers_per_s": None,
        "embeddings_save_s": save_s,
        "embeddings_save_per_s": n / save_s,
    }, profile


def folder_bytes(folder: Path) -> int:
    """The size of the files under ``folder`` (0 when it does not exist)."""
    return sum(f.stat().st_size for f in Path(folder).rglob("*") if f.is_file())


def _synthetic_number(paper: Paper) -> int:
    """The stream position of a synthetic paper, which its title ends with: ``"… (123)"``."""
    return int(paper.title[paper.title.rindex("(") + 1 : -1])


def build_index(lib: Library) -> dict[str, Any]:
    """Build the vector index from the stored embeddings; time the build."""
    if lib.papers.backend == "sqlite":
        from dailypapers.search.vectors.indexer import rebuild_index

        started = time.perf_counter()
        keyword_docs = lib.search.keywords.update(progress=False)  # the tantivy index, built from the store
        keyword_s = time.perf_counter() - started
        started = time.perf_counter()
        size = rebuild_index(lib.store, lib.search.embedder, lib.search._vector_index)
        return {"index_build_s": time.perf_counter() - started, "indexed": size,
                "keyword_index_build_s": keyword_s, "keyword_indexed": keyword_docs,
                "keyword_index_bytes": folder_bytes(lib.search.keyword_dir)}  # fmt: skip
    model, dim = lib.embedder.name, lib.embedder.dim
    name, _, _ = hnsw_index(model, dim)
    with pg_connect(lib.config.database_url) as conn:
        conn.execute(sql.SQL("DROP INDEX IF EXISTS {}").format(name))  # the demo import grew one row by row
        started = time.perf_counter()
        create_hnsw_indexes(conn, model, [dim])
        build_s = time.perf_counter() - started
        conn.execute("VACUUM ANALYZE")
        size = conn.execute("SELECT count(*) AS n FROM embeddings WHERE model = %s", (model,)).fetchall()[0]["n"]
    return {"index_build_s": build_s, "indexed": int(size)}
