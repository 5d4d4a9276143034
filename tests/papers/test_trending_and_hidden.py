"""The trending order as the database computes it, and hidden papers, through the papers service on both backends.

The SQL order is held to the formula's definition in Python (:func:`dailypapers.papers.trending.trending`) on a
random library, and to the two properties the issue names: at equal votes the newer paper ranks higher, at equal
age the one with more votes does.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

import pytest

from dailypapers.config import Config
from dailypapers.errors import BadInput, NotFound
from dailypapers.library import Library
from dailypapers.papers.models import Paper, make_paper
from dailypapers.papers.periods import Period
from dailypapers.papers.trending import trending
from tests.demo import demo_embedder

TODAY = date(2026, 11, 30)
NOW = datetime(2026, 11, 30, 15, 0, tzinfo=UTC)
MONTH = Period("range", TODAY - timedelta(days=29), TODAY)


def paper(n: int, day: date, upvotes: int) -> Paper:
    return make_paper(
        title=f"Paper number {n} on topic {n % 7}",
        abstract=f"An abstract about topic {n % 7} and subject {n}.",
        arxiv_id=f"2611.{n:05d}",
        source="jsonl",
        upvotes=upvotes,
        added_at=day,
    )


@pytest.fixture
def lib(db_config: Config) -> Iterator[Library]:
    library = Library(db_config, embedder=demo_embedder())
    yield library
    library.close()


def ids(papers: list[Paper]) -> list[str]:
    return [p.id for p in papers]


def test_newer_ranks_higher_at_equal_votes_and_more_votes_at_equal_age(lib: Library) -> None:
    lib.papers.store.upsert_papers(
        [paper(1, TODAY - timedelta(days=3), 10), paper(2, TODAY, 10), paper(3, TODAY, 11), paper(4, TODAY, 0)]
    )
    order = ids(lib.papers.in_period(MONTH, sort="trending", now=NOW))
    assert order.index("2611.00002") < order.index("2611.00001")  # same votes, newer first
    assert order.index("2611.00003") < order.index("2611.00002")  # same day, more votes first
    assert order[-1] in {"2611.00004", "2611.00001"}
    assert order == ids(trending(lib.papers.in_period(MONTH), NOW))


def test_the_databases_order_is_the_formulas_on_a_random_library(lib: Library) -> None:
    rng = random.Random(7)
    papers = [
        paper(n, TODAY - timedelta(days=rng.randrange(30)), rng.choice([0, 0, 1, 2, 5, 40, 300])) for n in range(150)
    ]
    lib.papers.store.upsert_papers(papers)
    for voter in ("a", "b", "c"):  # community votes count like imported ones
        lib.votes.cast("2611.00010", voter, True)
    ranked = lib.papers.in_period(MONTH, sort="trending", now=NOW)
    assert ids(ranked) == ids(trending(lib.papers.in_period(MONTH), NOW))
    pages = [lib.papers.in_period(MONTH, sort="trending", now=NOW, limit=40, offset=o) for o in range(0, 150, 40)]
    assert ids([p for page in pages for p in page]) == ids(ranked)  # paging is stable


def test_a_period_with_no_papers_and_an_empty_library(lib: Library) -> None:
    assert lib.papers.in_period(MONTH, sort="trending", now=NOW) == []
    lib.papers.store.upsert_papers([paper(1, TODAY, 3)])
    old = Period("range", date(2020, 1, 1), date(2020, 1, 31))
    assert lib.papers.in_period(old, sort="trending", now=NOW) == []


def test_a_hidden_paper_is_on_no_list_search_or_lookup_until_unhidden(lib: Library) -> None:
    lib.ingest([paper(n, TODAY, n) for n in range(1, 6)], progress=False)
    assert lib.papers.count_in(MONTH) == 5
    gone = lib.papers.hide("2611.00003", None, "spam <script>")
    assert gone.id == "2611.00003"
    assert "2611.00003" not in ids(lib.papers.in_period(MONTH))
    assert "2611.00003" not in ids(lib.papers.in_period(MONTH, sort="trending", now=NOW))
    assert lib.papers.count_in(MONTH) == 4
    assert lib.papers.get("2611.00003") is None
    assert lib.papers.get("2611.00003", include_hidden=True) is not None
    found = lib.search.query("Paper number 3 on topic 3", page_size=10).results
    assert "2611.00003" not in [r.paper.id for r in found] and found
    listed = lib.papers.hidden_list()
    assert [(h.paper_id, h.reason) for h in listed] == [("2611.00003", "spam <script>")]
    lib.papers.hide("2611.00003", None, "again")  # hiding twice keeps the first record
    assert [h.reason for h in lib.papers.hidden_list()] == ["spam <script>"]
    lib.papers.unhide("2611.00003")
    assert lib.papers.count_in(MONTH) == 5 and lib.papers.get("2611.00003") is not None
    with pytest.raises(BadInput, match="is not hidden"):
        lib.papers.unhide("2611.00003")
    with pytest.raises(NotFound):
        lib.papers.hide("2611.99999", None)
    with pytest.raises(BadInput, match="at most 500 characters; this one has 501"):
        lib.papers.hide("2611.00001", None, "x" * 501)
    assert lib.papers.get("2611.00001") is not None
