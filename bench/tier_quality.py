"""The embedding tiers side by side on the demo corpus: throughput, and how far the static tier's rankings are from
MiniLM's.

* :func:`throughput`: abstracts/s of an embedder over the demo papers' texts (``Paper.embedding_text``), in the
  batches ``update_index`` hands it (``DAILYPAPERS_EMBED_BATCH``, 64), after a warm-up that loads the model.
* :func:`neighbour_overlap`: mean overlap of the top-10 similar papers (exact cosine kNN over the demo, the paper
  itself excluded) between two sets of vectors of the same papers.
* :func:`relevance_scores`: nDCG@10 and recall@10 of a ranking function over the hand-judged queries in
  ``bench/relevance/demo_queries.jsonl`` (:func:`load_relevance`; binary relevance, every judged paper gain 1).
* :func:`hybrid_quality`: the same scores for the full search (``Library.search.query``) on a demo instance.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from bench.corpus import ROOT, Demo
from dailypapers.search.vectors.embedder import Embedder

RELEVANCE = ROOT / "bench" / "relevance" / "demo_queries.jsonl"
K = 10
KINDS = ("keywords", "paraphrase", "abstract")


def demo_texts(demo: Demo) -> list[str]:
    """What the embedder sees for each demo paper (``Paper.embedding_text``: title, full stop, abstract)."""
    return [f"{t}. {a}" for t, a in zip(demo.titles, demo.abstracts, strict=True)]


class Remembering:
    """``embedder`` that answers the texts it is given vectors for from them (the same model's own vectors, computed
    earlier in the run) and embeds any other text; everything else (``name``, ``dim``, …) is the embedder's."""

    def __init__(self, embedder: Embedder, texts: Sequence[str], vectors: np.ndarray) -> None:
        self.embedder = embedder
        self.known = dict(zip(texts, vectors, strict=True))

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        missing = [t for t in dict.fromkeys(texts) if t not in self.known]
        if missing:
            self.known.update(zip(missing, self.embedder.embed(missing), strict=True))
        if not texts:
            return np.zeros((0, self.embedder.dim), dtype=np.float32)
        return np.stack([self.known[t] for t in texts]).astype(np.float32, copy=False)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.embedder, name)


def throughput(embedder: Embedder, texts: Sequence[str], *, batch: int, repeats: int = 3) -> dict[str, Any]:
    """Abstracts/s embedding ``texts`` in batches of ``batch``: the best of ``repeats`` passes (the least disturbed
    by other work on the machine), and the vectors of the last pass."""
    embedder.embed(list(texts[:batch]))  # loads the model (and traces MiniLM); not timed
    seconds, vectors = [], np.zeros((0, embedder.dim), dtype=np.float32)
    for _ in range(repeats):
        started = time.perf_counter()
        vectors = np.concatenate([embedder.embed(list(texts[i : i + batch])) for i in range(0, len(texts), batch)])
        seconds.append(time.perf_counter() - started)
    return {
        "texts": len(texts),
        "batch": batch,
        "seconds": seconds,
        "per_s": len(texts) / min(seconds),
        "vectors": vectors,
    }


def knn(vectors: np.ndarray, k: int = K) -> np.ndarray:
    """``[n, k]`` indices of each row's ``k`` nearest other rows by cosine (unit vectors; the row itself excluded)."""
    sims = vectors @ vectors.T
    np.fill_diagonal(sims, -np.inf)
    top = np.argpartition(-sims, k - 1, axis=1)[:, :k]
    order = np.argsort(-np.take_along_axis(sims, top, axis=1), axis=1, kind="stable")
    return np.take_along_axis(top, order, axis=1)


def neighbour_overlap(a: np.ndarray, b: np.ndarray, k: int = K) -> float:
    """Mean |top-k(a) ∩ top-k(b)| / k over the papers: how many of one model's similar papers the other finds."""
    na, nb = knn(a, k), knn(b, k)
    return float(np.mean([len(set(x) & set(y)) / k for x, y in zip(na.tolist(), nb.tolist(), strict=True)]))


def neighbour_profile(vectors: np.ndarray, ranks: Sequence[int] = (1, 10, 11, 50)) -> dict[str, float]:
    """Mean cosine of each paper's r-th nearest other paper: how crowded a neighbourhood is. A small gap between
    rank 10 and rank 50 is what makes "the 10 nearest" hard for a graph search to get exactly."""
    sims = vectors @ vectors.T
    np.fill_diagonal(sims, -np.inf)
    ordered = -np.sort(-sims, axis=1)
    return {f"sim@{r}": float(ordered[:, r - 1].mean()) for r in ranks if r < len(vectors)}


