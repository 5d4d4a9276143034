"""A paper an admin hid is left out by the queries that read papers, on both backends: the store's lookups, keyword
candidates, ``filter_pks``, the vector index's candidates (unfiltered and filtered) and so search, similar papers and
the pinned exact match; an explicit ``include_hidden=True`` still finds it, and unhiding brings it all back."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import pytest

from dailypapers.config import Config
from dailypapers.library import Library
from dailypapers.papers.models import Filters, Paper, make_paper
from tests.demo import demo_embedder

DAY = date(2026, 11, 30)
HIDDEN = "2611.00003"


def paper(n: int) -> Paper:
    return make_paper(
        title=f"Sparse attention for long documents, variant {n}",
        abstract=f"We study sparse attention patterns for long documents; variant {n} changes the window.",
        arxiv_id=f"2611.{n:05d}",
        source="jsonl",
        added_at=DAY,
    )


@pytest.fixture
def lib(db_config: Config) -> Iterator[Library]:
    library = Library(db_config, embedder=demo_embedder())
    library.init()
    library.ingest([paper(n) for n in range(1, 9)], progress=False)  # stored, embedded and indexed
    yield library
    library.close()


def test_a_hidden_paper_is_left_out_by_every_read_and_back_when_unhidden(lib: Library) -> None:
    store, search = lib.store, lib.search
    target = store.get_paper(HIDDEN)
    assert target is not None and target.pk is not None
    pk, other = target.pk, store.get_paper("2611.00001")
    assert other is not None and other.pk is not None
    query = search.embed_query(target.title)
    assert search.vectors.search(query, 8)[0].pk == pk  # found before it is hidden
    assert search.query(HIDDEN).results[0].pinned

    lib.papers.hide(HIDDEN, None, "spam")
    assert store.get_paper(HIDDEN) is None and store.find_by_title(target.title) is None
    assert store.get_paper(HIDDEN, include_hidden=True) == target
    assert store.find_by_title(target.title, include_hidden=True) == target
    assert store.get_papers_by_pk([pk, other.pk]) == [other]
    assert [p.pk for p in store.get_papers_by_pk([pk, other.pk], include_hidden=True)] == [pk, other.pk]
    assert pk not in {h.pk for h in store.keyword_search("sparse attention variant 3", 50)}
    assert pk not in store.filter_pks(Filters()) and store.filter_pks(Filters(), among=[pk, other.pk]) == {other.pk}
    for filters in (Filters(), Filters(added_since=DAY)):  # the index's unfiltered and filtered paths
        hits = search.vectors.search(query, 7, filters)
        assert pk not in {h.pk for h in hits} and len(hits) == 7  # filled from the next nearest
    assert all(p.id != HIDDEN for p, _ in search.similar(other, k=8))
    assert len(search.similar(other, k=8)) == 6  # seven others, less the hidden one
    for text in (HIDDEN, target.title):  # named exactly: not pinned, not listed
        page = search.query(text)
        assert page.results and all(r.paper.id != HIDDEN and not r.pinned for r in page.results)
        assert page.total == 7

    lib.papers.unhide(HIDDEN)
    assert store.get_paper(HIDDEN) == target and search.vectors.search(query, 8)[0].pk == pk
    assert search.query(HIDDEN).results[0].paper.id == HIDDEN
