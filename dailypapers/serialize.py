"""JSON renderings of papers, search pages and period pages: the native API and ``dailypapers search --json``.

Datetimes are ISO 8601 in UTC with a ``Z`` (``2021-06-17T17:37:18Z``); dates are ``YYYY-MM-DD``. The store's
internal integer key (``pk``) is left out: it differs between databases and is no use to a client; ``id`` is
the key.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from dailypapers.papers.models import Paper, utc
from dailypapers.papers.periods import Period
from dailypapers.papers.store import Filters
from dailypapers.search.hybrid import SearchPage, SearchResult


def iso_datetime(value: datetime | None) -> str | None:
    """``2021-06-17T17:37:18Z`` (naive values are taken to be UTC)."""
    moment = utc(value)
    return moment.isoformat().replace("+00:00", "Z") if moment else None


def iso_date(value: date | None) -> str | None:
    return value.isoformat() if value else None


def paper_json(paper: Paper, comments: Mapping[int, int] | None = None) -> dict[str, Any]:
    """Every field of a paper, plus its display date, the path of its page and — on lists, which count them in one
    query (``comments``: paper key -> visible comments) — its number of comments (null where not counted)."""
    return {
        "id": paper.id,
        "title": paper.title,
        "abstract": paper.abstract,
        "version": paper.version,
        "authors": list(paper.authors),
        "affiliations": list(paper.affiliations),
        "categories": list(paper.categories),
        "primary_category": paper.primary_category,
        "published": iso_datetime(paper.published),
        "updated": iso_datetime(paper.updated),
        "added_at": iso_date(paper.added_at),
        "display_date": iso_date(paper.display_date),
        "comment": paper.comment,
        "journal_ref": paper.journal_ref,
        "doi": paper.doi,
        "abs_url": paper.abs_url,
        "pdf_url": paper.pdf_url,
        "code_url": paper.code_url,
        "project_url": paper.project_url,
        "upvotes": paper.upvotes,
        "source": paper.source,
        "url": "/papers/" + paper.id,
        "comments": None if comments is None else comments.get(paper.pk or 0, 0),
    }


def filters_json(filters: Filters) -> dict[str, Any]:
    return {
        "since": iso_date(filters.since),
        "until": iso_date(filters.until),
        "category": filters.category,
        "author": filters.author,
        "added_since": iso_date(filters.added_since),
        "added_until": iso_date(filters.added_until),
    }


def result_json(result: SearchResult, comments: Mapping[int, int] | None = None) -> dict[str, Any]:
    """A search hit: the paper's fields with its score, ranks and highlighted (HTML-escaped) title and abstract."""
    return {
        **paper_json(result.paper, comments),
        "score": result.score,
        "pinned": result.pinned,
        "keyword_rank": result.keyword_rank,
        "vector_rank": result.vector_rank,
        "title_html": str(result.title_html),
        "abstract_html": str(result.abstract_html),
    }


def search_json(page: SearchPage, comments: Mapping[int, int] | None = None) -> dict[str, Any]:
    """A page of search results (``comments``: their comment counts, see :func:`paper_json`)."""
    return {
        "query": page.query,
        "mode": page.mode,
        "filters": filters_json(page.filters),
        "page": page.page,
        "page_size": page.page_size,
        "total": page.total,
        "has_next": page.has_next,
        "results": [result_json(r, comments) for r in page.results],
    }


def period_json(
    period: Period,
    papers: list[Paper],
    *,
    prev: Period | None,
    next: Period | None,
    total: int,
    page: int,
    page_size: int,
    sort: str,
    comments: Mapping[int, int] | None = None,
) -> dict[str, Any]:
    """A page of the papers added in a day, week or month, with the keys of the periods before and after."""
    return {
        "kind": period.kind,
        "key": period.key,
        "label": period.label,
        "start": period.start.isoformat(),
        "end": period.end.isoformat(),
        "prev": prev.key if prev else None,
        "next": next.key if next else None,
        "total": total,
        "page": page,
        "page_size": page_size,
        "has_next": page * page_size < total,
        "sort": sort,
        "papers": [paper_json(p, comments) for p in papers],
    }


def similar_json(paper: Paper, similar: list[tuple[Paper, float]]) -> dict[str, Any]:
    """A paper and its nearest neighbours, each with its cosine similarity as ``score``."""
    return {"paper": paper_json(paper), "similar": [{**paper_json(p), "score": s} for p, s in similar]}
