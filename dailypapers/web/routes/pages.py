"""The daily list: ``/`` (the latest day with papers), ``/papers/date/…``, ``/papers/week/…``, ``/papers/month/…``.

These routes must be included before :mod:`dailypapers.web.routes.papers`, whose ``/papers/{id}`` would
otherwise take ``/papers/date/2026-11-20`` for a paper id.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request
from fastapi.responses import HTMLResponse
from starlette.responses import Response

from dailypapers.web.routes import LibraryDep, PageParam, PeriodView, SortParam, latest_view, parse_period, period_view
from dailypapers.web.schemas import ERROR_RESPONSES
from dailypapers.web.templating import api_period_url, query_url, render

router = APIRouter(tags=["pages"], responses=ERROR_RESPONSES, default_response_class=HTMLResponse)


def _render(request: Request, view: PeriodView, *, home: bool = False) -> Response:
    api = query_url(request, path="/api/latest" if home else api_period_url(view.period))
    return render(request, "period.html", {"view": view, "home": home, "json_url": api})


@router.get("/", summary="The latest day with papers (HTML)")
def home(request: Request, library: LibraryDep, p: PageParam = 1, sort: SortParam = "added") -> Response:
    """The home page: the latest day that has papers, or how to import some."""
    view = latest_view(library, p, sort)
    if view is None:
        return render(request, "empty.html", {"json_url": None})
    return _render(request, view, home=True)


@router.get("/papers/date/{day}", summary="Papers added on a day (HTML)")
def day_page(
    request: Request,
    library: LibraryDep,
    day: Annotated[str, Path(description="The day, YYYY-MM-DD.")],
    p: PageParam = 1,
    sort: SortParam = "added",
) -> Response:
    return _render(request, period_view(library, parse_period("day", day), p, sort))


@router.get("/papers/week/{week}", summary="Papers added in an ISO week (HTML)")
def week_page(
    request: Request,
    library: LibraryDep,
    week: Annotated[str, Path(description="The ISO week, YYYY-Www.")],
    p: PageParam = 1,
    sort: SortParam = "added",
) -> Response:
    return _render(request, period_view(library, parse_period("week", week), p, sort))


@router.get("/papers/month/{month}", summary="Papers added in a month (HTML)")
def month_page(
    request: Request,
    library: LibraryDep,
    month: Annotated[str, Path(description="The month, YYYY-MM.")],
    p: PageParam = 1,
    sort: SortParam = "added",
) -> Response:
    return _render(request, period_view(library, parse_period("month", month), p, sort))
