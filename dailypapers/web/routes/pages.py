"""The daily list, one view per page rendered as HTML or JSON: ``/`` and ``/api/latest``, ``/papers/date/{day}`` and
``/api/days/{day}``, ``/papers/week/{week}`` and ``/api/weeks/{week}``, ``/papers/month/{month}`` and
``/api/months/{month}``.

Each view function is registered twice — on :data:`router` (HTML, tag ``pages``) and on :data:`api_router` (JSON,
tag ``api``) — builds one :class:`~dailypapers.web.routes.PeriodView`, and :func:`respond` renders it as the path
asks: a page, or the JSON of :func:`dailypapers.serialize.period_json` (checked against ``PeriodOut``). The HTML
routes must be included before :mod:`dailypapers.web.routes.papers`, whose ``/papers/{id}`` would otherwise take
``/papers/date/2026-11-20`` for a paper id.

Every page also answers ``HEAD`` (:func:`dailypapers.web.routes.allow_head`): FastAPI registers a ``GET`` route
for ``GET`` alone, so ``HEAD /`` (what uptime checks and link checkers send) was a 405. The server sends no body
for ``HEAD``.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path, Request
from fastapi.responses import HTMLResponse
from starlette.responses import Response

from dailypapers.papers.periods import day_period
from dailypapers.serialize import period_json
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
from dailypapers.web.schemas import ERROR_RESPONSES, PeriodOut
from dailypapers.web.templating import api_period_url, query_url, render
from dailypapers.web.voters import vote_buttons

router = APIRouter(tags=["pages"], responses=ERROR_RESPONSES, default_response_class=HTMLResponse)
api_router = APIRouter(prefix="/api", tags=["api"], responses=ERROR_RESPONSES)
Rendered = Response | dict[str, Any]  # a page, or the JSON data FastAPI checks against the route's model

DayPath = Annotated[IsoDate, Path(description="The day, YYYY-MM-DD (years 0001-9999).", examples=["2026-11-20"])]
WeekPath = Annotated[
    WeekText,
    Path(
        description="The ISO week, YYYY-Www (years 1000-2999; W53 only in years that have one).", examples=["2026-W47"]
    ),
]
MonthPath = Annotated[MonthText, Path(description="The month, YYYY-MM (years 1000-2999).", examples=["2026-11"])]


def as_json(request: Request) -> bool:
    return request.url.path.startswith("/api/")


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


def respond(request: Request, view: PeriodView, *, home: bool = False) -> Rendered:
    """``view`` as the request's path asks: its JSON under ``/api/``, else the page (which links to that JSON)."""
    if as_json(request):
        return view_json(view)
    api = query_url(request, path="/api/latest" if home else api_period_url(view.period))
    context = {"view": view, "home": home, "json_url": api, "votes": vote_buttons(request, view.papers)}
    return render(request, "period.html", context)


@router.get("/", response_model=None, summary="The latest day with papers (HTML)")
@api_router.get("/latest", response_model=PeriodOut, summary="The latest day with papers")
def latest(request: Request, library: LibraryDep, p: PageParam = 1, sort: SortParam = "added") -> Rendered:
    """The home page: the latest day that has papers (the page says how to import some while the library is
    empty; the JSON answers 404)."""
    view = latest_view(library, p, sort)
    if view is not None:
        return respond(request, view, home=True)
    if as_json(request):
        raise HTTPException(404, "There are no papers yet; import some with `dailypapers ingest`.")
    return render(request, "empty.html", {"json_url": None})


@router.get("/papers/date/{day}", response_model=None, summary="Papers added on a day (HTML)")
@api_router.get("/days/{day}", response_model=PeriodOut, summary="Papers added on a day")
def day(request: Request, library: LibraryDep, day: DayPath, p: PageParam = 1, sort: SortParam = "added") -> Rendered:
    """The papers that entered the daily list on `day`; `prev`/`next` are the nearest days with papers."""
    return respond(request, period_view(library, day_period(day), p, sort))


@router.get("/papers/week/{week}", response_model=None, summary="Papers added in an ISO week (HTML)")
@api_router.get("/weeks/{week}", response_model=PeriodOut, summary="Papers added in an ISO week")
def week(
    request: Request, library: LibraryDep, week: WeekPath, p: PageParam = 1, sort: SortParam = "added"
) -> Rendered:
    """The papers added in an ISO week (Monday to Sunday); 404 for week 53 of a year that has 52."""
    return respond(request, period_view(library, week_of(week), p, sort))


@router.get("/papers/month/{month}", response_model=None, summary="Papers added in a month (HTML)")
@api_router.get("/months/{month}", response_model=PeriodOut, summary="Papers added in a month")
def month(
    request: Request, library: LibraryDep, month: MonthPath, p: PageParam = 1, sort: SortParam = "added"
) -> Rendered:
    """The papers added in a calendar month."""
    return respond(request, period_view(library, month_of(month), p, sort))


allow_head(router)
allow_head(api_router)
