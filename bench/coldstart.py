"""How many ratings "For you" needs to reach its full-history quality: the rating round's chooser against random picks,
on the recommender's own evaluation (``bench/recommend_eval.py``).

    python -m bench.coldstart [--ratings 40]

The simulated users are recommend_eval's: each query with at least four judged relevant papers is a reader
interested in it; for each of its five splits, the held-out half of its relevant papers is what "For you" must find
(nDCG@10, as in recommend_eval) and is never offered for rating. **Full history:** the reader upvoted the other half
(recommend_eval's setting; the score "For you" uses, ``blend_scores`` with its ALPHA). **Cold start:** the reader
answers rating questions one at a time, each paper chosen by :func:`dailypapers.topics.coldstart.choose` (topics:
k-means of the map, 12 on the demo), by it after the reader picked the one topic of the map that holds most of their
liked papers ("chooser+topic": what picking a topic on the map gives), or at random; a judged-relevant paper is
"more like this" (a positive), any other "not for me" (a negative, weight BETA as in "For you"). After each answer
the held-out half is ranked again. Reported: the mean nDCG@10 after k ratings, and the first k at which it reaches
90% and 100% of the full-history nDCG@10. Results: ``bench/results/coldstart.json``.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

import numpy as np

from bench.corpus import load_demo
from bench.recommend_eval import MIN_RELEVANT, SPLITS, metrics, splits, users
from dailypapers.search.recommend import ALPHA, BETA, blend_scores, centred
from dailypapers.topics import layout
from dailypapers.topics.coldstart import choose, typical_per_topic

OUT = Path(__file__).resolve().parent / "results" / "coldstart.json"


def _ndcg(xc: np.ndarray, raw: np.ndarray, mu: np.ndarray, pos: list[int], neg: list[int], held: dict[int, int],
          excluded: set[int]) -> float:  # fmt: skip
    scores, _ = blend_scores(xc, raw[pos], raw[neg], centre=mu, alpha=ALPHA, beta=BETA)
    return metrics(scores, held, excluded)["ndcg@10"]


def _curve(raw: np.ndarray, xc: np.ndarray, mu: np.ndarray, clusters: np.ndarray, relevant: set[int],
           held: dict[int, int], picker: str, budget: int, seed: int) -> list[float]:  # fmt: skip
    rng = np.random.default_rng(seed)
    pool = [i for i in range(len(raw)) if i not in held]
    order = rng.permutation(pool).tolist()
    typical = typical_per_topic(raw, clusters)
    rated: dict[int, bool] = {i: False for i in held}  # never offered: marked as "asked" for the chooser only
    answers: dict[int, bool] = {}
    curve = []
    for _ in range(budget):
        if picker == "random":
            row = next(i for i in order if i not in answers)
        else:
            # "chooser+topic": the reader first picks the map topic that holds most of their interest
            picked = [int(np.bincount(clusters[sorted(relevant - set(held))]).argmax())] if "topic" in picker else []
            row = choose(raw, clusters, {**rated, **answers}, 1, typical=typical, topics=picked)[0]
        answers[row] = row in relevant
        pos = [i for i, ok in answers.items() if ok]
        neg = [i for i, ok in answers.items() if not ok]
        curve.append(_ndcg(xc, raw, mu, pos, neg, held, set(answers)))
    return curve


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ratings", type=int, default=40)
    args = parser.parse_args()
    started = time.perf_counter()
    demo = load_demo()
    raw = demo.vectors
    mu = raw.mean(axis=0)
    xc = centred(raw, mu)
    clusters = layout.clusters(raw, seed=0)
    judged, _ = users(demo.titles)
    chosen = sorted(q for q, rel in judged.items() if len(rel) >= MIN_RELEVANT)
    full, curves = [], {"chooser": [], "chooser+topic": [], "random": []}  # type: ignore[var-annotated]
    for qid in chosen:
        for s in range(SPLITS):
            pos, held = splits(judged[qid], s)
            if not held:
                continue
            full.append(_ndcg(xc, raw, mu, pos.tolist(), [], held, set(pos.tolist())))
            for picker in curves:
                curves[picker].append(_curve(raw, xc, mu, clusters, set(judged[qid]), held, picker, args.ratings, s))
    target = float(np.mean(full))
    result: dict[str, Any] = {"users": len(chosen), "runs": len(full), "full_history_ndcg@10": round(target, 4)}
    for picker, runs in curves.items():
        mean = np.mean(np.array(runs), axis=0)
        reach = {f"ratings_to_{int(p * 100)}pct": next((k + 1 for k, v in enumerate(mean) if v >= p * target), None)
                 for p in (0.5, 0.9, 1.0)}  # fmt: skip
        result[picker] = {**reach, "ndcg@10_after": {k: round(float(mean[k - 1]), 4) for k in (5, 10, 20, 30, 40)
                                                     if k <= len(mean)}}  # fmt: skip
    result["seconds"] = round(time.perf_counter() - started, 1)
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
