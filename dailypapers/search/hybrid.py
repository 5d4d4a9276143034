"""Hybrid search: BM25 and embedding rankings fused, exact ids and titles pinned first, filtered and paged.

Runs the same on both backends: the store supplies the keyword ranking, a
:class:`~dailypapers.search.vectors.base.VectorIndex` the semantic one, gathered and fused by
:mod:`dailypapers.search.fusion` (the step similar papers, recommendations and alerts share). A query may be a whole
pasted abstract: the store then searches its most distinctive terms (:mod:`dailypapers.papers.store.terms`), and the
fusion weighs the two rankings for a long text rather than for a few keywords
(:func:`~dailypapers.search.fusion.fusion_weights`). Hidden papers are never candidates (the store's rule).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from markupsafe import Markup

from dailypapers.errors import BadInput
from dailypapers.papers.models import Filters, Paper, parse_arxiv_id
from dailypapers.papers.store.base import Hit, Store
from dailypapers.papers.store.terms import is_long, query_terms
from dailypapers.search import timing
from dailypapers.search.fusion import Candidates, fuse, gather, papers_of
from dailypapers.search.highlight import highlight
from dailypapers.search.keyword import KeywordEngine
from dailypapers.search.vectors.base import VectorIndex

MODES = ("hybrid", "keyword", "semantic")
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
    """The paper the query names exactly, by arXiv id (any version, URL or ``arXiv:`` form) or by exact title, if it
    is shown (the store's lookups leave hidden papers out) and passes ``filters``."""
    parsed = parse_arxiv_id(query)
    paper = store.get_paper(parsed[0]) if parsed else None
    if paper is None and len(query) >= 8:
        paper = store.find_by_title(query)
    if paper is None or paper.pk is None:  # a stored paper always has its key
        return None
    return paper if not filters.active or store.filter_pks(filters, among=[paper.pk]) else None


def _highlight_terms(query: str, keyword: list[Hit], long_text: bool) -> list[str]:
    """The words to mark in results: a short query's own; for a long text the distinctive terms the keyword search
    chose (marking its first 32 words would mark "we", "propose", "model"), none without a keyword search."""
    if not long_text:
        return query_terms(query)
    chosen = keyword[0].extra.get("terms", ()) if keyword else ()
    return [str(t) for t in chosen] if isinstance(chosen, tuple | list) else []


def _candidates(
    store: Store,
    vectors: VectorIndex | None,
    embed: Callable[[str], np.ndarray] | None,
    query: str,
    filters: Filters,
    mode: str,
    candidates: int,
    keywords: KeywordEngine | None,
) -> Candidates:
    """The rankings ``mode`` asks for: keyword (not in ``semantic`` mode) and vector (not in ``keyword`` mode, nor
    without an index and a model), the vector half asking fewer under a filter (:data:`FILTERED_VECTOR_CANDIDATES`)."""
    semantic = mode != "keyword" and embed is not None
    wanted = min(candidates, FILTERED_VECTOR_CANDIDATES) if filters.active else candidates
    return gather(
        store,
        query,
        filters,
        keyword_depth=candidates if mode != "semantic" else 0,
        vectors=vectors if semantic else None,
        query_vector=(lambda: embed(query)) if embed is not None else None,
        vector_depth=wanted,
        keywords=keywords,
    )


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
    keywords: KeywordEngine | None = None,
) -> SearchPage:
    """Rank papers for ``query``. ``embed`` turns text into a query vector; without it search is keyword-only.
    ``keywords`` ranks by keywords (default: the store's own index)."""
    if mode not in MODES:
        raise BadInput(f"mode must be one of {', '.join(MODES)}")
    if page < 1 or page_size < 1:
        raise BadInput("page and page_size must be positive")
    query = " ".join(query.split())
    result = SearchPage(query=query, mode=mode, filters=filters, page=page, page_size=page_size, total=0)
    if not query:
        return result
    with timing.timed(f"search:{mode}"):
        return _ranked(result, store, vectors, embed, candidates, rrf_k, keywords)


def _ranked(
    result: SearchPage,
    store: Store,
    vectors: VectorIndex | None,
    embed: Callable[[str], np.ndarray] | None,
    candidates: int,
    rrf_k: int,
    keywords: KeywordEngine | None,
) -> SearchPage:
    """``result`` (a page of a non-empty query) filled with its ranked, highlighted papers."""
    query, filters, mode, page, page_size = result.query, result.filters, result.mode, result.page, result.page_size
    found = _candidates(store, vectors, embed, query, filters, mode, candidates, keywords)
    rankings = found.rankings()
    pinned = pinned_paper(store, query, filters)
    long_text = is_long(query)
    fused = fuse(rankings, k=rrf_k, long_text=long_text, pinned=pinned.pk if pinned is not None else None)
    result.total = len(fused)
    window = fused[(page - 1) * page_size : page * page_size]
    papers = papers_of(store, [pk for pk, _ in window])
    kw_rank = {pk: i for i, pk in enumerate(rankings[0], start=1)}
    vec_rank = {pk: i for i, pk in enumerate(rankings[1], start=1)}
    terms = _highlight_terms(query, found.keyword, long_text)
    for pk, score in window:
        paper = papers.get(pk)
        if paper is None:  # deleted or hidden between ranking and fetching
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
