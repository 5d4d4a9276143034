"""The one step from a query to ranked papers, shared by search, similar papers, recommendations and alerts.

* :func:`gather` — a query's candidates: the store's keyword ranking and the vector index's nearest papers, the
  keyword query run in the database while this thread embeds the text, so the two take about as long as the slower;
* :func:`fuse` — the rankings fused into one (below), a paper the query names exactly pinned first;
* :func:`papers_of` / :func:`ranked_papers` — the ranked keys' papers, fetched in one query.

Visibility is not a step here: every query these make (keyword, vector, papers by key) leaves out papers an admin
hid by the store's own rule (:mod:`dailypapers.papers.hidden`), so no caller filters after the fact. A paper hidden
between ranking and fetching simply does not come back from the fetch.

Reciprocal rank fusion (Cormack, Clarke & Büttcher, SIGIR 2009) is the baseline: each list adds
``weight / (k + rank)`` for every paper it ranks, so agreement between the keyword and the vector ranking wins
and neither list's raw score scale matters. It is a pure function of ranks so that it is easy to test and to
replace with a better fusion later.

:func:`fusion_weights` weighs the two rankings by the kind of query: a few keywords, or a long text (a pasted
abstract). The weights were chosen by measurement on the hand-judged relevance set (``bench/search_quality.py``,
the sweep in docs/search.md), not by guessing.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TypeVar

import numpy as np

from dailypapers.papers.models import Filters, Paper
from dailypapers.papers.store.base import Hit, Store
from dailypapers.search import timing
from dailypapers.search.keyword import KeywordEngine
from dailypapers.search.vectors.base import VectorIndex

K = TypeVar("K", bound=Hashable)
Ranked = list[tuple[int, float]]
_POOL = ThreadPoolExecutor(max_workers=8, thread_name_prefix="keyword-search")


def reciprocal_rank_fusion(
    rankings: Sequence[Sequence[K]], *, k: int = 60, weights: Sequence[float] | None = None
) -> list[tuple[K, float]]:
    """Fuse best-first rankings of keys into one best-first list of ``(key, score)``.

    Ties keep the order of first appearance (earlier lists, earlier ranks), so the result is deterministic.
    """
    if k < 0:
        raise ValueError("k must be non-negative")
    if weights is not None and len(weights) != len(rankings):
        raise ValueError("one weight per ranking")
    scores: dict[K, float] = {}
    for i, ranking in enumerate(rankings):
        w = 1.0 if weights is None else weights[i]
        for rank, key in enumerate(ranking, start=1):
            scores[key] = scores.get(key, 0.0) + w / (k + rank)
    order = {key: n for n, key in enumerate(scores)}
    return sorted(scores.items(), key=lambda kv: (-kv[1], order[kv[0]]))


KEYWORD_WEIGHTS = (1.5, 1.0)
"""(keyword, vector) weights for a short query (words, a title, a sentence). On the relevance set, keyword weights
1.5 and 2 both beat 1 on every kind of short query that was not already perfect (mean nDCG@10 0.925 -> 0.935), and
1.5 is the smaller change."""
LONG_TEXT_WEIGHTS = (1.0, 1.0)
"""(keyword, vector) weights for a long text (more distinct terms than one keyword query takes): no weight from 0.5
to 2 did better than equal weights on the long-text kinds by more than the noise of a few queries."""


def fusion_weights(long_text: bool) -> tuple[float, float]:
    """The (keyword, vector) weights of :func:`reciprocal_rank_fusion` for a short query or a long text."""
    return LONG_TEXT_WEIGHTS if long_text else KEYWORD_WEIGHTS


@dataclass
class Candidates:
    """A query's two rankings, best first: the keyword search's hits and the vector search's (score = cosine)."""

    keyword: list[Hit] = field(default_factory=list)
    vector: list[Hit] = field(default_factory=list)

    def rankings(self) -> list[list[int]]:
        """The keys of both, keyword ranking first (the order :func:`fuse` and :func:`fusion_weights` expect)."""
        return [[h.pk for h in self.keyword], [h.pk for h in self.vector]]


def gather(
    store: Store,
    text: str,
    filters: Filters,
    *,
    keyword_depth: int = 0,
    vectors: VectorIndex | None = None,
    query_vector: np.ndarray | Callable[[], np.ndarray] | None = None,
    vector_depth: int = 0,
    keywords: KeywordEngine | None = None,
) -> Candidates:
    """The keyword candidates of ``text`` (``keyword_depth`` of them; 0: none) and the ``vector_depth`` papers
    nearest to ``query_vector`` (none without ``vectors`` and ``query_vector``), all passing ``filters``. The keyword
    candidates come from ``keywords`` (the search service's engine: tantivy on SQLite), else the store's own index.

    With both halves, the keyword query runs in a pool thread — in the database, which releases the GIL — while
    this thread searches the vector index, after computing the query vector when ``query_vector`` is a function
    (embedding a text takes milliseconds: the keyword half runs meanwhile)."""
    search = keywords.search if keywords is not None else store.keyword_search
    keyword = _timed_keyword(search) if keyword_depth > 0 else None
    if vectors is None or query_vector is None or vector_depth <= 0:
        return Candidates(keyword=keyword(text, keyword_depth, filters) if keyword else [])
    pending = _POOL.submit(keyword, text, keyword_depth, filters) if keyword else None
    try:
        with timing.timed("embedding"):
            point = query_vector() if callable(query_vector) else query_vector
        with timing.timed("vector"):
            dense = vectors.search(point, vector_depth, filters)
    finally:  # never leave the keyword half running on its own
        sparse = pending.result() if pending is not None else []
    return Candidates(keyword=sparse, vector=dense)


def _timed_keyword(search: Callable[[str, int, Filters], list[Hit]]) -> Callable[[str, int, Filters], list[Hit]]:
    """A keyword search, timed as the ``keyword`` step (:mod:`dailypapers.search.timing`)."""

    def timed(text: str, depth: int, filters: Filters) -> list[Hit]:
        with timing.timed("keyword"):
            return search(text, depth, filters)

    return timed


def fuse(rankings: Sequence[Sequence[int]], *, k: int, long_text: bool, pinned: int | None = None) -> Ranked:
    """(keyword, vector) rankings fused by :func:`reciprocal_rank_fusion` with the weights of
    :func:`fusion_weights`; ``pinned`` (the paper a query names by id or exact title) first, above every score."""
    with timing.timed("fusion"):
        fused = reciprocal_rank_fusion(rankings, k=k, weights=fusion_weights(long_text))
    if pinned is not None:
        top = fused[0][1] + 1.0 if fused else 1.0
        fused = [(pinned, top)] + [(pk, s) for pk, s in fused if pk != pinned]
    return fused


def papers_of(store: Store, keys: Sequence[int]) -> dict[int, Paper]:
    """The papers with these keys, by key, in one query (the store leaves out hidden ones)."""
    return {int(p.pk): p for p in store.get_papers_by_pk(list(dict.fromkeys(keys))) if p.pk is not None}


def ranked_papers(store: Store, ranked: Sequence[tuple[int, float]]) -> list[tuple[Paper, float]]:
    """``(paper, score)`` for each ranked key whose paper is shown, in rank order."""
    found = papers_of(store, [pk for pk, _ in ranked])
    return [(found[pk], score) for pk, score in ranked if pk in found]
