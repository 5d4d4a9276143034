"""The daily list: ``/`` (the latest day with papers), ``/papers/date/…``, ``/papers/week/…``, ``/papers/month/…``.

These routes must be included before :mod:`dailypapers.web.routes.papers`, whose ``/papers/{id}`` would
otherwise take ``/papers/date/2026-11-20`` for a paper id.

Every page also answers ``HEAD`` (:func:`dailypapers.web.routes.allow_head`): FastAPI registers a ``GET`` route
for ``GET`` alone, so ``HEAD /`` (what uptime checks and link checkers send) was a 405. The server sends no body
for ``HEAD``.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request
from fastapi.responses import HTMLResponse
from starlette.responses import Response

from dailypapers.papers.periods import day_period
from dailypapers.web.routes import (
    IsoDate,
    LibraryDep,
    MonthText,
    PageParam,
    PeriodView,
    SortParam,
    WeekText,
    allow_head,
    latest_view,
    month_of,
    period_view,
    week_of,
)
from dailypapers.web.schemas import ERROR_RESPONSES
from dailypapers.web.templating import api_period_url, query_url, render
from dailypapers.web.voters import vote_buttons

router = APIRouter(tags=["pages"], responses=ERROR_RESPONSES, default_response_class=HTMLResponse)


def _render(request: Request, view: PeriodView, *, home: bool = False) -> Response:
    api = query_url(request, path="/api/latest" if home else api_period_url(view.period))
    context = {"view": view, "home": home, "json_url": api, "votes": vote_buttons(request, view.papers)}
    return render(request, "period.html", context)


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
    day: Annotated[IsoDate, Path(description="The day, YYYY-MM-DD (years 0001-9999).")],
    p: PageParam = 1,
    sort: SortParam = "added",
) -> Response:
    return _render(request, period_view(library, day_period(day), p, sort))


@router.get("/papers/week/{week}", summary="Papers added in an ISO week (HTML)")
def week_page(
    request: Request,
    library: LibraryDep,
    week: Annotated[WeekText, Path(description="The ISO week, YYYY-Www (years 1000-2999).")],
    p: PageParam = 1,
    sort: SortParam = "added",
) -> Response:
    return _render(request, period_view(library, week_of(week), p, sort))


@router.get("/papers/month/{month}", summary="Papers added in a month (HTML)")
def month_page(
    request: Request,
    library: LibraryDep,
    month: Annotated[MonthText, Path(description="The month, YYYY-MM (years 1000-2999).")],
    p: PageParam = 1,
    sort: SortParam = "added",
) -> Response:
    return _render(request, period_view(library, month_of(month), p, sort))


allow_head(router)
