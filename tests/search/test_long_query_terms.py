"""Choosing the keyword terms of a long text (tf-idf, "more like this") and weighing the fusion by query kind:
pure functions, checked on known text."""

from __future__ import annotations

import pytest

from dailypapers.papers.store.keyword_plan import DocumentFrequencies, keyword_terms
from dailypapers.papers.store.terms import MAX_TERMS, distinctive_terms, idf, is_long, query_terms, term_counts
from dailypapers.search.fusion import KEYWORD_WEIGHTS, LONG_TEXT_WEIGHTS, fusion_weights, reciprocal_rank_fusion

# A pasted abstract: its subject ("grokking", "lazy", "rich") is not in its first words.
ABSTRACT = (
    "In this paper we study a simple setting. We propose that the phenomenon of grokking, where the test loss of a"
    " neural network decreases much later than its training loss, arises from a transition from lazy training"
    " dynamics to a rich feature learning regime. Grokking happens without regularization; lazy networks do not"
    " grok, rich ones do. However, the network sometimes needs 4 times more steps."
)
# Document frequencies in a corpus of 1,000 papers: "network" and "training" are everywhere, "grokking" is rare.
DF = {"grokking": 3, "lazy": 12, "rich": 40, "regime": 60, "network": 700, "training": 650, "loss": 500, "paper": 990}
N = 1000


def test_term_counts_merge_word_forms_and_skip_function_words_and_numbers() -> None:
    counts = term_counts(ABSTRACT)
    assert counts["grokking"] == 2  # "grokking" twice ("grok" stems apart: Snowball keeps it a word of its own)
    assert counts["network"] == 3  # "network", "networks", "network": one term under its most frequent form
    assert counts["rich"] == 2 and counts["lazy"] == 2
    assert "however" not in counts and "sometimes" not in counts  # function words say nothing of the subject
    assert "4" not in counts and "a" not in counts
    assert list(counts)[:3] == ["paper", "study", "simple"]  # order of first appearance


def test_distinctive_terms_rank_by_tf_idf_not_by_position() -> None:
    counts = term_counts(ABSTRACT)
    # tf x idf: grokking 2 x 6.5, lazy 2 x 5.3, rich 2 x 4.2, network 3 x 1.4 (common, but said three times),
    # regime 1 x 3.8, loss 2 x 1.7, training 2 x 1.4, paper 1 x 1.0; words without a count in DF match nothing.
    everything = ["grokking", "lazy", "rich", "network", "regime", "loss", "training", "paper"]
    assert distinctive_terms(counts, DF, N, max_share=1.0) == everything
    assert distinctive_terms(counts, DF, N, limit=3) == ["grokking", "lazy", "rich"]
    # Words in more than a fifth of the papers are left out (they would decide a ts_rank, which has no idf) ...
    assert distinctive_terms(counts, DF, N) == ["grokking", "lazy", "rich", "regime"]
    # ... unless nothing else is left.
    assert distinctive_terms({"network": 2, "paper": 1}, DF, N) == ["network", "paper"]


def test_a_term_no_paper_contains_is_never_chosen_and_ties_keep_the_text_order() -> None:
    counts = {"alpha": 1, "beta": 1, "gamma": 1, "delta": 1}
    assert distinctive_terms(counts, {"alpha": 5, "beta": 5, "gamma": 0}, 100) == ["alpha", "beta"]
    assert distinctive_terms(counts, {}, 100) == []
    tf = distinctive_terms({"common": 9, "rare": 1}, {"common": 90, "rare": 1}, 100, max_share=1.0)
    assert tf == ["common", "rare"]  # said nine times, a common word outweighs a rare one said once


def test_idf_is_positive_and_falls_with_document_frequency() -> None:
    assert idf(1, 1000) > idf(10, 1000) > idf(1000, 1000) > 0
    assert idf(5, 0) > 0  # a corpus size not counted yet never makes a term worth less than nothing


def test_short_queries_keep_their_terms_and_long_ones_are_long() -> None:
    assert query_terms("Dropout, as regularization!") == ["dropout", "regularization"]
    assert not is_long("dropout regularization for neural networks")
    assert is_long(ABSTRACT) and len(query_terms(ABSTRACT)) == MAX_TERMS


def test_keyword_terms_count_only_for_long_text_and_cache_the_counts() -> None:
    calls: list[list[str]] = []

    def count_many(terms: list[str], cap: int) -> dict[str, int]:
        calls.append(list(terms))
        return {t: min(DF.get(t, 1), cap) for t in terms}

    dfs = DocumentFrequencies(lambda t, cap: count_many([t], cap)[t], count_many=count_many, total=lambda: N)
    assert keyword_terms("grokking lazy networks", dfs, 10_001) == ["grokking", "lazy", "networks"]
    assert calls == []  # a short query costs no count
    chosen = keyword_terms(ABSTRACT, dfs, 10_001)
    assert chosen[:3] == ["grokking", "lazy", "rich"] and len(chosen) <= MAX_TERMS
    assert len(calls) == 1 and set(calls[0]) == set(term_counts(ABSTRACT))  # one batch for every term
    assert keyword_terms(ABSTRACT, dfs, 10_001) == chosen and len(calls) == 1  # the second time from the cache
    assert dfs.get("grokking", 10_001) == 3 and len(calls) == 1  # the single-term lookup shares that cache


def test_fusion_weights_by_query_kind() -> None:
    assert fusion_weights(False) == KEYWORD_WEIGHTS and fusion_weights(True) == LONG_TEXT_WEIGHTS
    keyword, vector = ["k1", "both"], ["v1", "both"]
    for long_text in (False, True):
        wk, wv = fusion_weights(long_text)
        assert wk > 0 and wv > 0  # neither ranking is ever ignored
        fused = reciprocal_rank_fusion([keyword, vector], weights=[wk, wv])
        assert fused[0][0] == "both"  # agreement still wins
    short = dict(reciprocal_rank_fusion([keyword, vector], weights=list(fusion_weights(False))))
    assert short["k1"] >= short["v1"]  # a short query leans on its words at least as much as on its meaning
    assert short["k1"] == pytest.approx(KEYWORD_WEIGHTS[0] / 61)
