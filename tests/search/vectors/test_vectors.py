"""VectorSearch with filters on both backends: the same answer as an exact filtered search, whichever way it is found
(SQLite: post-filtering the nearest papers of the whole index, or pre-filtering when the filter is narrow)."""

from __future__ import annotations

from collections.abc import Collection
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from dailypapers.papers.store import Filters, Store
from dailypapers.search.vectors.hnsw import AnnIndex
from dailypapers.search.vectors.index import VectorSearch
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


@pytest.fixture
def indexed(store: Store, backend: str, tmp_path: Path) -> tuple[Spy, VectorSearch, dict[int, np.ndarray]]:
    store.upsert_papers(corpus())
    papers = [p for batch in store.papers_needing_embedding(MODEL) for p in batch]
    rng = np.random.default_rng(3)
    vectors = {p.pk: rng.standard_normal(DIM).astype(np.float32) for p in papers if p.pk is not None}
    store.save_embeddings(MODEL, [(p, vectors[p.pk]) for p in papers if p.pk is not None])
    ann = None
    if backend == "sqlite":
        ann = AnnIndex(tmp_path / "vectors", DIM)
        ann.add(np.array(list(vectors)), np.stack(list(vectors.values())))
    spy = Spy(store)
    return spy, VectorSearch(spy, MODEL, ann), vectors  # type: ignore[arg-type]


def exact(vectors: dict[int, np.ndarray], allowed: set[int], query: np.ndarray, k: int) -> list[int]:
    keys = [pk for pk in vectors if pk in allowed]
    if not keys:
        return []
    mat = np.stack([vectors[pk] / np.linalg.norm(vectors[pk]) for pk in keys])
    sims = mat @ (query / np.linalg.norm(query))
    return [keys[i] for i in np.argsort(-sims)[:k]]


@pytest.mark.parametrize(
    "filters",
    [
        Filters(category="cs"),  # 60% pass: answered by post-filtering
        Filters(since=date(2026, 11, 17), category="cs.LG"),  # ~30%
        Filters(category="stat.ME", author="ada1"),  # a few papers
        Filters(author="nobody at all"),  # none
    ],
    ids=repr,
)
def test_filtered_search_is_the_exact_filtered_top_k(
    indexed: tuple[Spy, VectorSearch, dict[int, np.ndarray]], filters: Filters
) -> None:
    spy, search, vectors = indexed
    allowed = spy.store.filter_pks(filters)
    for seed in range(5):
        query = np.random.default_rng(seed).standard_normal(DIM).astype(np.float32)
        hits = search.search(query, 15, filters)
        assert [h.pk for h in hits] == exact(vectors, allowed, query, 15)


def test_a_broad_filter_does_not_list_every_passing_paper(
    indexed: tuple[Spy, VectorSearch, dict[int, np.ndarray]], backend: str
) -> None:
    if backend != "sqlite":
        pytest.skip("PostgreSQL filters inside its own vector query")
    spy, search, vectors = indexed
    query = vectors[next(iter(vectors))]
    hits = search.search(query, 10, Filters(category="cs"))
    assert len(hits) == 10
    assert spy.among_calls and all(among is not None and len(among) <= 60 for among in spy.among_calls)
