"""Hybrid search: BM25 and embedding rankings fused, exact ids and titles pinned first, filtered and paged.

Runs the same on both backends: the store supplies the keyword ranking, a
:class:`~dailypapers.search.vectors.base.VectorIndex` the semantic one. A query may be a whole pasted abstract: the
store then searches its most distinctive terms (:mod:`dailypapers.papers.store.terms`), and the fusion weighs the
two rankings for a long text rather than for a few keywords (:func:`~dailypapers.search.fusion.fusion_weights`).
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np
from markupsafe import Markup

from dailypapers.errors import BadInput
from dailypapers.papers.hidden import hidden_among
from dailypapers.papers.models import Paper, parse_arxiv_id
from dailypapers.papers.store.base import Filters, Hit, Store
from dailypapers.papers.store.terms import is_long, query_terms
from dailypapers.search.fusion import fusion_weights, reciprocal_rank_fusion
from dailypapers.search.highlight import highlight
from dailypapers.search.vectors.base import VectorIndex

MODES = ("hybrid", "keyword", "semantic")
_POOL = ThreadPoolExecutor(max_workers=8, thread_name_prefix="keyword-search")
# A filtered search asks the vector half for fewer candidates than the keyword half: finding nearest papers that pass
# a narrow filter costs time in proportion to how many are asked for (PostgreSQL's graph search walks further for
# each), while a paper past rank 40 adds at most 1/(60+41) to a fused score (RRF, k=60), and the first two pages
# hold 40. docs/search.md measures what it costs in ranking quality.
FILTERED_VECTOR_CANDIDATES = 40


@dataclass
class SearchResult:
    """One ranked paper, with where each ranking placed it and its highlighted title and abstract."""

    paper: Paper
    score: float
    pinned: bool = False
    keyword_rank: int | None = None
    vector_rank: int | None = None
    title_html: Markup = field(default_factory=Markup)
    abstract_html: Markup = field(default_factory=Markup)


@dataclass
class SearchPage:
    """A page of results; ``total`` counts every fused candidate (at most twice ``candidates``)."""

    query: str
    mode: str
    filters: Filters
    page: int
    page_size: int
    total: int
    results: list[SearchResult] = field(default_factory=list)

    @property
    def has_next(self) -> bool:
        return self.page * self.page_size < self.total


def pinned_paper(store: Store, query: str, filters: Filters) -> Paper | None:
    """The paper the query names exactly, by arXiv id (any version, URL or ``arXiv:`` form) or by exact title."""
    parsed = parse_arxiv_id(query)
    paper = store.get_paper(parsed[0]) if parsed else None
    if paper is None and len(query) >= 8:
        paper = store.find_by_title(query)
    if paper is None or paper.pk is None:  # a stored paper always has its key
        return None
    return paper if not filters.active or store.filter_pks(filters, among=[paper.pk]) else None


def _fuse(
    store: Store, rankings: list[list[int]], pinned: Paper | None, rrf_k: int, long_text: bool
) -> list[tuple[int, float]]:
    """The fused ranking (weighted for the kind of query), the pinned paper first, without the papers an admin hid
    (one query on a small table)."""
    fused = reciprocal_rank_fusion(rankings, k=rrf_k, weights=fusion_weights(long_text))
    if pinned is not None:
        top = fused[0][1] + 1.0 if fused else 1.0
        pin = int(pinned.pk)  # type: ignore[arg-type]
        fused = [(pin, top)] + [(pk, s) for pk, s in fused if pk != pin]
    gone = hidden_among(store.db, [pk for pk, _ in fused])
    return [(pk, score) for pk, score in fused if pk not in gone]


def _highlight_terms(query: str, keyword: list[Hit], long_text: bool) -> list[str]:
    """The words to mark in results: a short query's own; for a long text the distinctive terms the keyword search
    chose (marking its first 32 words would mark "we", "propose", "model"), none without a keyword search."""
    if not long_text:
        return query_terms(query)
    chosen = keyword[0].extra.get("terms", ()) if keyword else ()
    return [str(t) for t in chosen] if isinstance(chosen, tuple | list) else []


def hybrid_search(
    store: Store,
    vectors: VectorIndex | None,
    embed: Callable[[str], np.ndarray] | None,
    query: str,
    *,
    filters: Filters = Filters(),
    mode: str = "hybrid",
    page: int = 1,
    page_size: int = 20,
    candidates: int = 100,
    rrf_k: int = 60,
) -> SearchPage:
    """Rank papers for ``query``. ``embed`` turns text into a query vector; without it search is keyword-only."""
    if mode not in MODES:
        raise BadInput(f"mode must be one of {', '.join(MODES)}")
    if page < 1 or page_size < 1:
        raise BadInput("page and page_size must be positive")
    query = " ".join(query.split())
    result = SearchPage(query=query, mode=mode, filters=filters, page=page, page_size=page_size, total=0)
    if not query:
        return result
    keyword: list[Hit] = []
    dense: list[Hit] = []
    if mode != "keyword" and vectors is not None and embed is not None:
        # The two rankings run side by side: the keyword query in the database (which releases the GIL) while this
        # thread embeds the query, so a hybrid search takes about as long as the slower half, not their sum.
        pending = _POOL.submit(store.keyword_search, query, candidates, filters) if mode == "hybrid" else None
        try:
            wanted = min(candidates, FILTERED_VECTOR_CANDIDATES) if filters.active else candidates
            dense = vectors.search(embed(query), wanted, filters)
        finally:
            keyword = pending.result() if pending is not None else []
    elif mode != "semantic":
        keyword = store.keyword_search(query, candidates, filters)
    rankings = [[h.pk for h in keyword], [h.pk for h in dense]]
    pinned = pinned_paper(store, query, filters)
    long_text = is_long(query)
    fused = _fuse(store, rankings, pinned, rrf_k, long_text)
    result.total = len(fused)
    window = fused[(page - 1) * page_size : page * page_size]
    papers = {p.pk: p for p in store.get_papers_by_pk([pk for pk, _ in window])}
    kw_rank = {pk: i for i, pk in enumerate(rankings[0], start=1)}
    vec_rank = {pk: i for i, pk in enumerate(rankings[1], start=1)}
    terms = _highlight_terms(query, keyword, long_text)
    for pk, score in window:
        paper = papers.get(pk)
        if paper is None:  # deleted between ranking and fetching
            continue
        result.results.append(
            SearchResult(
                paper=paper,
                score=score,
                pinned=pinned is not None and pk == pinned.pk,
                keyword_rank=kw_rank.get(pk),
                vector_rank=vec_rank.get(pk),
                title_html=highlight(paper.title, terms),
                abstract_html=highlight(paper.abstract, terms),
            )
        )
    return result
