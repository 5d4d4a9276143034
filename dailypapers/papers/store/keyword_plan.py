"""Bounding the cost of a keyword search: which terms to match, AND or OR, and over which rows.

Both keyword indexes (FTS5 ``bm25``, PostgreSQL ``ts_rank``) score every row a query matches, so an OR of all
terms of a long query ("… for accelerated training and better generalization") scores most of a large corpus:
105 ms at 100k papers on SQLite, 270 ms on PostgreSQL (docs/benchmarks.md), and ten times that at 1M. Most of
those rows match only common words, which hardly change a BM25 ranking. So each query is planned against a
*budget* of postings (matching rows) to score, the way Lucene's "common terms" query does:

1. Every term's document frequency is counted up to ``budget + 1`` (a bounded count; exact below the cap),
   cached for :data:`DF_TTL_S` seconds, since the same words recur across queries. PostgreSQL skips the count
   for a word its planner statistics put far over the cap (counting there visits a heap row per match), and a
   long text's common words take their frequency from those statistics (:mod:`.pg_terms`).
2. Terms are taken rarest first while the sum of their frequencies stays within the budget; the rest, the
   common words, are dropped. On a small corpus nothing is dropped and this is the plain OR of all terms.
3. If even the rarest term is over the budget (a query of common words only, such as "deep learning"), the
   query becomes the AND of all its terms, scored only over the newest ``2 × budget`` rows (rows are numbered in
   import order, so these are the latest papers) up to the newest one that passes the date filter.

The semantic half of hybrid search still ranks the whole corpus, so dropping words costs little there.

Before planning, :func:`keyword_terms` chooses the terms: all of a short query's; for a long text (a pasted
abstract, more distinct terms than :data:`~dailypapers.papers.store.terms.MAX_TERMS`) the most distinctive ones by
tf-idf, from the same cached document frequencies (:meth:`DocumentFrequencies.get_many`, one batched count for the
terms not cached yet) and the corpus size (:meth:`DocumentFrequencies.corpus_size`).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from dailypapers.papers.store.terms import distinctive_terms, is_long, query_terms, term_counts

DEFAULT_BUDGET = 10_000
DF_TTL_S = 600.0
DF_CACHE_SIZE = 50_000
WINDOW_FACTOR = 2


@dataclass(frozen=True)
class KeywordPlan:
    """What a keyword query matches: ``terms`` joined by AND (``conjunctive``) or OR, over rows ``pk >= min_pk``
    and ``pk <= max_pk`` when those are set; ``dropped`` lists the common terms left out."""

    terms: tuple[str, ...]
    conjunctive: bool = False
    min_pk: int | None = None
    max_pk: int | None = None
    dropped: tuple[str, ...] = ()


def plan_keyword_query(
    terms: Sequence[str],
    df: Callable[[str], int],
    budget: int,
    newest_pk: Callable[[], int | None],
) -> KeywordPlan:
    """The plan for ``terms``: ``df(term)`` counts the rows a term matches (it may stop counting past ``budget``),
    ``newest_pk()`` is the key of the newest row the filters allow (only asked for a query of common words)."""
    if not terms:
        return KeywordPlan(())
    freq = {t: df(t) for t in terms}
    order = sorted(terms, key=lambda t: freq[t])  # stable: equal frequencies keep the query's order
    kept: list[str] = []
    total = 0
    for term in order:
        if kept and total + freq[term] > budget:
            break
        kept.append(term)
        total += freq[term]
    if total <= budget:
        return KeywordPlan(tuple(t for t in terms if t in kept), dropped=tuple(t for t in terms if t not in kept))
    newest = newest_pk()
    if newest is None:
        return KeywordPlan(tuple(terms), conjunctive=True)
    return KeywordPlan(tuple(terms), conjunctive=True, min_pk=newest - WINDOW_FACTOR * budget + 1, max_pk=newest)


def keyword_terms(query: str, dfs: DocumentFrequencies, cap: int) -> list[str]:
    """The terms a keyword search for ``query`` matches: all of a short query's (no count needed), the most
    distinctive of a long text's, by tf-idf with document frequencies counted up to ``cap``."""
    if not is_long(query):
        return query_terms(query)
    counts = term_counts(query)
    return distinctive_terms(counts, dfs.get_many(list(counts), cap), dfs.corpus_size())


class DocumentFrequencies:
    """A small thread-safe cache of per-term document frequencies, each kept for ``ttl`` seconds, and of the
    corpus size. ``count(term, cap)`` counts one term; ``count_many(terms, cap)``, when given, counts many in one
    round trip (a pasted abstract has hundreds of distinct terms); ``total()`` counts the papers.

    A stale count only makes a plan a little more or less generous; results stay correct, so the cache is not
    invalidated on writes.
    """

    def __init__(
        self,
        count: Callable[[str, int], int],
        *,
        count_many: Callable[[Sequence[str], int], Mapping[str, int]] | None = None,
        total: Callable[[], int] | None = None,
        ttl: float = DF_TTL_S,
        size: int = DF_CACHE_SIZE,
    ) -> None:
        self._count = count
        self._count_many = count_many or (lambda terms, cap: {t: count(t, cap) for t in terms})
        self._total = total
        self._corpus: tuple[int, float] | None = None
        self._ttl = ttl
        self._size = size
        self._cache: dict[tuple[str, int], tuple[int, float]] = {}
        self._lock = threading.Lock()

    def get_many(self, terms: Sequence[str], cap: int) -> dict[str, int]:
        """:meth:`get` for each of ``terms``, the uncached ones counted together."""
        now = time.monotonic()
        found: dict[str, int] = {}
        with self._lock:
            for term in terms:
                hit = self._cache.get((term, cap))
                if hit is not None and now - hit[1] < self._ttl:
                    found[term] = hit[0]
        missing = [t for t in dict.fromkeys(terms) if t not in found]
        if missing:
            counted = self._count_many(missing, cap)
            with self._lock:
                if len(self._cache) + len(missing) > self._size:
                    self._cache.clear()
                for term in missing:
                    found[term] = int(counted.get(term, 0))
                    self._cache[(term, cap)] = (found[term], now)
        return {t: found[t] for t in terms}

    def corpus_size(self) -> int:
        """How many papers there are (for idf), cached like the frequencies; 0 without a ``total`` counter."""
        now = time.monotonic()
        with self._lock:
            cached = self._corpus
        if cached is not None and now - cached[1] < self._ttl:
            return cached[0]
        value = self._total() if self._total is not None else 0
        with self._lock:
            self._corpus = (value, now)
        return value

    def get(self, term: str, cap: int) -> int:
        """How many rows ``term`` matches, counting at most ``cap`` of them."""
        now = time.monotonic()
        key = (term, cap)
        with self._lock:
            hit = self._cache.get(key)
        if hit is not None and now - hit[1] < self._ttl:
            return hit[0]
        value = self._count(term, cap)
        with self._lock:
            if len(self._cache) >= self._size:
                self._cache.clear()
            self._cache[key] = (value, now)
        return value

    def clear(self) -> None:
        with self._lock:
            self._cache.clear()
            self._corpus = None
