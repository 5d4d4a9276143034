"""The parameters of a search, checked once for the search page, its JSON twin, its BibTeX and its feed.

``/api/search`` takes strict dates (:func:`search_request`); the page's form sends empty fields for "no limit"
(:func:`form_search_request`). Both give a :class:`SearchRequest`, which keeps the values as typed (the form shows
them again) and the :class:`~dailypapers.papers.store.Filters` parsed from them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Annotated

from fastapi import Depends, Query, Request

from dailypapers.library import Library
from dailypapers.papers.store import Filters
from dailypapers.search.hybrid import SearchPage
from dailypapers.web.deps import get_library
from dailypapers.web.errors import BadRequest
from dailypapers.web.params import (
    AuthorParam,
    CategoryParam,
    FormDate,
    IsoDate,
    ModeParam,
    PageParam,
    QueryParam,
)


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
