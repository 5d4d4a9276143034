"""Query latencies and ANN recall, measured in-process through the same objects the web app calls.

Queries (seeded) are a third each: a demo title, a phrase of 3-8 consecutive words from a demo abstract, and 1-3
keywords from demo titles. Every measurement runs its warm-up calls first, then times each call on its own
(``time.perf_counter``), one at a time; summaries are p50/p95/p99/mean in milliseconds.
"""

from __future__ import annotations

import contextlib
import re
import time
from collections.abc import Callable, Iterator, Sequence
from datetime import timedelta
from typing import Any, TypeVar

import numpy as np

from bench.corpus import Demo
from dailypapers.library import Library
from dailypapers.papers.models import Paper
from dailypapers.papers.periods import Period
from dailypapers.papers.store.base import Filters, StoreError

T = TypeVar("T")
K = 10
_WORD = re.compile(r"[A-Za-z][A-Za-z-]{3,}")


def make_queries(demo: Demo, n: int, seed: int = 1) -> list[str]:
    """``n`` search queries shaped like what users type: titles, abstract phrases, a few keywords."""
    rng = np.random.default_rng(seed)
    keywords = sorted({w.lower() for t in demo.titles for w in _WORD.findall(t)})
    queries: list[str] = []
    for i in range(n):
        if i % 3 == 0:
            queries.append(demo.titles[int(rng.integers(len(demo.titles)))])
        elif i % 3 == 1:
            words = demo.abstracts[int(rng.integers(len(demo.abstracts)))].split()
            length = int(rng.integers(3, 9))
            start = int(rng.integers(max(1, len(words) - length)))
            queries.append(" ".join(words[start : start + length]).strip(".,;:()"))
        else:
            picks = rng.choice(len(keywords), size=int(rng.integers(1, 4)), replace=False)
            queries.append(" ".join(keywords[j] for j in picks))
    return queries


def summarize(ms: Sequence[float]) -> dict[str, float]:
    a = np.asarray(ms, dtype=np.float64)
    p50, p95, p99 = np.percentile(a, [50, 95, 99])
    return {"p50": float(p50), "p95": float(p95), "p99": float(p99), "mean": float(a.mean()), "n": len(a)}


def time_calls(fn: Callable[[T], object], items: Sequence[T], warmup: int, max_s: float) -> dict[str, float]:
    """Latency summary of ``fn(item)`` over ``items``, after ``fn`` ran on the first ``warmup`` of them.

    Bounded: warm-up stops after a fifth of ``max_s`` and timing after ``max_s``; ``n`` says how many calls were
    timed (fewer than ``len(items)`` when the bound cut it short), ``errors`` how many the store stopped at its
    query time limit.
    """
    deadline = time.monotonic() + max_s / 5
    for item in items[:warmup]:
        with contextlib.suppress(StoreError):
            fn(item)
        if time.monotonic() > deadline:
            break
    deadline = time.monotonic() + max_s
    ms = []
    errors = 0
    for item in items:
        started = time.perf_counter()
        try:
            fn(item)
        except StoreError:  # the store's query time limit: counted, and its time is kept in the percentiles
            errors += 1
        ms.append((time.perf_counter() - started) * 1000)
        if time.monotonic() > deadline:
            break
    return summarize(ms) | {"errors": errors}


def latencies(
    lib: Library,
    queries: list[str],
    vectors: np.ndarray,
    filters: Filters,
    *,
    warmup: int,
    max_s: float,
    seed: int = 2,
    abstracts: Sequence[str] = (),
) -> dict[str, dict[str, float]]:
    """p50/p95/p99 of each search path over ``queries`` (``vectors``: their precomputed embeddings).

    ``latest_added_day`` is timed because ``Library.search`` calls it on every search (is there anything to
    embed?). ``keyword_unbounded`` is the keyword search with no budget (every query word scored, the plan before
    :mod:`dailypapers.papers.store.keyword_plan`), side by side with the budgeted one.

    ``embed_query_all_threads`` is the query embedding the way sentence-transformers' ``encode`` runs a batch (on
    every core, no TorchScript trace) instead of the trace on one thread the embedder uses for a few short texts,
    to show what that choice saves.
    """
    candidates = lib.config.candidates
    count = lib.papers.count()
    rng = np.random.default_rng(seed)
    papers = lib.store.get_papers_by_pk([int(pk) for pk in rng.integers(1, count + 1, size=len(queries))])

    def timed(fn: Callable[[Any], object], items: Sequence[Any]) -> dict[str, float]:
        return time_calls(fn, items, warmup, max_s)

    out = {
        "latest_added_day": timed(lambda _: lib.papers.latest_day(), queries),
        "keyword": timed(lambda q: lib.search.keywords.search(q, candidates), queries),
        "vector": timed(lambda v: lib.search.vectors.search(v, candidates), list(vectors)),
        "embed_query": timed(lib.search.embed_query, queries),
        "hybrid": timed(lambda q: lib.search.query(q), queries),
        "similar": timed(lambda p: lib.search.similar(p, K), papers),
        **trending_latencies(lib, queries, timed),
        **filtered_latencies(lib, queries, filters, timed),
        **variant_latencies(lib, queries, papers, abstracts, timed),
    }
    if lib.search.keywords.name == "tantivy":  # the code before, side by side: FTS5 with the keyword budget
        out.update(fts5_latencies(lib, queries, abstracts, timed))
    budget, lib.store.keyword_budget = lib.store.keyword_budget, 10**12
    try:
        out["keyword_unbounded"] = timed(lambda q: lib.store.keyword_search(q, candidates), queries)
    finally:
        lib.store.keyword_budget = budget
    from dailypapers.search.vectors import embedder

    small, embedder.SMALL_BATCH = embedder.SMALL_BATCH, 0  # no text counts as small: every torch thread is used
    try:
        out["embed_query_all_threads"] = timed(lib.search.embed_query, queries)
    finally:
        embedder.SMALL_BATCH = small
    return out


