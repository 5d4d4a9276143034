"""The daily list: ``/`` (the latest day), ``/papers/date/{day}``, ``/papers/week/{week}``, ``/papers/month/{month}``.

Each is one view (:func:`period_view` builds a :class:`PeriodView`) with three renderings registered by
:func:`dailypapers.web.views.view`: the page, its JSON twin (``/api/latest``, ``/api/days/{day}``,
``/api/weeks/{week}``, ``/api/months/{month}``: :func:`dailypapers.serialize.period_json`, checked against
``PeriodOut``) and its Atom feed (``/feeds/latest.atom``, ``/feeds/days/{day}.atom``, …), paged like the page
(``p``) with RFC 5005's ``first``/``previous``/``next``/``last`` links. The router must be
included before the paper page's, whose ``/papers/{id}`` would otherwise take ``/papers/date/2026-11-20`` for a
paper id.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path, Request
from starlette.responses import Response

from dailypapers.library import Library
from dailypapers.papers.models import Paper
from dailypapers.papers.periods import Period, day_period
from dailypapers.serialize import period_json
from dailypapers.web.deps import LibraryDep
from dailypapers.web.feeds import atom_response, local_today
from dailypapers.web.params import IsoDate, MonthText, PageParam, SortParam, WeekText, month_of, week_of
from dailypapers.web.responses import Paged
from dailypapers.web.schemas import ERROR_RESPONSES, PeriodOut
from dailypapers.web.templating import SITE_NAME, api_period_url, period_url, query_url, render, shift
from dailypapers.web.views import Atom, Html, Json, view
from dailypapers.web.voters import vote_buttons, with_set_links

router = APIRouter(responses=ERROR_RESPONSES)

DayPath = Annotated[IsoDate, Path(description="The day, YYYY-MM-DD (years 0001-9999).", examples=["2026-11-20"])]
WeekPath = Annotated[
    WeekText,
    Path(
        description="The ISO week, YYYY-Www (years 1000-2999; W53 only in years that have one).", examples=["2026-W47"]
    ),
]
MonthPath = Annotated[MonthText, Path(description="The month, YYYY-MM (years 1000-2999).", examples=["2026-11"])]


@dataclass
class PeriodView(Paged):
    """The data of a day, week or month page (and of its JSON twin and feed)."""

    period: Period
    prev: Period | None
    next: Period | None
    total: int
    page: int
    page_size: int
    sort: str
    papers: list[Paper]
    home: bool = False


def period_view(library: Library, period: Period, page: int = 1, sort: str = "added") -> PeriodView:
    """One page of the papers added in ``period``. Days step to the nearest day that has papers; weeks and
    months to the adjacent one (none past the calendar's ends)."""
    if period.kind == "day":
        before, after = library.papers.neighbour_days(period.start)
        prev = day_period(before) if before else None
        nxt = day_period(after) if after else None
    else:
        prev, nxt = shift(period, -1), shift(period, 1)
    size = library.config.page_size
    papers = library.papers.in_period(period, limit=size, offset=(page - 1) * size, sort=sort)
    return PeriodView(period, prev, nxt, library.papers.count_in(period), page, size, sort, papers)


def feed_path(view: PeriodView) -> str:
    """The Atom feed of a period page (the home page's is the latest day's, wherever that moves)."""
    return "/feeds/latest.atom" if view.home else f"/feeds/{view.period.kind}s/{view.period.key}.atom"


def _json(request: Request, view: PeriodView) -> dict[str, Any]:
    library = request.app.state.library
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


def _feed(request: Request, view: PeriodView) -> Response:
    final = view.period.end < local_today(request.app.state.library.config.time_zone)  # no more papers join it
    title = f"{SITE_NAME}: papers of {view.period.label}"
    paging = (view.page, view.pages)  # RFC 5005 §3: one page a document, linked, so a reader gets every page
    return atom_response(
        request, title=title, page_path=period_url(view.period), papers=view.papers, final=final, paging=paging
    )


def _context(request: Request, view: PeriodView) -> dict[str, Any]:
    api = query_url(request, path="/api/latest" if view.home else api_period_url(view.period))
    return {
        "view": view,
        "home": view.home,
        "json_url": api,
        "feed_url": feed_path(view),
        "votes": vote_buttons(request, view.papers),
    }


def _renderings(html: str, json: str, atom: str, what: str) -> tuple[Html, Json, Atom]:
    return (
        Html(html, "period.html", _context, summary=f"{what} (HTML)"),
        Json(json, PeriodOut, _json, summary=what),
        Atom(atom, _feed, summary=f"{what} (Atom)"),
    )


def _empty(request: Request) -> Response:
    """The home page of an empty library says how to import papers; its JSON and feed answer 404."""
    if request.url.path == "/":
        return render(request, "empty.html", {"json_url": None})
    raise HTTPException(404, "There are no papers yet; import some with `dailypapers ingest`.")


@view(router, *_renderings("/", "/api/latest", "/feeds/latest.atom", "The latest day with papers"))
def latest(request: Request, library: LibraryDep, p: PageParam = 1, sort: SortParam = "added") -> PeriodView | Response:
    """The home page: the latest day that has papers (the page says how to import some while the library is
    empty; the JSON answers 404)."""
    latest_day: date | None = library.papers.latest_day()
    if latest_day is None:
        return _empty(request)
    found = period_view(library, day_period(latest_day), p, sort)
    found.home = True
    return found


@view(router, *_renderings("/papers/date/{day}", "/api/days/{day}", "/feeds/days/{day}.atom", "Papers added on a day"))
def day(library: LibraryDep, day: DayPath, p: PageParam = 1, sort: SortParam = "added") -> PeriodView:
    """The papers that entered the daily list on `day`; `prev`/`next` are the nearest days with papers."""
    return period_view(library, day_period(day), p, sort)


@view(
    router,
    *_renderings("/papers/week/{week}", "/api/weeks/{week}", "/feeds/weeks/{week}.atom", "Papers added in an ISO week"),
)
def week(library: LibraryDep, week: WeekPath, p: PageParam = 1, sort: SortParam = "added") -> PeriodView:
    """The papers added in an ISO week (Monday to Sunday); 404 for week 53 of a year that has 52."""
    return period_view(library, week_of(week), p, sort)


@view(
    router,
    *_renderings(
        "/papers/month/{month}", "/api/months/{month}", "/feeds/months/{month}.atom", "Papers added in a month"
    ),
)
def month(library: LibraryDep, month: MonthPath, p: PageParam = 1, sort: SortParam = "added") -> PeriodView:
    """The papers added in a calendar month."""
    return period_view(library, month_of(month), p, sort)
