"""Reciprocal rank fusion and highlighting: pure functions, checked on small hand-made cases."""

import pytest

from dailypapers.search.fusion import reciprocal_rank_fusion
from dailypapers.search.highlight import highlight


def test_agreement_beats_a_single_first_place() -> None:
    fused = reciprocal_rank_fusion([["a", "b", "c"], ["b", "c", "a"]], k=60)
    assert [key for key, _ in fused] == ["b", "a", "c"]
    assert fused[0][1] == pytest.approx(1 / 62 + 1 / 61)


def test_papers_in_one_list_only_are_kept_and_ties_are_deterministic() -> None:
    fused = reciprocal_rank_fusion([["x"], ["y"]], k=10)
    assert [key for key, _ in fused] == ["x", "y"]


def test_weights_shift_the_balance() -> None:
    fused = reciprocal_rank_fusion([["a", "b"], ["b", "a"]], weights=[3.0, 1.0])
    assert fused[0][0] == "a"
    with pytest.raises(ValueError):
        reciprocal_rank_fusion([["a"]], weights=[1.0, 2.0])


def test_empty_rankings() -> None:
    assert reciprocal_rank_fusion([[], []]) == []


def test_highlight_marks_stemmed_matches_and_escapes() -> None:
    html = str(highlight("Regularization <b>helps</b> regularize models", ["regularizing", "model"]))
    assert html.count("<mark>") == 3
    assert "&lt;b&gt;" in html and "<b>" not in html
    assert "<mark>models</mark>" in html


def test_highlight_without_terms_only_escapes() -> None:
    assert str(highlight("a < b", [])) == "a &lt; b"
