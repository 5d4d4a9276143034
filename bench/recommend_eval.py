"""How the recommender was chosen: simulated users on the demo corpus, ``python -m bench.recommend_eval``.

Each query of ``bench/relevance/queries.jsonl`` with at least :data:`MIN_RELEVANT` judged papers
(``judgments.tsv``, grades 1-2) is a user interested in that topic: they upvote half of its relevant papers (five
random splits per user) and every other paper of the 298 is ranked for them. Reported: nDCG@10 (gain 2^grade - 1),
recall@20 and MRR of the held-out half, for the ``topic`` queries (the 14 with two or more relevant papers) and for
all queries with four or more. Methods: the centroid, kNN-max, their blends, the mean of the 3 nearest positives,
and arxiv-sanity's per-request LinearSVC (C=0.01, balanced classes, over the whole corpus; scikit-learn, here only).

"Not for me": for each topic user, the other topic whose relevant papers rank highest in their list is the
confusable one; the user marks half of it "not for me", and we report how many of its other half stay in the top
20 and what the user's own nDCG@10 becomes, for a few weights of the nearest negative (BETA).

Labels: over every held-out ranking of the chosen method, the score from which at least half (``must read``) or a
quarter (``related``) of the papers above it are relevant (unjudged papers count as not relevant, so the true
precision is higher). Results: ``bench/results/recommend_eval.json``. Runs in about a minute (MiniLM vectors of
the demo cached in bench/data/).
"""

from __future__ import annotations

import json
import math
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from bench.corpus import load_demo
from dailypapers.search.recommend import ALPHA, blend_scores, centred

ROOT = Path(__file__).resolve().parents[1]
RELEVANCE = ROOT / "bench" / "relevance"
OUT = ROOT / "bench" / "results" / "recommend_eval.json"
MIN_RELEVANT = 4
SPLITS = 5
Scorer = Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray]


def users(titles: list[str]) -> tuple[dict[str, dict[int, int]], set[str]]:
    """Query id → {paper index: grade}, and the ids of the topic queries."""
    index = {t: i for i, t in enumerate(titles)}
    judged: dict[str, dict[int, int]] = defaultdict(dict)
    for line in (RELEVANCE / "judgments.tsv").read_text().splitlines()[1:]:
        qid, title, grade = line.split("\t")
        if title in index and int(grade) > 0:
            judged[qid][index[title]] = int(grade)
    kinds = {q["id"]: q["kind"] for q in map(json.loads, (RELEVANCE / "queries.jsonl").read_text().splitlines())}
    return dict(judged), {q for q, k in kinds.items() if k == "topic"}


def svm_scores(x: np.ndarray, pos_idx: np.ndarray) -> np.ndarray:
    """arxiv-sanity-lite's ranking: a LinearSVC of the user's papers against all others, trained per request."""
    from sklearn.svm import LinearSVC

    y = np.zeros(x.shape[0], dtype=np.int64)
    y[pos_idx] = 1
    clf = LinearSVC(class_weight="balanced", max_iter=10000, tol=1e-6, C=0.01)
    clf.fit(x, y)
    return np.asarray(clf.decision_function(x), dtype=np.float64)


def methods() -> dict[str, Scorer]:
    def blend(alpha: float, centre: bool = True) -> Scorer:
        def score(x: np.ndarray, p: np.ndarray, n: np.ndarray) -> np.ndarray:
            mu = x.mean(axis=0) if centre else None
            return blend_scores(centred(x, mu), p, n, centre=mu, alpha=alpha, beta=0.0)[0]

        return score

    def top3(x: np.ndarray, p: np.ndarray, n: np.ndarray) -> np.ndarray:
        sims = np.sort(x @ p.T, axis=1)[:, ::-1][:, :3]
        return np.asarray(sims.mean(axis=1))

    found: dict[str, Scorer] = {"raw_centroid": blend(1.0, False), "raw_knn_max": blend(0.0, False)}
    found |= {"raw_blend_0.5": blend(0.5, False), "raw_knn_mean3": top3}
    found |= {"centroid": blend(1.0), "knn_max": blend(0.0)}  # centred: the corpus mean taken out
    for a in (0.25, 0.5, 0.75):
        found[f"blend_{a}"] = blend(a)
    return found


def metrics(scores: np.ndarray, held: dict[int, int], excluded: set[int]) -> dict[str, float]:
    order = [int(i) for i in np.argsort(-scores, kind="stable") if int(i) not in excluded]
    gains = [(2 ** held.get(i, 0) - 1) for i in order[:10]]
    dcg = sum(g / math.log2(r + 2) for r, g in enumerate(gains))
    ideal = sorted((2**g - 1 for g in held.values()), reverse=True)[:10]
    idcg = sum(g / math.log2(r + 2) for r, g in enumerate(ideal))
    first = next((r for r, i in enumerate(order) if i in held), None)
    return {
        "ndcg@10": dcg / idcg if idcg else 0.0,
        "recall@20": sum(1 for i in order[:20] if i in held) / len(held),
        "mrr": 1.0 / (first + 1) if first is not None else 0.0,
    }