@dataclass
class Judged:
    query: str
    kind: str
    relevant: list[int]  # indices into the demo corpus


def load_relevance(demo: Demo, path: Path = RELEVANCE) -> list[Judged]:
    """The judged queries, each relevant title resolved to its demo paper (a title not in the demo is an error)."""
    index = {_norm(t): i for i, t in enumerate(demo.titles)}
    out = []
    for n, line in enumerate(path.read_text().splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            query, kind, titles = row["query"], row["kind"], row["relevant"]
        except (ValueError, KeyError, TypeError) as exc:
            raise ValueError(f"{path}:{n}: not a {{query, kind, relevant}} object ({exc})") from exc
        if kind not in KINDS:
            raise ValueError(f"{path}:{n}: kind {kind!r} is not one of {', '.join(KINDS)}")
        missing = [t for t in titles if _norm(t) not in index]
        if missing or not titles:
            raise ValueError(f"{path}:{n}: no demo paper has the title {missing[0]!r}" if missing else
                             f"{path}:{n}: no relevant paper")  # fmt: skip
        out.append(Judged(query, kind, [index[_norm(t)] for t in titles]))
    return out


def _norm(title: str) -> str:
    return " ".join(title.split())


def ndcg_recall(ranked: Sequence[int], relevant: Sequence[int], k: int = K) -> tuple[float, float]:
    """(nDCG@k, recall@k) of one ranking with binary gains."""
    rel = set(relevant)
    dcg = sum(1 / np.log2(i + 2) for i, r in enumerate(ranked[:k]) if r in rel)
    ideal = sum(1 / np.log2(i + 2) for i in range(min(len(rel), k)))
    return float(dcg / ideal), len(rel & set(ranked[:k])) / len(rel)


def relevance_scores(rank: Callable[[str], list[int] | None], judged: Sequence[Judged]) -> dict[str, Any]:
    """Mean nDCG@10 and recall@10 of ``rank`` (query → demo indices, best first; None: the query cannot be run)
    over every judged query and per kind of query."""
    per: dict[str, list[tuple[float, float]]] = {}
    skipped = 0
    for j in judged:
        ranked = rank(j.query)
        if ranked is None:
            skipped += 1
            continue
        score = ndcg_recall(ranked, j.relevant)
        per.setdefault("all", []).append(score)
        per.setdefault(j.kind, []).append(score)
    out: dict[str, Any] = {"skipped": skipped}
    for name, scores in per.items():
        a = np.asarray(scores)
        out[name] = {"ndcg@10": float(a[:, 0].mean()), "recall@10": float(a[:, 1].mean()), "queries": len(a)}
    return out


def vector_ranker(embedder: Embedder, corpus: np.ndarray) -> Callable[[str], list[int]]:
    """Vector-only retrieval: the demo papers by cosine to the query's embedding."""

    def rank(query: str) -> list[int]:
        sims = corpus @ embedder.embed([query])[0]
        return np.argsort(-sims, kind="stable")[:K].tolist()

    return rank


def hybrid_quality(embedder: Embedder, demo: Demo, judged: Sequence[Judged], workdir: Path) -> dict[str, Any]:
    """nDCG@10/recall@10 of ``Library.search.query`` (hybrid and keyword-only) on a demo instance (SQLite) whose
    papers ``embedder`` embedded; queries longer than the search's length limit are skipped (counted)."""
    from bench.build import import_demo
    from dailypapers.config import Config
    from dailypapers.errors import BadInput
    from dailypapers.library import Library

    workdir.mkdir(parents=True, exist_ok=True)
    lib = Library(Config(data_dir=workdir), embedder=embedder)
    index = {_norm(t): i for i, t in enumerate(demo.titles)}
    try:
        lib.init()
        import_demo(lib)

        def ranker(mode: str) -> Callable[[str], list[int] | None]:
            def rank(query: str) -> list[int] | None:
                try:
                    page = lib.search.query(query, mode=mode, page_size=K)
                except BadInput:  # longer than DAILYPAPERS_MAX_QUERY_LENGTH
                    return None
                return [index[_norm(r.paper.title)] for r in page.results if _norm(r.paper.title) in index]

            return rank

        return {mode: relevance_scores(ranker(mode), judged) for mode in ("hybrid", "keyword")}
    finally:
        lib.close()
