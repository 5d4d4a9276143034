"""A long text's keyword search on both backends: its distinctive words are found wherever they stand in the text,
counted in one batch, whatever characters the text holds."""

from __future__ import annotations

from datetime import date

import pytest

from dailypapers.papers.models import Paper, make_paper
from dailypapers.papers.store import Store
from dailypapers.papers.store.terms import MAX_TERMS, query_terms

GENERIC = (
    "model data method results experiments performance accuracy training learning network neural deep approach"
    " framework dataset benchmark baseline evaluation analysis algorithm loss function parameters layers"
    " optimization gradient representation features tasks samples inference architecture efficient robust"
    " scalable empirical theoretical improve classification regression"
).split()
TARGET = "Grokking in lazy networks"


def _papers() -> list[Paper]:
    """Eight papers made of common words, and one about grokking that shares only two of them."""
    papers = [
        make_paper(
            title=f"A study of {GENERIC[i]} and {GENERIC[i + 1]}",
            abstract=" ".join(GENERIC[(i * 5 + k) % len(GENERIC)] for k in range(25)) + f" topic{i}.",
            source="jsonl",
            added_at=date(2026, 1, 5),
        )
        for i in range(8)
    ]
    abstract = "Grokking appears when lazy training dynamics turn rich, long after the model fits its data."
    return [*papers, make_paper(title=TARGET, abstract=abstract, source="jsonl", added_at=date(2026, 1, 5))]


@pytest.fixture
def corpus(store: Store) -> Store:
    store.upsert_papers(_papers())
    return store


def _titles(store: Store, query: str) -> list[str]:
    hits = store.keyword_search(query, 20)
    by_pk = {p.pk: p.title for p in store.get_papers_by_pk([h.pk for h in hits])}
    return [by_pk[h.pk] for h in hits]


def test_the_distinctive_words_of_a_long_text_are_searched_wherever_they_stand(corpus: Store) -> None:
    # Forty common words first (all that the first 32 terms would have kept), the subject at the very end, and
    # characters that are syntax to FTS5 or tsquery in between: they are data, counted and matched as words.
    text = " ".join(GENERIC) + ' "quoted" NEAR(a b) AND * o\'neil don - grokking, lazy and rich.'
    assert "grokking" not in query_terms(text)[:MAX_TERMS]
    titles = _titles(corpus, text)
    assert titles[0] == TARGET
    hit_terms = corpus.keyword_search(text, 1)[0].extra["terms"]
    assert isinstance(hit_terms, tuple) and {"grokking", "lazy", "rich"} <= set(hit_terms)
    assert len(hit_terms) <= MAX_TERMS


def test_a_long_text_of_common_words_finds_the_papers_made_of_them(corpus: Store) -> None:
    titles = _titles(corpus, " ".join(GENERIC * 2))
    assert len(titles) >= 8 and titles[0] != TARGET
    assert _titles(corpus, "grokking") == [TARGET]  # a short query is unchanged: all its words
