"""ANN recall@10 and latency of similar papers on synthetic corpora whose vectors a real model computed.

``bench.corpus.synthetic`` writes each paper's title and abstract from a demo paper's words; :func:`text_vectors`
embeds those texts with an embedder (the static tier: ~10 min for 1M on 2 cores) and caches the vectors under
``bench/data/`` (gitignored), keyed by model, size and seed. :func:`measure_backend` then loads the papers and those
vectors into a fresh database (``bench.build.import_synthetic``), builds the vector index once per graph
parameter set (``M``, ``ef_construction``; the import is not repeated) and, for each search effort ``ef``, measures:

* ``recall_similar``: similar-paper queries (a stored paper's own vector; the paper itself excluded, as
  ``VectorIndex.similar`` does) against exact numpy search over every stored vector;
* ``recall_search``: the benchmark's text queries (``bench.measure.make_queries``) embedded by the same model, k=10;
* latencies (``bench.measure.time_calls``): similar papers (``Library.search.similar``, k=10), vector search k=100
  and hybrid search end to end (``Library.search.query``; its query embedding is the corpus model's).

``source="synthetic"`` stores ``bench.corpus.Vectors`` instead (the vectors of the earlier benchmarks), so both can
be compared on the same papers and queries.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np

from bench.backends import Backends
from bench.build import build_index, import_synthetic
from bench.corpus import CACHE, Demo, synthetic
from bench.measure import _search_effort, make_queries, time_calls
from dailypapers.library import Library
from dailypapers.papers.models import Paper
from dailypapers.papers.store import pg_vectors
from dailypapers.search.vectors.embedder import Embedder
from dailypapers.search.vectors.hnsw import AnnIndex

K = 10
PROFILE_RANKS = (1, 10, 11, 50)  # ranks of the exact neighbours whose mean cosine is reported
Log = Callable[[str], None]


def text_vectors(demo: Demo, n: int, embedder: Embedder, *, seed: int = 0, chunk: int = 20_000) -> tuple[
    np.ndarray, dict[str, Any]
]:  # fmt: skip
    """``[n, dim]`` embeddings of the synthetic papers' texts (``Paper.embedding_text``), in stream order.

    Read from ``bench/data/tier-vectors-<model>-<n>-seed<seed>.npy`` if there; otherwise computed ``chunk`` texts at
    a time and saved (temporary name, then rename: an interrupted run leaves no partial file), with the embedding
    time beside it (``.json``), which a later run reports with ``"cached": true``.
    """
    path = CACHE / f"tier-vectors-{embedder.name}-{n}-seed{seed}.npy"
    stats = path.with_suffix(".json")
    if path.exists():
        vectors = np.load(path)
        if vectors.shape != (n, embedder.dim):
            raise RuntimeError(f"{path}: shape {vectors.shape}, expected {(n, embedder.dim)}; delete it")
        measured = json.loads(stats.read_text()) if stats.exists() else {}
        return vectors, {**measured, "cached": True, "path": str(path)}
    vectors = np.empty((n, embedder.dim), dtype=np.float32)
    texts: list[str] = []
    embed_s, first = 0.0, 0
    for i, (paper, _) in enumerate(synthetic(demo, n, seed=seed)):
        texts.append(paper.embedding_text())
        if len(texts) == chunk or i == n - 1:
            started = time.perf_counter()
            vectors[first : i + 1] = embedder.embed(texts)
            embed_s += time.perf_counter() - started
            first, texts = i + 1, []
    CACHE.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as fh:
        np.save(fh, vectors)
    tmp.replace(path)
    measured = {"embed_s": embed_s, "embed_per_s": n / embed_s, "chunk": chunk, "loadavg_after": os.getloadavg()}
    stats.write_text(json.dumps(measured) + "\n")
    return vectors, {**measured, "cached": False, "path": str(path)}


@contextlib.contextmanager
def graph_parameters(m: int | None, ef_construction: int | None) -> Iterator[dict[str, int]]:
    """Both backends' HNSW build parameters set to ``m`` / ``ef_construction`` (None: each backend's own), restored
    afterwards; yields what each backend builds with."""
    saved = AnnIndex.M, AnnIndex.EF_CONSTRUCTION, pg_vectors.M, pg_vectors.EF_CONSTRUCTION
    if m is not None:
        AnnIndex.M = pg_vectors.M = m
    if ef_construction is not None:
        AnnIndex.EF_CONSTRUCTION = pg_vectors.EF_CONSTRUCTION = ef_construction
    try:
        yield {"sqlite_m": AnnIndex.M, "sqlite_ef_construction": AnnIndex.EF_CONSTRUCTION,
               "postgres_m": pg_vectors.M, "postgres_ef_construction": pg_vectors.EF_CONSTRUCTION}  # fmt: skip
    finally:
        AnnIndex.M, AnnIndex.EF_CONSTRUCTION, pg_vectors.M, pg_vectors.EF_CONSTRUCTION = saved


def default_ef(backend: str) -> int:
    """The search effort the application uses on ``backend`` (read now: a sweep changes it for a while)."""
    return AnnIndex.EF_SEARCH if backend == "sqlite" else pg_vectors.EF_SEARCH


def exact_neighbours(lib: Library, queries: np.ndarray, exclude: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """``(pks, sims)``, each ``[len(queries), k]`` best first: the exact top ``k`` of every stored vector by inner
    product, the pk ``exclude[i]`` left out for query ``i`` (-1: none). One pass over ``store.iter_embeddings``."""
    best_sims = np.full((len(queries), k), -np.inf, dtype=np.float32)
    best_pks = np.full((len(queries), k), -1, dtype=np.int64)
    for pks, vectors in lib.store.iter_embeddings(lib.embedder.name):
        sims = queries @ vectors.T
        sims[pks[None, :] == exclude[:, None]] = -np.inf
        sims = np.concatenate([best_sims, sims], axis=1)
        keys = np.concatenate([best_pks, np.broadcast_to(pks, (len(queries), len(pks)))], axis=1)
        top = np.argpartition(-sims, k - 1, axis=1)[:, :k]
        best_sims, best_pks = np.take_along_axis(sims, top, axis=1), np.take_along_axis(keys, top, axis=1)
    order = np.argsort(-best_sims, axis=1, kind="stable")
    return np.take_along_axis(best_pks, order, axis=1), np.take_along_axis(best_sims, order, axis=1)


def _recall(found: Sequence[set[int]], truth: np.ndarray) -> float:
    return float(np.mean([len(f & set(t[:K].tolist())) / K for f, t in zip(found, truth, strict=True)]))


class Probe:
    """The queries of one database: ``papers`` (similar-paper queries) with their stored vectors, and the text
    queries with their embeddings; the exact answers of both, computed once for every index built afterwards."""

    def __init__(self, lib: Library, texts: list[str], *, n: int, seed: int = 3) -> None:
        count = lib.papers.count()
        rng = np.random.default_rng(seed)
        pks = sorted({int(pk) for pk in rng.choice(np.arange(1, count + 1), size=min(n, count), replace=False)})
        self.papers: list[Paper] = lib.store.get_papers_by_pk(pks)
        vectors = [lib.store.get_embedding(lib.embedder.name, int(p.pk or 0)) for p in self.papers]
        if any(v is None for v in vectors):
            raise RuntimeError("a sampled paper has no stored embedding")
        self.paper_vectors = np.vstack([v for v in vectors if v is not None]).astype(np.float32)
        self.texts = texts
        self.text_vectors = lib.embedder.embed(texts)
        kk = max(PROFILE_RANKS)
        own = np.array([p.pk for p in self.papers], dtype=np.int64)
        none = np.full(len(texts), -1, dtype=np.int64)
        both = np.vstack([self.paper_vectors, self.text_vectors])
        pks_all, sims_all = exact_neighbours(lib, both, np.concatenate([own, none]), kk)
        self.similar_truth, self.search_truth = pks_all[: len(own)], pks_all[len(own) :]
        self.profile = _profile(sims_all[: len(own)])
        self.search_profile = _profile(sims_all[len(own) :])


def _profile(sims: np.ndarray) -> dict[str, float]:
    """Mean cosine of the exact neighbours at :data:`PROFILE_RANKS`: how crowded the queries' neighbourhoods are
    (when rank 50 is nearly as close as rank 10, recall@10 counts near-ties as misses)."""
    return {f"sim@{r}": float(sims[:, r - 1].mean()) for r in PROFILE_RANKS}


def sweep(lib: Library, probe: Probe, efs: Sequence[int], *, warmup: int, max_s: float) -> dict[str, Any]:
    """Recall and latencies at each search effort in ``efs`` (the built index is searched as is)."""
    candidates = lib.config.candidates
    out: dict[str, Any] = {}
    for ef in efs:
        with _search_effort(ef):
            similar = [{h.pk for h in lib.search.vectors.similar(int(p.pk or 0), K)} for p in probe.papers]
            search = [{h.pk for h in lib.search.vectors.search(v, K)} for v in probe.text_vectors]
            out[str(ef)] = {
                "recall_similar": _recall(similar, probe.similar_truth),
                "recall_search": _recall(search, probe.search_truth),
                "similar_ms": time_calls(lambda p: lib.search.similar(p, K), probe.papers, warmup, max_s),
                "vector_ms": time_calls(
                    lambda v: lib.search.vectors.search(v, candidates), list(probe.text_vectors), warmup, max_s
                ),
                "hybrid_ms": time_calls(lambda q: lib.search.query(q), probe.texts, warmup, max_s),
            }
    return out


def measure_backend(
    backends: Backends,
    backend: str,
    demo: Demo,
    embedder: Embedder,
    n: int,
    vectors: np.ndarray | None,
    *,
    builds: Sequence[tuple[int | None, int | None]],
    efs: Sequence[int],
    queries: int,
    warmup: int,
    max_s: float,
    seed: int = 0,
    log: Log = print,
) -> dict[str, Any]:
    """Import ``n`` synthetic papers into a fresh ``backend`` database with ``vectors`` (None: the synthetic
    ``bench.corpus.Vectors``), then build each graph of ``builds`` (``(M, ef_construction)``, None: the backend's
    own) and sweep ``efs`` plus the application's ``ef`` on it; the database is dropped afterwards."""
    source = "synthetic" if vectors is None else "text"
    config = backends.config(backend, f"tiers_{source}_{n}")
    lib = Library(config, embedder=embedder)
    try:
        lib.init()
        log(f"{backend} {n} ({source} vectors): importing")
        run, _ = import_synthetic(lib, demo, n, seed=seed, vectors=vectors)
        run |= {"backend": backend, "size": n, "vectors": source, "model": embedder.name, "dim": embedder.dim}
        log(f"{backend} {n}: exact neighbours of {queries} + {queries} queries")
        probe = Probe(lib, make_queries(demo, queries), n=queries)
        run["neighbour_profile"], run["search_profile"] = probe.profile, probe.search_profile
        run["builds"] = []
        for m, ef_construction in builds:
            with graph_parameters(m, ef_construction) as params:
                log(f"{backend} {n}: building the index with {params}")
                built = build_index(lib)
            ef_set = sorted({default_ef(backend), *efs})
            log(f"{backend} {n}: sweeping ef {ef_set}")
            graph = {
                "m": params[f"{backend}_m"],
                "ef_construction": params[f"{backend}_ef_construction"],
                "default_ef": default_ef(backend),
                **built,
                "efs": sweep(lib, probe, ef_set, warmup=warmup, max_s=max_s),
            }
            run["builds"].append(graph)
            best = max(r["recall_similar"] for r in graph["efs"].values())
            log(f"{backend} {n}: built in {graph['index_build_s']:.0f} s; best recall_similar {best:.3f}")
    finally:
        lib.close()
        backends.drop(config)
    return run