def fts5_latencies(
    lib: Library,
    queries: Sequence[str],
    abstracts: Sequence[str],
    timed: Callable[[Callable[[Any], object], Sequence[Any]], dict[str, float]],
) -> dict[str, dict[str, float]]:
    """SQLite's keyword half before tantivy (FTS5 with the keyword budget), alone and in hybrid search, in the same
    run as tantivy's; ``keyword_pasted`` / ``keyword_pasted_fts5``: the keyword half of a pasted abstract."""
    from dailypapers.search.keyword import StoreKeywords

    candidates, search = lib.config.candidates, lib.search
    out = {"keyword_fts5": timed(lambda q: lib.store.keyword_search(q, candidates), queries)}
    if abstracts:
        out["keyword_pasted"] = timed(lambda q: search.keywords.search(q, candidates), list(abstracts))
        out["keyword_pasted_fts5"] = timed(lambda q: lib.store.keyword_search(q, candidates), list(abstracts))
    engine = search.keywords
    search.__dict__["keywords"] = StoreKeywords(lib.store)  # a cached_property: replaced for these calls only
    try:
        out["hybrid_fts5"] = timed(lambda q: search.query(q), queries)
        if abstracts:
            out["pasted_abstract_fts5"] = timed(lambda q: search.query(q), list(abstracts))
    finally:
        search.__dict__["keywords"] = engine
    return out


@contextlib.contextmanager
def _filtered_variant(lib: Library, variant: str) -> Iterator[None]:
    """Filtered search as it is (``now``), without SQLite's kept passing sets (``cold``: what the first search under
    a filter costs), or as before issue 13 (``before``: also 100 vector candidates)."""
    from dailypapers.search import hybrid
    from dailypapers.search.vectors import index

    saved = index.FILTER_CACHE_S, hybrid.FILTERED_VECTOR_CANDIDATES
    try:
        if variant != "now":
            index.FILTER_CACHE_S = -1.0  # every kept set is too old: each search lists the papers that pass
        if variant == "before":
            hybrid.FILTERED_VECTOR_CANDIDATES = lib.config.candidates
        yield
    finally:
        index.FILTER_CACHE_S, hybrid.FILTERED_VECTOR_CANDIDATES = saved


def filtered_latencies(
    lib: Library,
    queries: Sequence[str],
    filters: Filters,
    timed: Callable[[Callable[[Any], object], Sequence[Any]], dict[str, float]],
    warm_s: float = 90.0,
) -> dict[str, dict[str, float]]:
    """Filtered hybrid search in each :func:`_filtered_variant`, side by side. Before any is timed, each variant
    runs over every query once, untimed (at most ``warm_s`` in all): at 1M papers the first filtered searches read
    the vector file and the database from disk, which would otherwise be charged to whichever variant runs first
    (in the run of 2026-12-02, which timed each variant after its own 20 warm-up calls, the first one measured had a
    p95 of 492 ms, and the variant timed right after it 62 ms)."""
    variants = {"filtered_hybrid": "now", "filtered_hybrid_cold": "cold", "filtered_hybrid_before": "before"}

    def search(q: str) -> object:
        return lib.search.query(q, filters=filters)

    deadline = time.monotonic() + warm_s
    for variant in variants.values():
        with _filtered_variant(lib, variant):
            for q in queries:
                if time.monotonic() > deadline:
                    break
                with contextlib.suppress(StoreError):
                    search(q)
    out = {}
    for key, variant in variants.items():
        with _filtered_variant(lib, variant):
            out[key] = timed(search, queries)
    return out


