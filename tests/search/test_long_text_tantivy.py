"""Long text (a pasted abstract) as a keyword query: every distinctive term, weighted by how often the text uses
it, no term cap and no document-frequency cut on tantivy; URLs, ids, e-mail addresses and citations never steal
the query, on both backends."""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path

import pytest

from dailypapers.papers.store.base import Store
from dailypapers.papers.store.terms import MAX_TERMS, strip_references, term_counts
from dailypapers.search.keyword import KeywordEngine, open_keyword_engine
from dailypapers.search.keyword.long_text import index_tokens, tf_weight, weighted_terms
from dailypapers.search.keyword.tantivy_index import analyzer
from dailypapers.search.keyword.tantivy_search import TantivyKeywords
from tests.search.test_keyword_engine import demo_papers

CITATIONS = (  # references and function words only: nothing of a subject
    " As in Hinton et al. (2012) and (Vaswani et al., 2017; Kingma and Ba, 2015) [3, 7-9]:"
    " https://github.com/example/code, www.example.org/x, doi:10.1234/abc.5678, arXiv:2106.09685v2, cs/0112017,"
    " first.author@example.org."
)


@pytest.fixture
def engine(store: Store, tmp_path: Path) -> Iterator[KeywordEngine]:
    store.upsert_papers(demo_papers())
    found = open_keyword_engine(store, tmp_path / "keyword")
    found.update(progress=False)
    yield found


def test_references_are_taken_out_and_the_text_kept() -> None:
    text = "Sparse attention scales to long documents." + CITATIONS
    left = strip_references(text)
    for gone in ("Hinton", "Vaswani", "Kingma", "github", "example", "1234", "2106", "0112017", "[3"):
        assert gone not in left, gone
    assert left.startswith("Sparse attention scales to long documents.") and "As in" in left
    assert "hinton" not in term_counts(text) and "attention" in term_counts(text)


def test_the_index_tokens_are_the_analyzers() -> None:
    tantivy_analyzer = analyzer()
    for word in ("Generalization", "naïve", "trainings", "models", "diffusion", "LoRA", "model's"):
        expected = [t for t in tantivy_analyzer.analyze(word) if len(t) > 1]
        assert index_tokens(word) == expected, word


def test_every_distinctive_term_is_searched_weighted_by_its_count(store: Store, engine: KeywordEngine) -> None:
    if not isinstance(engine, TantivyKeywords):
        pytest.skip("PostgreSQL keeps its 32 tf-idf terms")
    abstract = max((p.abstract for p in demo_papers()), key=lambda a: len(term_counts(a)))
    searcher = engine._searcher()
    assert searcher is not None
    n = store.count_papers()
    weights, shown = weighted_terms(abstract, lambda t: searcher.doc_freq("abstract", t), n)
    assert len(weights) > MAX_TERMS and len(shown) == MAX_TERMS  # no cap; highlighting marks the 32 best
    common = [t for t in weights if searcher.doc_freq("abstract", t) > 0.2 * n]
    assert common  # subject words in over a fifth of the papers are kept (BM25's idf weighs them)
    counts = term_counts(abstract)
    word, count = max(counts.items(), key=lambda kv: kv[1])
    assert count > 1 and weights[index_tokens(word)[0]] >= tf_weight(count) == 1 + math.log(count)


def test_citations_and_ids_do_not_change_what_a_pasted_abstract_finds(store: Store, engine: KeywordEngine) -> None:
    for paper in demo_papers()[:40:8]:
        plain = [h.pk for h in engine.search(paper.abstract, 20)]
        cited = [h.pk for h in engine.search(paper.abstract + CITATIONS, 20)]
        assert plain and cited == plain, paper.title


def test_a_long_query_lists_the_terms_results_highlight(engine: KeywordEngine) -> None:
    abstract = demo_papers()[3].abstract + CITATIONS
    hits = engine.search(abstract, 5)
    terms = hits[0].extra["terms"]
    assert isinstance(terms, tuple) and 0 < len(terms) <= MAX_TERMS
    assert not {"hinton", "vaswani", "github"} & {str(t).lower() for t in terms}