def splits(rel: dict[int, int], seed: int) -> tuple[np.ndarray, dict[int, int]]:
    keys = sorted(rel)
    rng = np.random.default_rng(seed)
    rng.shuffle(keys)
    half = max(1, len(keys) // 2)
    return np.asarray(keys[:half]), {k: rel[k] for k in keys[half:]}


def evaluate(x: np.ndarray, judged: dict[str, dict[int, int]], chosen: list[str]) -> dict[str, Any]:
    empty = np.zeros((0, x.shape[1]), np.float32)
    found: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    timing: dict[str, float] = defaultdict(float)
    for qid in chosen:
        for s in range(SPLITS):
            pos, held = splits(judged[qid], s)
            if not held:
                continue
            for name, fn in [*methods().items(), ("svm", None)]:
                t0 = time.perf_counter()
                scores = svm_scores(x, pos) if fn is None else fn(x, x[pos], empty)
                timing[name] += time.perf_counter() - t0
                for k, v in metrics(scores, held, set(pos.tolist())).items():
                    found[name][k].append(v)
    return {
        name: {k: round(float(np.mean(v)), 4) for k, v in ms.items()} | {"runs": len(ms["mrr"])}
        for name, ms in found.items()
    } | {"_seconds": {k: round(v, 3) for k, v in timing.items()}}


def not_for_me(raw: np.ndarray, judged: dict[str, dict[int, int]], topics: list[str]) -> dict[str, Any]:
    """Mark half of the most confusable other topic "not for me"; where does its other half go?"""
    x = raw
    out: dict[str, list[float]] = defaultdict(list)
    mu = x.mean(axis=0)
    x = centred(x, mu)
    for qid in topics:
        pos, held = splits(judged[qid], 0)
        base, _ = blend_scores(x, raw[pos], np.zeros((0, x.shape[1]), np.float32), centre=mu, beta=0.0)
        ranks = {i: r for r, i in enumerate(np.argsort(-base))}
        others = [o for o in topics if o != qid and len(set(judged[o]) - set(judged[qid])) >= 2]
        other = min(others, key=lambda o: np.mean([ranks[i] for i in judged[o] if i not in judged[qid]]))
        theirs = sorted(set(judged[other]) - set(judged[qid]))
        refused, rest = theirs[: max(1, len(theirs) // 2)], set(theirs[max(1, len(theirs) // 2) :])
        excluded = set(pos.tolist()) | set(refused)
        for beta in (0.0, 0.25, 0.5, 0.75, 1.0):
            s, _ = blend_scores(x, raw[pos], raw[refused], centre=mu, beta=beta)
            order = [int(i) for i in np.argsort(-s) if int(i) not in excluded]
            out[f"beta_{beta}:refused_topic_in_top20"].append(sum(1 for i in order[:20] if i in rest) / len(rest))
            out[f"beta_{beta}:own_ndcg@10"].append(metrics(s, held, excluded)["ndcg@10"])
    return {k: round(float(np.mean(v)), 4) for k, v in sorted(out.items())}


def calibrate(x: np.ndarray, judged: dict[str, dict[int, int]], chosen: list[str]) -> dict[str, Any]:
    """Score thresholds from which half / a quarter of the papers above are relevant (pooled over users)."""
    pooled: list[tuple[float, int]] = []
    empty = np.zeros((0, x.shape[1]), np.float32)
    mu = x.mean(axis=0)
    xc = centred(x, mu)
    for qid in chosen:
        for s in range(SPLITS):
            pos, held = splits(judged[qid], s)
            scores, _ = blend_scores(xc, x[pos], empty, centre=mu, alpha=ALPHA)
            pooled += [(float(scores[i]), int(i in held)) for i in range(len(x)) if i not in set(pos.tolist())]
    pooled.sort(reverse=True)
    hits = np.cumsum([r for _, r in pooled])
    precision = hits / np.arange(1, len(pooled) + 1)

    def lowest(p: float) -> float:
        ok = [pooled[i][0] for i in range(len(pooled)) if precision[i] >= p and i >= 4]
        return round(min(ok), 3) if ok else 1.0

    return {"must_read_precision_0.5": lowest(0.5), "related_precision_0.25": lowest(0.25), "pooled": len(pooled)}


def main() -> None:
    started = time.perf_counter()
    demo = load_demo()
    x = demo.vectors / np.linalg.norm(demo.vectors, axis=1, keepdims=True)
    judged, topic_ids = users(demo.titles)
    topics = sorted(q for q in topic_ids if len(judged.get(q, {})) >= 2)
    wide = sorted(q for q, r in judged.items() if len(r) >= MIN_RELEVANT)
    result = {
        "corpus": {"papers": len(x), "model": "all-MiniLM-L6-v2"},
        "users": {"topic": len(topics), "all_with_4_relevant": len(wide), "splits": SPLITS},
        "topic_users": evaluate(x, judged, topics),
        "all_users": evaluate(x, judged, wide),
        "not_for_me": not_for_me(x, judged, topics),
        "labels": calibrate(x, judged, wide),
    }
    result["seconds"] = round(time.perf_counter() - started, 1)
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
