"""The Trending page: ``/trending`` (HTML), ``/api/trending`` (JSON) and ``/feeds/trending.atom`` (Atom), one view.

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
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, Field
from starlette.responses import Response

from dailypapers.library import Library
from dailypapers.papers.models import Paper
from dailypapers.papers.periods import Period
from dailypapers.papers.trending import paper_score
from dailypapers.serialize import paper_json
from dailypapers.web.deps import LibraryDep
from dailypapers.web.feeds import ATOM, atom_response
from dailypapers.web.params import PageParam
from dailypapers.web.responses import Paged, allow_head
from dailypapers.web.schemas import ERROR_RESPONSES, PaperOut
from dailypapers.web.templating import SITE_NAME, query_url, render
from dailypapers.web.voters import vote_buttons, with_set_links

Window = Literal["day", "week", "month"]
WINDOW_DAYS: dict[str, int] = {"day": 1, "week": 7, "month": 30}
WindowParam = Annotated[
    Window,
    Query(description="Which papers compete: those added on the newest day, in the last 7 days or the last 30 days."),
]

router = APIRouter(tags=["pages"], responses=ERROR_RESPONSES, default_response_class=HTMLResponse)
api_router = APIRouter(prefix="/api", tags=["api"], responses=ERROR_RESPONSES)
feeds_router = APIRouter(prefix="/feeds", tags=["feeds"], responses=ERROR_RESPONSES)


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


def trending_json(library: Library, view: TrendingView) -> dict[str, Any]:
    comments = library.comments.counts([p.pk for p in view.papers if p.pk is not None])
    return {
        "window": view.window,
        "start": view.period.start.isoformat() if view.period else None,
        "end": view.period.end.isoformat() if view.period else None,
        "total": view.total,
        "page": view.page,
        "page_size": view.page_size,
        "has_next": view.has_next,
        "papers": [{**paper_json(p, comments), "score": view.score(p)} for p in with_set_links(library, view.papers)],
    }


@feeds_router.get(
    "/trending.atom",
    response_model=None,
    response_class=Response,
    responses={200: {"content": {ATOM: {}}, "description": "An Atom feed (RFC 4287) of the trending papers."}},
    summary="Trending papers (Atom)",
)
@router.get("/trending", response_model=None, summary="Trending papers (HTML)")
@api_router.get("/trending", response_model=TrendingOut, summary="Trending papers")
def trending(request: Request, library: LibraryDep, window: WindowParam = "week", p: PageParam = 1) -> Any:
    """The papers of the last day, week or month, by upvotes decayed with age (highest first)."""
    view = trending_view(library, window, p)
    path = request.url.path
    if path.startswith("/api/"):
        return trending_json(library, view)
    feed = "/feeds/trending.atom" + ("" if window == "week" else f"?window={window}")
    if path.endswith(".atom"):
        page = "/trending" + ("" if window == "week" else f"?window={window}")
        title = f"{SITE_NAME}: trending papers of the last {window}"
        return atom_response(request, title=title, page_path=page, papers=view.papers, subtitle="Ranked now")
    context = {
        "view": view,
        "windows": list(WINDOW_DAYS),
        "json_url": query_url(request, path="/api/trending"),
        "feed_url": feed,
        "votes": vote_buttons(request, view.papers),
    }
    return render(request, "trending.html", context)


allow_head(router)
allow_head(feeds_router)