def variant_latencies(
    lib: Library,
    queries: Sequence[str],
    papers: Sequence[Paper],
    abstracts: Sequence[str],
    timed: Callable[[Callable[[Any], object], Sequence[Any]], dict[str, float]],
) -> dict[str, dict[str, float]]:
    """Pasted abstracts (whole demo abstracts, which the synthetic papers reword), and two search choices beside the
    code before them, in the same run: similar papers at the text queries' search effort (PostgreSQL's before), and
    hybrid with half the keyword budget (not the default)."""
    from dailypapers.papers.store import pg_vectors

    out = {"pasted_abstract": timed(lambda q: lib.search.query(q), list(abstracts))} if abstracts else {}
    similar_ef, pg_vectors.SIMILAR_EF_SEARCH = pg_vectors.SIMILAR_EF_SEARCH, pg_vectors.EF_SEARCH
    try:
        out["similar_text_effort"] = timed(lambda p: lib.search.similar(p, K), papers)
    finally:
        pg_vectors.SIMILAR_EF_SEARCH = similar_ef
    budget, lib.store.keyword_budget = lib.store.keyword_budget, lib.store.keyword_budget // 2
    try:
        out["hybrid_half_budget"] = timed(lambda q: lib.search.query(q), queries)
    finally:
        lib.store.keyword_budget = budget
    return out


def trending_latencies(
    lib: Library, items: Sequence[object], timed: Callable[[Callable[[Any], object], Sequence[Any]], dict[str, float]]
) -> dict[str, dict[str, float]]:
    """The first page of the Trending page's windows (what ``/trending?window=…`` asks the database), beside the
    newest-first list of the same month: the cost of ranking in SQL over the plain list."""
    newest = lib.papers.latest_day()
    if newest is None:
        return {}
    size = lib.config.page_size

    def page_of(period: Period, sort: str) -> Callable[[object], object]:
        return lambda _: lib.papers.in_period(period, limit=size, sort=sort)

    out = {}
    for window, days in (("day", 1), ("week", 7), ("month", 30)):
        period = Period("range", newest - timedelta(days=days - 1), newest)
        out[f"trending_{window}"] = timed(page_of(period, "trending"), items)
    out["newest_month"] = timed(page_of(Period("range", newest - timedelta(days=29), newest), "added"), items)
    return out


def filter_info(lib: Library, filters: Filters) -> dict[str, Any]:
    """The filter of the filtered searches and the share of papers that pass it."""
    passing = len(lib.store.filter_pks(filters))
    return {
        "category": filters.category,
        "since": filters.since.isoformat() if filters.since else None,
        "until": filters.until.isoformat() if filters.until else None,
        "fraction": passing / max(1, lib.papers.count()),
    }


def recall_at_k(lib: Library, queries: np.ndarray, k: int = K, efs: Sequence[int] = (400,)) -> dict[str, float]:
    """Mean recall@k of ``lib.search.vectors.search`` (the ANN index) against exact search over every stored vector.

    ``"default"``: with the application's search effort (``ef`` / ``hnsw.ef_search`` 200 on both);
    ``"ef<N>"``: with that effort raised to N, which tells a graph that cannot find the neighbours from a search
    that stops too early. The exact top k is computed batch by batch over ``store.iter_embeddings`` (numpy, inner
    product of unit vectors), so memory stays at one batch whatever the corpus size.
    """
    best_sims = np.full((len(queries), k), -np.inf, dtype=np.float32)
    best_pks = np.full((len(queries), k), -1, dtype=np.int64)
    for pks, vectors in lib.store.iter_embeddings(lib.embedder.name):
        sims = np.concatenate([best_sims, queries @ vectors.T], axis=1)
        keys = np.concatenate([best_pks, np.broadcast_to(pks, (len(queries), len(pks)))], axis=1)
        top = np.argpartition(-sims, k - 1, axis=1)[:, :k]
        best_sims, best_pks = np.take_along_axis(sims, top, axis=1), np.take_along_axis(keys, top, axis=1)
    truth = [set(row[row >= 0].tolist()) for row in best_pks]

    def recall() -> float:
        found = [{h.pk for h in lib.search.vectors.search(q, k)} for q in queries]
        return float(np.mean([len(f & t) / max(1, len(t)) for f, t in zip(found, truth, strict=True)]))

    out = {"default": recall()}
    for ef in efs:
        with _search_effort(ef):
            out[f"ef{ef}"] = recall()
    return out


@contextlib.contextmanager
def _search_effort(ef: int) -> Iterator[None]:
    """Both backends' ANN search effort set to ``ef`` (the constants are read at each search)."""
    from dailypapers.papers.store import pg_vectors
    from dailypapers.search.vectors.hnsw import AnnIndex

    saved = AnnIndex.EF_SEARCH, pg_vectors.EF_SEARCH
    AnnIndex.EF_SEARCH = pg_vectors.EF_SEARCH = ef
    try:
        yield
    finally:
        AnnIndex.EF_SEARCH, pg_vectors.EF_SEARCH = saved
