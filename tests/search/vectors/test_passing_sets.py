"""SQLite's filtered vector search keeps the papers that pass a filter (``index.PassingSets``): the next searches
under that filter do not list them again, a paper that stops passing is still never returned, and a new index
generation or the time limit drops what was kept."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from dailypapers.papers.store import Filters
from dailypapers.search.vectors import index as vector_index
from tests.search.vectors.test_vectors import DIM, Indexed, exact
from tests.search.vectors.test_vectors import indexed as indexed  # the fixture, for pytest to find here

NARROW = Filters(category="stat.ME", author="ada1")  # a few papers: pre-filtering lists every one that passes


@pytest.fixture
def sqlite_indexed(indexed: Indexed, backend: str, monkeypatch: pytest.MonkeyPatch) -> Indexed:
    """The indexed corpus, with post-filtering stopped after its first look: 298 papers are too few for a filter to
    need pre-filtering otherwise (post-filtering widens to the whole index)."""
    if backend != "sqlite":
        pytest.skip("PostgreSQL filters inside its own vector query")
    monkeypatch.setattr(vector_index, "POST_FILTER_MAX", 1)
    return indexed


def _listings(spy: object) -> int:
    return sum(among is None for among in spy.among_calls)  # type: ignore[attr-defined]


def _query(seed: int) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal(DIM).astype(np.float32)


def test_a_kept_filter_is_listed_once_and_answers_stay_exact(sqlite_indexed: Indexed) -> None:
    spy, index, vectors = sqlite_indexed
    allowed = spy.store.filter_pks(NARROW)
    assert 1 < len(allowed) < 15
    for seed in range(4):
        hits = index.search(_query(seed), 15, NARROW)
        assert [h.pk for h in hits] == [k for k, _ in exact(vectors, allowed, _query(seed), 15)]
    assert _listings(spy) == 1


def test_a_paper_that_stops_passing_is_not_returned_from_a_kept_set(sqlite_indexed: Indexed) -> None:
    spy, index, _ = sqlite_indexed
    before = index.search(_query(0), 15, NARROW)
    gone = before[0].pk
    paper = spy.store.get_papers_by_pk([gone])[0]
    counts = spy.store.upsert_papers([dataclasses.replace(paper, categories=["cs.AI"], primary_category="cs.AI")])
    assert counts.updated == 1 and gone not in spy.store.filter_pks(NARROW)
    after = index.search(_query(0), 15, NARROW)
    assert [h.pk for h in after] == [h.pk for h in before if h.pk != gone]
    assert _listings(spy) == 1  # answered from the kept set, checked against the store


def test_a_new_generation_or_the_time_limit_lists_again(
    sqlite_indexed: Indexed, monkeypatch: pytest.MonkeyPatch
) -> None:
    spy, index, vectors = sqlite_indexed
    index.search(_query(1), 15, NARROW)
    pk = next(iter(spy.store.filter_pks(NARROW)))
    with index.writing():  # a re-embedded paper: the index saves a new generation
        index.begin_update()
        index.add(np.array([pk]), vectors[pk][None, :])
        index.commit()
    index.search(_query(1), 15, NARROW)
    assert _listings(spy) == 2
    monkeypatch.setattr(vector_index, "FILTER_CACHE_S", -1.0)  # whatever was kept is too old
    index.search(_query(1), 15, NARROW)
    index.search(_query(2), 15, NARROW)
    assert _listings(spy) == 4
