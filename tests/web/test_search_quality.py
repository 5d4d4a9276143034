"""The search-quality harness (``bench/search_quality.py``) as a smoke test: one query of each kind through the
real search of the demo library, on both backends. It checks that everything is computed, never what score."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench.search_quality import (
    MODES,
    PASTED_MODES,
    evaluate,
    first_per_kind,
    load_set,
    ndcg,
    recall,
    reciprocal_rank,
    save,
    summarize,
    table,
)
from dailypapers.library import Library


def test_the_relevance_set_loads_and_every_judgment_names_a_demo_paper() -> None:
    queries = load_set()
    kinds = {q.kind for q in queries}
    assert {"sentence", "title", "keywords3", "topic", "pasted", "page", "written", "demo-keywords"} <= kinds
    assert all(q.text and q.grades for q in queries)  # load_set refuses a title that is not in the corpus
    pasted = [q for q in queries if q.kind == "pasted"]
    assert all(q.source and q.source not in q.grades for q in pasted)  # the pasted paper itself is never judged


def test_the_metrics_on_hand_made_rankings() -> None:
    grades = {"a": 2, "b": 1}
    assert ndcg(["a", "b", "x"], grades) == pytest.approx(1.0)
    assert ndcg(["x", "a"], grades) == pytest.approx((3 / 1.5849625) / (3 + 1 / 1.5849625))
    assert recall(["x", "b"], grades) == 0.5 and reciprocal_rank(["x", "y", "b"], grades) == pytest.approx(1 / 3)
    assert ndcg([], grades) == recall([], grades) == reciprocal_rank([], grades) == 0.0


def test_the_harness_runs_a_few_queries(library: Library, tmp_path: Path) -> None:
    queries = first_per_kind(load_set(), 1)
    rows = evaluate(library, queries)
    summary = summarize(rows)
    assert set(summary) == {*MODES, *PASTED_MODES}
    for mode in MODES:
        assert set(summary[mode]) == {q.kind for q in queries} | {"all"}
        assert all(0.0 <= s[m] <= 1.0 for s in summary[mode].values() for m in ("ndcg10", "recall20", "mrr"))
    assert set(summary["similar"]) == {"pasted", "all"}
    assert table(summary).count("\n") == len(summary["hybrid"]) + 1
    out = tmp_path / "quality.json"
    save(out, "smoke", {"summary": summary})
    save(out, "other", {"summary": {}})
    assert set(json.loads(out.read_text())["runs"]) == {"smoke", "other"}  # a run keeps the other labels
