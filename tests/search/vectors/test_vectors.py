"""The VectorIndex contract on both backends (HNSW files with SQLite, pgvector with PostgreSQL), opened by
``open_vector_index``: exact nearest neighbours with cosine scores, filters giving the same answer as an exact
filtered search whichever way it is found (SQLite: post-filtering the nearest papers of the whole index, or
pre-filtering when the filter is narrow), similar papers, size and rebuild."""

from __future__ import annotations

from collections.abc import Collection
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from dailypapers.papers.store import Filters, Store
from dailypapers.search.vectors.base import VectorIndex
from dailypapers.search.vectors.index import HnswVectorIndex, open_vector_index
from tests.papers.store.test_store_contract import corpus

MODEL, DIM = "test-model", 32


class Spy:
    """The store, recording each ``filter_pks`` call's ``among`` (None: every passing key was listed)."""

    def __init__(self, store: Store) -> None:
        self.store, self.among_calls = store, []  # type: list[Collection[int] | None]

    def filter_pks(self, filters: Filters, among: Collection[int] | None = None) -> set[int]:
        self.among_calls.append(among)
        return self.store.filter_pks(filters, among)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.store, name)


Indexed = tuple[Spy, VectorIndex, dict[int, np.ndarray]]


@pytest.fixture
def indexed(store: Store, tmp_path: Path) -> Indexed:
    """The corpus with random vectors, stored and indexed the way the indexer does it (through the hooks)."""
    store.upsert_papers(corpus())
    papers = [p for batch in store.papers_needing_embedding(MODEL) for p in batch]
    rng = np.random.default_rng(3)
    vectors = {p.pk: rng.standard_normal(DIM).astype(np.float32) for p in papers if p.pk is not None}
    spy = Spy(store)
    index = open_vector_index(spy, tmp_path / "vectors", MODEL, DIM)  # type: ignore[arg-type]
    with index.writing():
        index.begin_update()
        store.save_embeddings(MODEL, [(p, vectors[p.pk]) for p in papers if p.pk is not None])
        index.add(np.array(list(vectors)), np.stack(list(vectors.values())))
        index.commit()
    return spy, index, vectors


def exact(vectors: dict[int, np.ndarray], allowed: set[int], query: np.ndarray, k: int) -> list[tuple[int, float]]:
    keys = [pk for pk in vectors if pk in allowed]
    if not keys:
        return []
    mat = np.stack([vectors[pk] / np.linalg.norm(vectors[pk]) for pk in keys])
    sims = mat @ (query / np.linalg.norm(query))
    return [(keys[i], float(sims[i])) for i in np.argsort(-sims)[:k]]


def test_search_is_the_exact_top_k_with_cosine_scores(indexed: Indexed, backend: str) -> None:
    _, index, vectors = indexed
    assert isinstance(index, HnswVectorIndex) == (backend == "sqlite")
    assert index.size() == len(vectors)
    pk = sorted(vectors)[10]
    hits = index.search(vectors[pk], 10)
    want = exact(vectors, set(vectors), vectors[pk], 10)
    assert hits[0].pk == pk and hits[0].score == pytest.approx(1.0, abs=1e-5)
    assert [h.pk for h in hits] == [k for k, _ in want]
    assert [h.score for h in hits] == pytest.approx([s for _, s in want], abs=1e-4)


def test_similar_excludes_the_paper_itself(indexed: Indexed) -> None:
    spy, index, vectors = indexed
    pk = sorted(vectors)[5]
    hits = index.similar(pk, 7)
    assert [h.pk for h in hits] == [k for k, _ in exact(vectors, set(vectors) - {pk}, vectors[pk], 7)]
    allowed = spy.store.filter_pks(Filters(category="cs.CL"))
    filtered = index.similar(pk, 5, Filters(category="cs.CL"))
    assert [h.pk for h in filtered] == [k for k, _ in exact(vectors, allowed - {pk}, vectors[pk], 5)]
    assert index.similar(10**9, 5) == []  # no embedding


def test_another_model_has_nothing(indexed: Indexed, tmp_path: Path) -> None:
    spy, _, vectors = indexed
    other = open_vector_index(spy.store, tmp_path / "other", "other-model", DIM)
    assert other.search(next(iter(vectors.values())), 10) == [] and other.size() == 0


@pytest.mark.parametrize(
    "filters",
    [
        Filters(category="cs"),  # 60% pass: answered by post-filtering
        Filters(since=date(2026, 11, 17), category="cs.LG"),  # ~30%
        Filters(category="stat", since=date(2026, 10, 5)),
        Filters(category="stat.ME", author="ada1"),  # a few papers
        Filters(author="nobody at all"),  # none
    ],
    ids=repr,
)
def test_filtered_search_is_the_exact_filtered_top_k(indexed: Indexed, filters: Filters) -> None:
    spy, index, vectors = indexed
    allowed = spy.store.filter_pks(filters)
    for seed in range(5):
        query = np.random.default_rng(seed).standard_normal(DIM).astype(np.float32)
        hits = index.search(query, 15, filters)
        assert [h.pk for h in hits] == [k for k, _ in exact(vectors, allowed, query, 15)]


def test_a_broad_filter_does_not_list_every_passing_paper(indexed: Indexed, backend: str) -> None:
    if backend != "sqlite":
        pytest.skip("PostgreSQL filters inside its own vector query")
    spy, index, vectors = indexed
    query = vectors[next(iter(vectors))]
    hits = index.search(query, 10, Filters(category="cs"))
    assert len(hits) == 10
    assert spy.among_calls and all(among is not None and len(among) <= 60 for among in spy.among_calls)


def test_rebuild_gives_the_same_answers(indexed: Indexed, tmp_path: Path) -> None:
    spy, index, vectors = indexed
    pk = sorted(vectors)[3]
    before = index.search(vectors[pk], 10)
    reader = open_vector_index(spy.store, tmp_path / "vectors", MODEL, DIM)  # another process, say
    assert reader.search(vectors[pk], 10) == before
    assert index.rebuild() == len(vectors)
    assert index.search(vectors[pk], 10) == before
    reader.reload_if_changed()
    assert reader.size() == len(vectors) and reader.search(vectors[pk], 10) == before
