"""The keyword engine of each backend (tantivy on SQLite, tsvector on PostgreSQL) over the demo corpus: filters mean
what the SQL filters mean, hidden papers are never hits, and on SQLite the derived tantivy index follows the store
(changes, deletions, a missing or foreign index, a crash between its commit and its record) and gives exact top-k."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import delete

from dailypapers.config import Config
from dailypapers.db.schema import papers as papers_table
from dailypapers.library import Library
from dailypapers.papers.hidden import hide, unhide
from dailypapers.papers.models import Filters, Paper
from dailypapers.papers.sources.jsonl import read_jsonl
from dailypapers.papers.store.base import Store
from dailypapers.search.keyword import KeywordEngine, open_keyword_engine
from dailypapers.search.keyword.tantivy_index import META_KEY, remove_index
from dailypapers.search.keyword.tantivy_search import TantivyKeywords
from tests.demo import DEMO_CORPUS, DEMO_DAYS, demo_embedder


def demo_papers() -> list[Paper]:
    """The demo corpus, its papers added over the three demo days in turn."""
    found = [r for r in read_jsonl(DEMO_CORPUS) if isinstance(r, Paper)]
    return [dataclasses.replace(p, added_at=DEMO_DAYS[i % 3]) for i, p in enumerate(found)]


@pytest.fixture
def engine(store: Store, tmp_path: Path) -> Iterator[KeywordEngine]:
    store.upsert_papers(demo_papers())
    found = open_keyword_engine(store, tmp_path / "keyword")
    found.update(progress=False)
    yield found


def tantivy_of(engine: KeywordEngine) -> TantivyKeywords:
    if not isinstance(engine, TantivyKeywords):
        pytest.skip("the tantivy index is the SQLite backend's")
    return engine


def pks(hits: list) -> list[int]:  # type: ignore[type-arg]
    return [h.pk for h in hits]


def test_each_backend_has_its_engine(store: Store, engine: KeywordEngine) -> None:
    assert engine.name == ("tantivy" if store.backend == "sqlite" else "tsvector")
    if isinstance(engine, TantivyKeywords):
        assert engine.ready  # built by the update: tantivy answers, not the FTS5 fallback
    top = store.get_papers_by_pk(pks(engine.search("multi-sample dropout", 5)))
    assert top[0].title.startswith("Multi-Sample Dropout")


@pytest.mark.parametrize(
    "filters",
    [
        Filters(category="cs.CL"),
        Filters(category="cs"),  # a prefix: every cs.* category
        Filters(author="li"),  # a case-insensitive substring of the author list
        Filters(since=date(2019, 1, 1), until=date(2020, 12, 31)),
        Filters(added_since=DEMO_DAYS[1]),
        Filters(added_until=DEMO_DAYS[0], category="cs.LG", since=date(2018, 1, 1)),
    ],
    ids=["category", "prefix", "author", "dates", "added", "combined"],
)
def test_filters_keep_exactly_what_the_sql_filter_passes(store: Store, engine: KeywordEngine, filters: Filters) -> None:
    everything = pks(engine.search("learning", 1000))
    filtered = pks(engine.search("learning", 1000, filters))
    passing = store.filter_pks(filters)
    assert filtered and set(filtered) == set(everything) & passing
    assert filtered == [pk for pk in everything if pk in passing]  # the same order: filters do not change scores


def test_a_hidden_paper_is_never_a_hit_and_comes_back_when_unhidden(store: Store, engine: KeywordEngine) -> None:
    target = pks(engine.search("multi-sample dropout", 1))[0]
    hide(store.db, target, None, "test")
    assert target not in pks(engine.search("multi-sample dropout", 50))
    assert target not in pks(engine.search("dropout", 50, Filters(category="cs")))
    unhide(store.db, target)
    assert pks(engine.search("multi-sample dropout", 1)) == [target]


@pytest.mark.parametrize("query", ["dropout", "low rank adaptation of large language models", "graph", "the"])
def test_top_k_is_the_exhaustive_top_k(engine: KeywordEngine, query: str) -> None:
    """Block-max WAND prunes, but returns what scoring every match returns (tantivy; the others score all rows)."""
    tantivy_of(engine)
    every = engine.search(query, 10_000)
    for k in (1, 10, 20):
        top = engine.search(query, k)
        assert [h.score for h in top] == [h.score for h in every[:k]]
        assert pks(top) == pks(every[:k]) or len({h.score for h in every[: k + 1]}) < k + 1  # only ties may swap


def test_the_index_follows_changes_and_deletions(store: Store, engine: KeywordEngine) -> None:
    kw = tantivy_of(engine)
    paper = store.get_papers_by_pk(pks(kw.search("multi-sample dropout", 1)))[0]
    changed = dataclasses.replace(paper, pk=None, title="Quokka habitats", abstract="Quokkas, observed.", version=9)
    store.upsert_papers([changed])
    assert pks(kw.search("quokka", 5)) == []  # not yet: the indexing step has not run
    assert paper.pk in kw.check().missing
    assert kw.update(progress=False) == 1
    assert pks(kw.search("quokka", 5)) == [paper.pk]
    assert paper.pk not in pks(kw.search("multi-sample dropout", 50))

    with store.db.write() as conn:
        conn.execute(delete(papers_table).where(papers_table.c.pk == paper.pk))
    assert kw.check().orphans == [paper.pk]
    kw.update(progress=False)
    after = kw.check()
    assert after.ok and after.documents == store.count_papers()
    assert pks(kw.search("quokka", 5)) == []


def test_a_missing_index_falls_back_to_fts5_until_rebuilt(store: Store, engine: KeywordEngine, tmp_path: Path) -> None:
    tantivy_of(engine)
    remove_index(tmp_path / "keyword")
    fresh = open_keyword_engine(store, tmp_path / "keyword")
    assert isinstance(fresh, TantivyKeywords) and not fresh.ready
    fallback = pks(fresh.search("multi-sample dropout", 5))
    assert fallback and fallback == pks(store.keyword_search("multi-sample dropout", 5))
    assert fresh.update(progress=False) == store.count_papers()  # rebuilt from the store
    assert fresh.ready and fresh.check().ok


def test_an_index_the_database_did_not_record_is_rebuilt(store: Store, engine: KeywordEngine) -> None:
    """A database restored or copied beside another index: the uids differ, so the index is not used, then rebuilt."""
    kw = tantivy_of(engine)
    store.meta.set(META_KEY, json.dumps({"uid": "someone-else", "gen": 7}))
    kw._checked = float("-inf")  # the next search looks at the record now rather than within a second
    assert not kw.ready
    assert kw.update(progress=False) == store.count_papers()
    assert kw.ready and kw.check().ok


def test_a_crash_between_commit_and_record_repeats_the_batch(store: Store, engine: KeywordEngine) -> None:
    kw = tantivy_of(engine)
    paper = store.get_papers_by_pk(pks(kw.search("multi-sample dropout", 1)))[0]
    store.upsert_papers(
        [
            dataclasses.replace(
                paper, pk=None, title="Wombat burrows", abstract="Wombats dig.", version=(paper.version or 1) + 1
            )
        ]
    )
    record = store.keyword_indexed  # type: ignore[attr-defined]

    def crash(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt  # the process dies after the index committed, before the database recorded it

    store.keyword_indexed = crash  # type: ignore[attr-defined]
    with pytest.raises(KeyboardInterrupt):
        kw.update(progress=False)
    store.keyword_indexed = record  # type: ignore[attr-defined]
    assert kw.ready  # the index is one generation ahead of the record: still the recorded index
    assert paper.pk in kw.check().missing
    assert kw.update(progress=False) == 1  # the batch again
    assert kw.check().ok and pks(kw.search("wombat", 5)) == [paper.pk]


def test_the_indexing_step_keeps_the_library_keyword_engine_in_step(db_config: Config) -> None:
    """An import through the library (store, then the indexing step) leaves the keyword engine ready, and hybrid
    search ranks by it."""
    lib = Library(db_config, embedder=demo_embedder())
    try:
        lib.init()
        lib.ingest(demo_papers()[:30], progress=False)
        engine = lib.search.keywords
        assert engine.name == ("tantivy" if lib.store.backend == "sqlite" else "tsvector")
        if isinstance(engine, TantivyKeywords):
            assert engine.ready and engine.check().ok
        target = demo_papers()[7]
        page = lib.search.query(target.title, mode="keyword")
        assert page.results[0].paper.id == target.id and page.results[0].keyword_rank == 1
        later = dataclasses.replace(demo_papers()[40], added_at=DEMO_DAYS[2])
        lib.ingest([later], progress=False)  # the next import's indexing step adds it
        assert lib.search.query(later.title, mode="keyword").results[0].paper.id == later.id
    finally:
        lib.close()
