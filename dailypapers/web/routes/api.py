"""The native JSON API of search and similar papers (``/api/search``, ``/api/similar/…``); the daily lists'
JSON (``/api/days/…``, ``/api/latest``, …) is served by the views of :mod:`dailypapers.web.routes.pages`.

Each endpoint calls the same builder as its HTML page and renders the result with :mod:`dailypapers.serialize`.
``/api/papers/…`` and ``/api/daily_papers`` are not here: they belong to the Hugging Face compatible API.
"""

from __future__ import annotations

import dataclasses
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path, Query

from dailypapers.serialize import search_json, similar_json
from dailypapers.web.routes import (
    LibraryDep,
    SearchRequestDep,
    allow_head,
    run_search,
)
from dailypapers.web.schemas import ERROR_RESPONSES, SearchOut, SimilarOut
from dailypapers.web.voters import with_set_links

router = APIRouter(prefix="/api", tags=["api"], responses=ERROR_RESPONSES)


@router.get("/search", response_model=SearchOut, summary="Search papers")
def api_search(library: LibraryDep, req: SearchRequestDep) -> dict[str, Any]:
    """Hybrid (keyword + semantic) search with filters; the data of the `/search` page.

    A query that names a paper exactly (arXiv id, abs URL, or its full title) puts that paper first with
    `pinned: true`.
    """
    page = run_search(library, req)
    shown = with_set_links(library, [r.paper for r in page.results])
    page.results = [dataclasses.replace(r, paper=p) for r, p in zip(page.results, shown, strict=True)]
    return search_json(page, library.comments.counts([p.pk for p in shown if p.pk is not None]))


@router.get("/similar/{paper_id:path}", response_model=SimilarOut, summary="Papers similar to a paper")
def api_similar(
    library: LibraryDep,
    paper_id: Annotated[str, Path(description="Paper id; a version suffix (`2106.09685v2`) is accepted.")],
    k: Annotated[int, Query(ge=1, le=50, description="How many similar papers (1-50).")] = 10,
) -> dict[str, Any]:
    """A paper and its nearest neighbours by embedding (the paper itself excluded)."""
    paper = library.papers.get(paper_id)
    if paper is None:
        raise HTTPException(404, f"No paper has the id '{paper_id[:200]}'.")
    return similar_json(paper, library.search.similar(paper, k))


allow_head(router)  # HEAD wherever GET (see dailypapers.web.routes.allow_head)
