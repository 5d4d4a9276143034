"""Tests of the embedding-tier benchmark (``python -m bench.tiers``): its scoring functions, the judged queries of the
demo corpus, and a tiny run on each backend.

The tiny run only checks that every number is there, never its value (timings depend on the machine). It is slow:
it loads both models and builds the static one under bench/data/ (~22 s) if it is not there yet.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from bench import tier_quality as tq
from bench.corpus import load_demo

ROOT = Path(__file__).resolve().parents[1]


def test_ndcg_and_recall_of_a_ranking() -> None:
    assert tq.ndcg_recall([3, 1, 2], [3]) == (1.0, 1.0)
    ndcg, recall = tq.ndcg_recall([9, 3, 8], [3, 4])
    assert recall == 0.5
    assert ndcg == pytest.approx((1 / np.log2(3)) / (1 + 1 / np.log2(3)))
    assert tq.ndcg_recall(list(range(20, 40)), [1, 2]) == (0.0, 0.0)


def test_neighbour_overlap_is_one_for_the_same_vectors_and_lower_for_others() -> None:
    rng = np.random.default_rng(0)
    a = rng.standard_normal((40, 8)).astype(np.float32)
    a /= np.linalg.norm(a, axis=1, keepdims=True)
    b = rng.standard_normal((40, 8)).astype(np.float32)
    b /= np.linalg.norm(b, axis=1, keepdims=True)
    assert tq.neighbour_overlap(a, a) == 1.0
    assert tq.neighbour_overlap(a, b) < 0.6
    assert all(i not in row for i, row in enumerate(tq.knn(a).tolist()))  # a paper is never its own neighbour


def test_every_judged_query_names_demo_papers() -> None:
    judged = tq.load_relevance(load_demo(embed=False))
    assert 30 <= len(judged) <= 45
    assert {j.kind for j in judged} == set(tq.KINDS)
    assert all(1 <= len(j.relevant) <= 5 for j in judged)
    assert len({j.query for j in judged}) == len(judged)


def test_a_title_not_in_the_demo_is_reported_with_its_line(tmp_path: Path) -> None:
    path = tmp_path / "queries.jsonl"
    title = "Grokking at the Edge of Numerical Stability"
    good = json.dumps({"query": "grokking", "kind": "keywords", "relevant": [title]})
    bad = json.dumps({"query": "x", "kind": "keywords", "relevant": ["No Such Paper"]})
    path.write_text(good + "\n" + bad + "\n")
    with pytest.raises(ValueError, match=r"queries.jsonl:2: no demo paper has the title 'No Such Paper'"):
        tq.load_relevance(load_demo(embed=False), path)
    path.write_text(json.dumps({"query": "x", "kind": "title", "relevant": []}) + "\n")
    with pytest.raises(ValueError, match=r":1: kind 'title' is not one of"):
        tq.load_relevance(load_demo(embed=False), path)


@pytest.mark.slow
def test_tiny_tiers_run_reports_every_number(tmp_path: Path) -> None:
    """One run on both backends side by side, as `make bench` runs it: the models load and the static one is built
    once (two runs, one a backend, cost twice the time for nothing more)."""
    out = tmp_path / "tiers.json"
    command = [sys.executable, "-m", "bench.tiers", "--sizes", "300", "--backends", "sqlite,postgres", "--queries", "5",
               "--warmup", "1", "--repeats", "1", "--throughput-texts", "16", "--efs", "400",
               "--builds", "default,8:40", "--out", str(out), "--workdir", str(tmp_path / "work")]  # fmt: skip
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=600)  # ~130 s at load 4
    assert done.returncode == 0, done.stdout + done.stderr

    results = json.loads(out.read_text())
    assert len(results["machine"]["load_average_end"]) == 3
    for name in ("minilm-fp32", "static"):
        assert results["throughput"][name]["per_s"] > 0, name
        assert 0 < results["quality"]["overlap_vs_minilm_fp32"][name] <= 1, name
        assert 0 <= results["quality"]["vector"][name]["all"]["ndcg@10"] <= 1, name
    assert results["quality"]["overlap_vs_minilm_fp32"]["minilm-fp32"] == 1.0
    for scores in results["quality"]["library"].values():
        assert {"hybrid", "keyword"} <= set(scores)
    assert sorted(run["backend"] for run in results["recall"]) == ["postgres", "sqlite"]
    for run in results["recall"]:
        assert (run["size"], run["papers"], run["dim"]) == (300, 300, 256)
        assert [(b["m"], b["ef_construction"]) for b in run["builds"]][1] == (8, 40)
        for profile in (run["neighbour_profile"], run["search_profile"]):
            assert 1 >= profile["sim@1"] >= profile["sim@10"] >= profile["sim@50"] > 0
        for graph in run["builds"]:
            assert set(graph["efs"]) == {str(graph["default_ef"]), "400"}
            for r in graph["efs"].values():
                assert 0 <= r["recall_similar"] <= 1 and 0 <= r["recall_search"] <= 1
                for phase in ("similar_ms", "vector_ms", "hybrid_ms"):
                    assert r[phase]["p50"] > 0, phase
        assert f"| {run['backend']} | 300 |" in done.stdout  # the printed tables
    assert "### recall" in done.stdout
