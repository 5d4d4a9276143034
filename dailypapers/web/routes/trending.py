"""The Trending page: ``/trending`` (HTML), ``/api/trending`` (JSON) and ``/feeds/trending.atom`` (Atom): one view.

Papers of a window — the last ``day``, ``week`` (the default) or ``month`` of days, ending with the newest day
that has papers, so the page is never empty on a quiet morning — ranked by the time-decayed score of
:mod:`dailypapers.papers.trending` (``upvotes / (age_hours + 2) ** 1.5``, age from the day the paper entered the
list). The database computes the order (:mod:`dailypapers.papers.store.list_sql`); Python only scores the page
being shown, for display.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field
from starlette.responses import Response

from dailypapers.library import Library
from dailypapers.papers.models import Paper
from dailypapers.papers.periods import Period
from dailypapers.papers.trending import paper_score
from dailypapers.serialize import paper_json
from dailypapers.web.deps import LibraryDep
from dailypapers.web.feeds import atom_response
from dailypapers.web.params import PageParam
from dailypapers.web.responses import Paged
from dailypapers.web.schemas import ERROR_RESPONSES, PaperOut
from dailypapers.web.templating import SITE_NAME, query_url
from dailypapers.web.views import Atom, Html, Json, view
from dailypapers.web.voters import vote_buttons, with_set_links

Window = Literal["day", "week", "month"]
WINDOW_DAYS: dict[str, int] = {"day": 1, "week": 7, "month": 30}
WindowParam = Annotated[
    Window,
    Query(description="Which papers compete: those added on the newest day, in the last 7 days or the last 30 days."),
]

router = APIRouter(responses=ERROR_RESPONSES)


class TrendingPaperOut(PaperOut):
    score: float = Field(description="The trending score now: `upvotes / (age_hours + 2) ** 1.5`.")


class TrendingOut(BaseModel):
    window: Window
    start: str | None = Field(description="First day of the window (null when there are no papers).")
    end: str | None = Field(description="Last day of the window: the newest day that has papers.")
    total: int
    page: int
    page_size: int
    has_next: bool
    papers: list[TrendingPaperOut]


@dataclass
class TrendingView(Paged):
    window: str
    period: Period | None
    total: int
    page: int
    page_size: int
    papers: list[Paper]
    now: datetime

    def score(self, paper: Paper) -> float:
        return paper_score(paper, self.now)


def trending_view(library: Library, window: str, page: int) -> TrendingView:
    """One page of the window's papers, best trending score first."""
    now = datetime.now(UTC)
    size = library.config.page_size
    newest = library.papers.latest_day()
    if newest is None:
        return TrendingView(window, None, 0, page, size, [], now)
    period = Period("range", newest - timedelta(days=WINDOW_DAYS[window] - 1), newest)
    papers = library.papers.in_period(period, limit=size, offset=(page - 1) * size, sort="trending", now=now)
    return TrendingView(window, period, library.papers.count_in(period), page, size, papers, now)


def _json(request: Request, found: TrendingView) -> dict[str, Any]:
    library: Library = request.app.state.library
    comments = library.comments.counts([p.pk for p in found.papers if p.pk is not None])
    return {
        "window": found.window,
        "start": found.period.start.isoformat() if found.period else None,
        "end": found.period.end.isoformat() if found.period else None,
        "total": found.total,
        "page": found.page,
        "page_size": found.page_size,
        "has_next": found.has_next,
        "papers": [{**paper_json(p, comments), "score": found.score(p)} for p in with_set_links(library, found.papers)],
    }


def _window_query(found: TrendingView) -> str:
    return "" if found.window == "week" else f"?window={found.window}"


def _feed(request: Request, found: TrendingView) -> Response:
    title = f"{SITE_NAME}: trending papers of the last {found.window}"
    page = "/trending" + _window_query(found)
    return atom_response(request, title=title, page_path=page, papers=found.papers, subtitle="Ranked now")


def _context(request: Request, found: TrendingView) -> dict[str, Any]:
    return {
        "view": found,
        "windows": list(WINDOW_DAYS),
        "json_url": query_url(request, path="/api/trending"),
        "feed_url": "/feeds/trending.atom" + _window_query(found),
        "votes": vote_buttons(request, found.papers),
    }


@view(
    router,
    Html("/trending", "trending.html", _context, summary="Trending papers (HTML)"),
    Json("/api/trending", TrendingOut, _json, summary="Trending papers"),
    Atom(
        "/feeds/trending.atom",
        _feed,
        summary="Trending papers (Atom)",
        description="An Atom feed (RFC 4287) of the trending papers.",
    ),
)
def trending(library: LibraryDep, window: WindowParam = "week", p: PageParam = 1) -> TrendingView:
    """The papers of the last day, week or month, by upvotes decayed with age (highest first)."""
    return trending_view(library, window, p)
