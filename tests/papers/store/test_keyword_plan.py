"""Keyword query planning (which words a search scores, AND or OR, over which rows), unit and on both backends."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from dailypapers.papers.models import Paper
from dailypapers.papers.store import Filters, Store
from dailypapers.papers.store.keyword_plan import DocumentFrequencies, KeywordPlan, plan_keyword_query
from tests.papers.store.test_store_contract import arxiv_paper

DF = {"dropout": 3, "accelerated": 5, "training": 900, "better": 400, "network": 5000}


def plan(terms: list[str], budget: int, newest: int | None = 10_000) -> KeywordPlan:
    return plan_keyword_query(terms, lambda t: min(DF.get(t, 0), budget + 1), budget, lambda: newest)


def test_small_corpora_keep_every_term() -> None:
    assert plan(["dropout", "training", "better"], budget=10_000) == KeywordPlan(("dropout", "training", "better"))


def test_common_terms_are_dropped_rarest_first_within_the_budget() -> None:
    got = plan(["training", "dropout", "better", "accelerated"], budget=500)
    assert got == KeywordPlan(("dropout", "better", "accelerated"), dropped=("training",))
    assert plan(["training", "dropout"], budget=5).terms == ("dropout",)
    assert plan(["unseen", "network"], budget=100).terms == ("unseen",)  # a word in no paper costs nothing


def test_common_words_only_become_an_and_over_the_newest_rows() -> None:
    got = plan(["network", "training"], budget=100)
    assert got == KeywordPlan(("network", "training"), conjunctive=True, min_pk=10_000 - 199, max_pk=10_000)
    assert plan(["network"], budget=100, newest=None) == KeywordPlan(("network",), conjunctive=True)
    assert plan([], budget=100) == KeywordPlan(())


def test_document_frequencies_are_counted_once_per_term_and_cap() -> None:
    calls: list[tuple[str, int]] = []

    def count(term: str, cap: int) -> int:
        calls.append((term, cap))
        return min(len(term), cap)

    dfs = DocumentFrequencies(count, size=2)
    assert [dfs.get("network", 100), dfs.get("network", 100), dfs.get("network", 3)] == [7, 7, 3]
    assert calls == [("network", 100), ("network", 3)]
    dfs.get("graph", 100)  # a full cache starts over
    dfs.get("network", 100)
    assert calls[-1] == ("network", 100)
    expired = DocumentFrequencies(count, ttl=0.0)
    expired.get("a", 5)
    expired.get("a", 5)
    assert calls[-2:] == [("a", 5), ("a", 5)]


START = date(2026, 3, 1)


def _papers() -> list[Paper]:
    """12 papers about networks (one a day), three of which also mention quokkas; four also mention graphs."""
    papers = []
    for i in range(12):
        extra = " quokka" if i in (1, 6, 10) else ""
        extra += " graph" if i % 3 == 0 else ""
        papers.append(
            arxiv_paper(
                title=f"Network study {i}",
                abstract=f"A network{extra} paper number {i}.",
                arxiv_id=f"2603.{i:05d}",
                added_at=START + timedelta(days=i),
            )
        )
    return papers


@pytest.fixture
def small_budget(store: Store) -> Store:
    store.upsert_papers(_papers())
    store.keyword_budget = 3
    return store


def _ids(store: Store, query: str, filters: Filters = Filters()) -> set[str]:
    return {p.id for p in store.get_papers_by_pk([h.pk for h in store.keyword_search(query, 20, filters)])}


def test_a_rare_word_is_searched_without_the_common_ones(small_budget: Store) -> None:
    assert _ids(small_budget, "quokka network") == {"2603.00001", "2603.00006", "2603.00010"}
    small_budget.keyword_budget = 1000  # budget large enough: the plain OR of both words
    assert len(_ids(small_budget, "quokka network")) == 12


def test_common_words_only_match_all_of_them_among_the_newest_papers(small_budget: Store) -> None:
    newest = _ids(small_budget, "network")
    assert newest == {f"2603.{i:05d}" for i in range(6, 12)}  # the newest 2 x budget papers
    assert _ids(small_budget, "network graph") == {"2603.00006", "2603.00009"}  # AND, within those six
    until = Filters(until=START + timedelta(days=4))  # the window ends at the newest paper the dates allow
    assert _ids(small_budget, "network", until) == {f"2603.{i:05d}" for i in range(5)}
    assert _ids(small_budget, "network", Filters(until=START - timedelta(days=1))) == set()
