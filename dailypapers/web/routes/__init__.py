"""What the page views and their JSON twins share: the library dependency, typed parameters, and the builders
of each page's data (a period's papers, a search), so an HTML page and its ``/api/`` twin show the same data.

Parameters are documented exactly as they are checked: a day is an OpenAPI ``format: date`` (``YYYY-MM-DD``,
years 0001-9999), a week or a month matches :data:`WEEK_PATTERN` / :data:`MONTH_PATTERN` (years 1000-2999, as in
the Hugging Face compatible API), a query is at most :data:`MAX_QUERY_LENGTH` characters. A value outside them is
a 400 whose sentence names the parameter and the form it must have (see :mod:`dailypapers.web.errors`).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.routing import APIRoute
from pydantic import BeforeValidator, StringConstraints
from pydantic_core import PydanticCustomError
from starlette.responses import Response

from dailypapers.config import Config
from dailypapers.library import Library
from dailypapers.papers.bibtex import to_bibtex
from dailypapers.papers.models import Paper
from dailypapers.papers.periods import Period, day_period, parse_month, parse_week
from dailypapers.papers.store import Filters
from dailypapers.search.hybrid import SearchPage
from dailypapers.web.errors import BadRequest
from dailypapers.web.templating import shift


def get_library(request: Request) -> Library:
    """The app's :class:`Library` (set by :func:`dailypapers.web.app.create_app`)."""
    library: Library = request.app.state.library
    return library


LibraryDep = Annotated[Library, Depends(get_library)]

MAX_PAGE = 10_000
MAX_QUERY_LENGTH = Config.max_query_length
"""The longest query the schema documents (the configured default); a lower configured limit is checked too."""
WEEK_PATTERN = r"^[12][0-9]{3}-W(0[1-9]|[1-4][0-9]|5[0-3])$"
MONTH_PATTERN = r"^[12][0-9]{3}-(0[1-9]|1[0-2])$"
DAY_FORM = "a date (YYYY-MM-DD)"
WEEK_FORM = "an ISO week (YYYY-Www) with a year from 1000 to 2999"
MONTH_FORM = "a month (YYYY-MM) with a year from 1000 to 2999"
_DAY_TEXT = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")

Sort = Literal["added", "upvotes", "trending"]
Mode = Literal["hybrid", "keyword", "semantic"]
PageParam = Annotated[int, Query(ge=1, le=MAX_PAGE, description="Page number, from 1.")]
SortParam = Annotated[
    Sort,
    Query(
        description="Order of the list: `added` (newest first), `upvotes` (most upvoted first) or `trending`"
        " (upvotes decayed by age: `upvotes / (age_hours + 2) ** 1.5`)."
    ),
]


def bad_form(form: str) -> PydanticCustomError:
    """A validation error that :mod:`dailypapers.web.errors` words as "'<name>' must be <form>."."""
    return PydanticCustomError("bad_form", "must be {form}", {"form": form})


def _iso_date(value: object) -> object:
    """``YYYY-MM-DD`` and nothing else (pydantic alone would also take ``0`` or a datetime)."""
    if isinstance(value, date):
        return value
    if not isinstance(value, str) or not _DAY_TEXT.fullmatch(value):
        raise bad_form(DAY_FORM)
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise bad_form(DAY_FORM) from None


def _blank_or_iso_date(value: object) -> object:
    return None if isinstance(value, str) and not value.strip() else _iso_date(value)


def _matching(pattern: str, form: str) -> Callable[[object], object]:
    compiled = re.compile(pattern)

    def check(value: object) -> object:
        if not isinstance(value, str) or not compiled.fullmatch(value):
            raise bad_form(form)
        return value

    return check


IsoDate = Annotated[date, BeforeValidator(_iso_date)]
"""A day, ``YYYY-MM-DD`` (OpenAPI ``format: date``)."""
FormDate = Annotated[date | None, BeforeValidator(_blank_or_iso_date)]
"""A day from an HTML form, where an empty field means "no limit"."""
WeekText = Annotated[str, StringConstraints(pattern=WEEK_PATTERN), BeforeValidator(_matching(WEEK_PATTERN, WEEK_FORM))]
"""An ISO week, ``YYYY-Www`` (W53 names no week in most years: :func:`week_of` answers 404 for those)."""
MonthText = Annotated[
    str, StringConstraints(pattern=MONTH_PATTERN), BeforeValidator(_matching(MONTH_PATTERN, MONTH_FORM))
]
"""A month, ``YYYY-MM``."""


def week_of(text: str) -> Period:
    """The ISO week ``text`` (already of the form :data:`WEEK_PATTERN`); 404 when the year has no such week."""
    try:
        return parse_week(text)
    except ValueError:
        raise HTTPException(404, f"There is no week {text[-2:]} in {text[:4]}; it has 52 weeks.") from None


def month_of(text: str) -> Period:
    """The month ``text`` (already of the form :data:`MONTH_PATTERN`)."""
    return parse_month(text)


class Paged:
    """Paging of a list view that has ``total``, ``page`` (from 1) and ``page_size``."""

    total: int
    page: int
    page_size: int

    @property
    def has_next(self) -> bool:
        return self.page * self.page_size < self.total

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.page_size))

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.page_size


@dataclass
class PeriodView(Paged):
    """The data of a day, week or month page (and of its JSON twin)."""

    period: Period
    prev: Period | None
    next: Period | None
    total: int
    page: int
    page_size: int
    sort: str
    papers: list[Paper]


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


