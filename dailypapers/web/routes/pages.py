"""The daily list, one view per page rendered as HTML or JSON: ``/`` and ``/api/latest``, ``/papers/date/{day}`` and
``/api/days/{day}``, ``/papers/week/{week}`` and ``/api/weeks/{week}``, ``/papers/month/{month}`` and
``/api/months/{month}``.

Each view function is registered three times — on :data:`router` (HTML, tag ``pages``), :data:`api_router` (JSON,
tag ``api``) and :data:`feeds_router` (Atom, ``/feeds/latest.atom``, ``/feeds/days/{day}.atom``, …) — builds one
:class:`~dailypapers.web.routes.PeriodView`, and :func:`respond` renders it as the path asks: a page, the JSON of
:func:`dailypapers.serialize.period_json` (checked against ``PeriodOut``), or an Atom feed
(:mod:`dailypapers.web.feeds`). The HTML
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

from dailypapers.library import Library
from dailypapers.papers.periods import day_period
from dailypapers.serialize import period_json
from dailypapers.web.feeds import ATOM, atom_response, local_today
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
from dailypapers.web.templating import SITE_NAME, api_period_url, period_url, query_url, render
from dailypapers.web.voters import vote_buttons, with_set_links

router = APIRouter(tags=["pages"], responses=ERROR_RESPONSES, default_response_class=HTMLResponse)
api_router = APIRouter(prefix="/api", tags=["api"], responses=ERROR_RESPONSES)
feeds_router = APIRouter(prefix="/feeds", tags=["feeds"], responses=ERROR_RESPONSES)
_ATOM: dict[int | str, dict[str, Any]] = {
    200: {"content": {ATOM: {}}, "description": "An Atom feed (RFC 4287) of the list."}
}
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


def feed_path(view: PeriodView, *, home: bool = False) -> str:
    """The Atom feed of a period page (the home page's is the latest day's, wherever that moves)."""
    return "/feeds/latest.atom" if home else f"/feeds/{view.period.kind}s/{view.period.key}.atom"


def _final(request: Request, view: PeriodView) -> bool:
    """Whether no more papers join ``view``'s period: it ended before today in the configured time zone."""
    return view.period.end < local_today(request.app.state.library.config.time_zone)


def view_json(library: Library, view: PeriodView) -> dict[str, Any]:
    return period_json(
        view.period,
        with_set_links(library, view.papers),
        prev=view.prev,
        next=view.next,
        total=view.total,
        page=view.page,
        page_size=view.page_size,
        sort=view.sort,
        comments=library.comments.counts([p.pk for p in view.papers if p.pk is not None]),
    )


def respond(request: Request, view: PeriodView, *, home: bool = False) -> Rendered:
    """``view`` as the request's path asks: its JSON under ``/api/``, else the page (which links to that JSON)."""
    if as_json(request):
        return view_json(request.app.state.library, view)
    if request.url.path.endswith(".atom"):
        title = f"{SITE_NAME}: papers of {view.period.label}"
        page = period_url(view.period)
        return atom_response(request, title=title, page_path=page, papers=view.papers, final=_final(request, view))
    api = query_url(request, path="/api/latest" if home else api_period_url(view.period))
    context = {
        "view": view,
        "home": home,
        "json_url": api,
        "feed_url": feed_path(view, home=home),
        "votes": vote_buttons(request, view.papers),
    }
    return render(request, "period.html", context)


@feeds_router.get(
    "/latest.atom", response_model=None, response_class=Response, responses=_ATOM, summary="The latest day (Atom)"
)
@router.get("/", response_model=None, summary="The latest day with papers (HTML)")
@api_router.get("/latest", response_model=PeriodOut, summary="The latest day with papers")
def latest(request: Request, library: LibraryDep, p: PageParam = 1, sort: SortParam = "added") -> Rendered:
    """The home page: the latest day that has papers (the page says how to import some while the library is
    empty; the JSON answers 404)."""
    view = latest_view(library, p, sort)
    if view is not None:
        return respond(request, view, home=True)
    if as_json(request) or request.url.path.endswith(".atom"):
        raise HTTPException(404, "There are no papers yet; import some with `dailypapers ingest`.")
    return render(request, "empty.html", {"json_url": None})


@feeds_router.get(
    "/days/{day}.atom", response_model=None, response_class=Response, responses=_ATOM, summary="A day's papers (Atom)"
)
@router.get("/papers/date/{day}", response_model=None, summary="Papers added on a day (HTML)")
@api_router.get("/days/{day}", response_model=PeriodOut, summary="Papers added on a day")
def day(request: Request, library: LibraryDep, day: DayPath, p: PageParam = 1, sort: SortParam = "added") -> Rendered:
    """The papers that entered the daily list on `day`; `prev`/`next` are the nearest days with papers."""
    return respond(request, period_view(library, day_period(day), p, sort))


@feeds_router.get(
    "/weeks/{week}.atom",
    response_model=None,
    response_class=Response,
    responses=_ATOM,
    summary="A week's papers (Atom)",
)
@router.get("/papers/week/{week}", response_model=None, summary="Papers added in an ISO week (HTML)")
@api_router.get("/weeks/{week}", response_model=PeriodOut, summary="Papers added in an ISO week")
def week(
    request: Request, library: LibraryDep, week: WeekPath, p: PageParam = 1, sort: SortParam = "added"
) -> Rendered:
    """The papers added in an ISO week (Monday to Sunday); 404 for week 53 of a year that has 52."""
    return respond(request, period_view(library, week_of(week), p, sort))


@feeds_router.get(
    "/months/{month}.atom",
    response_model=None,
    response_class=Response,
    responses=_ATOM,
    summary="A month's papers (Atom)",
)
@router.get("/papers/month/{month}", response_model=None, summary="Papers added in a month (HTML)")
@api_router.get("/months/{month}", response_model=PeriodOut, summary="Papers added in a month")
def month(
    request: Request, library: LibraryDep, month: MonthPath, p: PageParam = 1, sort: SortParam = "added"
) -> Rendered:
    """The papers added in a calendar month."""
    return respond(request, period_view(library, month_of(month), p, sort))


allow_head(router)
allow_head(api_router)
allow_head(feeds_router)
