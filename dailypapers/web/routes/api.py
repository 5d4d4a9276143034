"""The native JSON API: the data of every page, as JSON (``/api/search``, ``/api/days/…``, ``/api/similar/…``).

Each endpoint calls the same builder as its HTML page and renders the result with :mod:`dailypapers.serialize`.
``/api/papers/…`` and ``/api/daily_papers`` are not here: they belong to the Hugging Face compatible API.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path, Query

from dailypapers.papers.periods import day_period
from dailypapers.serialize import period_json, search_json, similar_json
from dailypapers.web.routes import (
    IsoDate,
    LibraryDep,
    MonthText,
    PageParam,
    PeriodView,
    SearchRequestDep,
    SortParam,
    WeekText,
    allow_head,
    latest_view,
    month_of,
    period_view,
    run_search,
    week_of,
)
from dailypapers.web.schemas import ERROR_RESPONSES, PeriodOut, SearchOut, SimilarOut

router = APIRouter(prefix="/api", tags=["api"], responses=ERROR_RESPONSES)


def view_json(view: PeriodView) -> dict[str, Any]:
    return period_json(
        view.period,
        view.papers,
        prev=view.prev,
        next=view.next,
        total=view.total,
        page=view.page,
        page_size=view.page_size,
        sort=view.sort,
    )


@router.get("/search", response_model=SearchOut, summary="Search papers")
def api_search(library: LibraryDep, req: SearchRequestDep) -> dict[str, Any]:
    """Hybrid (keyword + semantic) search with filters; the data of the `/search` page.

    A query that names a paper exactly (arXiv id, abs URL, or its full title) puts that paper first with
    `pinned: true`.
    """
    return search_json(run_search(library, req))


@router.get("/days/{day}", response_model=PeriodOut, summary="Papers added on a day")
def api_day(
    library: LibraryDep,
    day: Annotated[IsoDate, Path(description="The day, YYYY-MM-DD (years 0001-9999).", examples=["2026-11-20"])],
    p: PageParam = 1,
    sort: SortParam = "added",
) -> dict[str, Any]:
    """The papers that entered the daily list on `day`; `prev`/`next` are the nearest days with papers."""
    return view_json(period_view(library, day_period(day), p, sort))


@router.get("/weeks/{week}", response_model=PeriodOut, summary="Papers added in an ISO week")
def api_week(
    library: LibraryDep,
    week: Annotated[
        WeekText,
        Path(
            description="The ISO week, YYYY-Www (years 1000-2999; W53 only in years that have one).",
            examples=["2026-W47"],
        ),
    ],
    p: PageParam = 1,
    sort: SortParam = "added",
) -> dict[str, Any]:
    """The papers added in an ISO week (Monday to Sunday); 404 for week 53 of a year that has 52."""
    return view_json(period_view(library, week_of(week), p, sort))


@router.get("/months/{month}", response_model=PeriodOut, summary="Papers added in a month")
def api_month(
    library: LibraryDep,
    month: Annotated[MonthText, Path(description="The month, YYYY-MM (years 1000-2999).", examples=["2026-11"])],
    p: PageParam = 1,
    sort: SortParam = "added",
) -> dict[str, Any]:
    """The papers added in a calendar month."""
    return view_json(period_view(library, month_of(month), p, sort))


@router.get("/latest", response_model=PeriodOut, summary="The latest day with papers")
def api_latest(library: LibraryDep, p: PageParam = 1, sort: SortParam = "added") -> dict[str, Any]:
    """The data of the home page: the latest day that has papers (404 while the library is empty)."""
    view = latest_view(library, p, sort)
    if view is None:
        raise HTTPException(404, "There are no papers yet; import some with `dailypapers ingest`.")
    return view_json(view)


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