def latest_view(library: Library, page: int = 1, sort: str = "added") -> PeriodView | None:
    """The latest day that has papers, or ``None`` when the library is empty."""
    latest: date | None = library.papers.latest_day()
    return period_view(library, day_period(latest), page, sort) if latest else None


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
    added_since: str = ""
    added_until: str = ""


QueryParam = Annotated[
    str,
    Query(max_length=MAX_QUERY_LENGTH, description="What to look for: words, a title, or an arXiv id or URL."),
]
CategoryParam = Annotated[
    str | None, Query(max_length=100, description="Only papers in this category (`cs.LG`, or a prefix: `cs`).")
]
AuthorParam = Annotated[
    str | None, Query(max_length=200, description="Only papers with an author whose name contains this.")
]
ModeParam = Annotated[
    Mode, Query(description="`hybrid` (keywords and meaning, fused), `keyword` (BM25) or `semantic` (embeddings).")
]
_SINCE = "Only papers dated on or after this day (YYYY-MM-DD); not later than `until`."
_UNTIL = "Only papers dated on or before this day (YYYY-MM-DD)."
_ADDED_SINCE = "Only papers added to this site on or after this day (YYYY-MM-DD), whatever their own date."
_ADDED_UNTIL = "Only papers added to this site on or before this day (YYYY-MM-DD)."
_BLANK = " Empty: no limit (what the search form sends)."


def _search_request(
    request: Request,
    q: str,
    since: date | None,
    until: date | None,
    category: str | None,
    author: str | None,
    mode: str,
    p: int,
    added_since: date | None = None,
    added_until: date | None = None,
) -> SearchRequest:
    limit = get_library(request).config.max_query_length  # a configured limit below the documented one
    if len(q) > limit:
        raise BadRequest(f"'q' must be at most {limit} characters.")
    filters = Filters(
        since=since,
        until=until,
        category=(category or "").strip() or None,
        author=(author or "").strip() or None,
        added_since=added_since,
        added_until=added_until,
    )
    if since and until and since > until:
        raise BadRequest("'since' must not be later than 'until'.")
    if added_since and added_until and added_since > added_until:
        raise BadRequest("'added_since' must not be later than 'added_until'.")
    return SearchRequest(
        q,
        mode,
        p,
        since.isoformat() if since else "",
        until.isoformat() if until else "",
        category or "",
        author or "",
        filters,
        added_since.isoformat() if added_since else "",
        added_until.isoformat() if added_until else "",
    )


def search_request(
    request: Request,
    q: QueryParam = "",
    since: Annotated[IsoDate | None, Query(description=_SINCE)] = None,
    until: Annotated[IsoDate | None, Query(description=_UNTIL)] = None,
    category: CategoryParam = None,
    author: AuthorParam = None,
    mode: ModeParam = "hybrid",
    p: PageParam = 1,
    added_since: Annotated[IsoDate | None, Query(description=_ADDED_SINCE)] = None,
    added_until: Annotated[IsoDate | None, Query(description=_ADDED_UNTIL)] = None,
) -> SearchRequest:
    """Search parameters of ``/api/search``, checked: dates, query length."""
    return _search_request(request, q, since, until, category, author, mode, p, added_since, added_until)


def form_search_request(
    request: Request,
    q: QueryParam = "",
    since: Annotated[FormDate, Query(description=_SINCE + _BLANK)] = None,
    until: Annotated[FormDate, Query(description=_UNTIL + _BLANK)] = None,
    category: CategoryParam = None,
    author: AuthorParam = None,
    mode: ModeParam = "hybrid",
    p: PageParam = 1,
    added_since: Annotated[FormDate, Query(description=_ADDED_SINCE + _BLANK)] = None,
    added_until: Annotated[FormDate, Query(description=_ADDED_UNTIL + _BLANK)] = None,
) -> SearchRequest:
    """Search parameters of the ``/search`` page: as :func:`search_request`, but an empty date is no limit."""
    return _search_request(request, q, since, until, category, author, mode, p, added_since, added_until)


SearchRequestDep = Annotated[SearchRequest, Depends(search_request)]
FormSearchRequestDep = Annotated[SearchRequest, Depends(form_search_request)]


def run_search(library: Library, req: SearchRequest) -> SearchPage:
    """The page of results for ``req`` (the same call for the HTML page, the API and the CLI)."""
    return library.search.query(req.q, filters=req.filters, mode=req.mode, page=req.page)


def allow_head(router: APIRouter) -> None:
    """Add a ``HEAD`` twin of every ``GET`` route of ``router``: the same endpoint, left out of the OpenAPI schema
    (a HEAD operation per path would only double it). Call it after the router's last route."""
    for route in list(router.routes):
        if isinstance(route, APIRoute) and "GET" in (route.methods or ()):
            router.add_api_route(
                route.path.removeprefix(router.prefix),
                route.endpoint,
                methods=["HEAD"],
                name=f"{route.name}_head",
                include_in_schema=False,
                response_model=route.response_model,
                response_class=route.response_class,
            )


BIBTEX = "application/x-bibtex"


def bibtex_response(papers: list[Paper], name: str) -> Response:
    """``papers`` as a BibTeX file (UTF-8), offered for download as ``<name>.bib``."""
    filename = re.sub(r"[^A-Za-z0-9._-]", "_", name)[:100] or "papers"
    return Response(
        to_bibtex(papers),
        media_type=f"{BIBTEX}; charset=utf-8",
        headers={"Content-Disposition": f'inline; filename="{filename}.bib"'},
    )
