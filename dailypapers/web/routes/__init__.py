"""What the page views and their JSON twins share: the library dependency, typed parameters, and the builders
of each page's data (a period's papers, a search), so an HTML page and its ``/api/`` twin show the same data.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Annotated, Literal

from fastapi import Depends, Query, Request

from dailypapers.models import Paper
from dailypapers.periods import Period, day_period, parse_day, parse_month, parse_week
from dailypapers.rank.search import SearchPage
from dailypapers.service import Library
from dailypapers.store import Filters
from dailypapers.web.errors import BadRequest
from dailypapers.web.templating import shift


def get_library(request: Request) -> Library:
    """The app's :class:`Library` (set by :func:`dailypapers.web.app.create_app`)."""
    library: Library = request.app.state.library
    return library


LibraryDep = Annotated[Library, Depends(get_library)]

MAX_PAGE = 10_000
Sort = Literal["added", "upvotes"]
Mode = Literal["hybrid", "keyword", "semantic"]
PageParam = Annotated[int, Query(ge=1, le=MAX_PAGE, description="Page number, from 1.")]
SortParam = Annotated[
    Sort, Query(description="Order of the list: `added` (newest first) or `upvotes` (most upvoted first).")
]

_PARSERS = {"day": parse_day, "week": parse_week, "month": parse_month}


def parse_period(kind: str, text: str) -> Period:
    """A day (``YYYY-MM-DD``), ISO week (``YYYY-Www``) or month (``YYYY-MM``); a 400 with a sentence if invalid."""
    try:
        return _PARSERS[kind](text)
    except (ValueError, OverflowError) as exc:
        message = str(exc) if isinstance(exc, ValueError) and str(exc).startswith("'") else f"'{text}' is out of range"
        raise BadRequest(message[:300]) from None


@dataclass
class PeriodView:
    """The data of a day, week or month page (and of its JSON twin)."""

    period: Period
    prev: Period | None
    next: Period | None
    total: int
    page: int
    page_size: int
    sort: str
    papers: list[Paper]

    @property
    def has_next(self) -> bool:
        return self.page * self.page_size < self.total

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.page_size))

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.page_size


def period_view(library: Library, period: Period, page: int = 1, sort: str = "added") -> PeriodView:
    """One page of the papers added in ``period``. Days step to the nearest day that has papers; weeks and
    months to the adjacent one."""
    if period.kind == "day":
        before, after = library.store.neighbour_days(period.start)
        prev = day_period(before) if before else None
        nxt = day_period(after) if after else None
    else:
        prev, nxt = shift(period, -1), shift(period, 1)
    size = library.config.page_size
    papers = library.papers_in(period, limit=size, offset=(page - 1) * size, sort=sort)
    return PeriodView(period, prev, nxt, library.count_in(period), page, size, sort, papers)


def latest_view(library: Library, page: int = 1, sort: str = "added") -> PeriodView | None:
    """The latest day that has papers, or ``None`` when the library is empty."""
    latest: date | None = library.store.latest_added_day()
    return period_view(library, day_period(latest), page, sort) if latest else None


def _optional_date(name: str, value: str | None) -> date | None:
    if value is None or not value.strip():
        return None
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise BadRequest(f"'{name}' must be a date of the form YYYY-MM-DD.") from None


@dataclass
class SearchRequest:
    """A search as the user typed it (the form keeps these values) and the filters parsed from it."""

    q: str
    mode: str
    page: int
    since: str
    until: str
    category: str
    author: str
    filters: Filters


def search_request(
    request: Request,
    q: Annotated[str, Query(description="What to look for: words, a title, or an arXiv id or URL.")] = "",
    since: Annotated[str | None, Query(description="Only papers dated on or after this day (YYYY-MM-DD).")] = None,
    until: Annotated[str | None, Query(description="Only papers dated on or before this day (YYYY-MM-DD).")] = None,
    category: Annotated[
        str | None, Query(max_length=100, description="Only papers in this category (`cs.LG`, or a prefix: `cs`).")
    ] = None,
    author: Annotated[
        str | None, Query(max_length=200, description="Only papers with an author whose name contains this.")
    ] = None,
    mode: Annotated[
        Mode, Query(description="`hybrid` (keywords and meaning, fused), `keyword` (BM25) or `semantic` (embeddings).")
    ] = "hybrid",
    p: PageParam = 1,
) -> SearchRequest:
    """Search parameters, checked: dates, query length."""
    limit = get_library(request).config.max_query_length
    if len(q) > limit:
        raise BadRequest(f"'q' must be at most {limit} characters.")
    filters = Filters(
        since=_optional_date("since", since),
        until=_optional_date("until", until),
        category=(category or "").strip() or None,
        author=(author or "").strip() or None,
    )
    if filters.since and filters.until and filters.since > filters.until:
        raise BadRequest("'since' must not be later than 'until'.")
    return SearchRequest(q, mode, p, since or "", until or "", category or "", author or "", filters)


SearchRequestDep = Annotated[SearchRequest, Depends(search_request)]


def run_search(library: Library, req: SearchRequest) -> SearchPage:
    """The page of results for ``req`` (the same call for the HTML page, the API and the CLI)."""
    return library.search(req.q, filters=req.filters, mode=req.mode, page=req.page)
