"""``/search``: the search page with its filter form and its "paste an abstract" form, one view with its BibTeX
(``/search.bib``) and Atom (``/feeds/search.atom``) renderings; ``/api/search`` is the JSON of the same search,
a view of its own because it takes strict parameters (a date must be a date; the page's form sends empty fields).

A query may be a whole abstract, up to ``DAILYPAPERS_MAX_QUERY_LENGTH`` characters (10,000 by default). Long text
travels in a request body: the paste form posts (``POST /search``: a form with its CSRF token like every form of
the site, no JavaScript needed, its pager made of small forms too), and scripts ``POST /api/search`` with JSON.
``GET`` takes the same length, but common reverse proxies refuse a request line past 8 KB (nginx's default
``large_client_header_buffers 4 8k`` answers 414), so the page offers a link (JSON, BibTeX, feed) only while it
stays within :data:`SHAREABLE_URL`. A query over the limit gets the search page again, status 400, with the
message in it and the text kept in the box (its BibTeX and feed addresses too); ``/api/search`` answers the JSON
error.

A query that names an arXiv paper (its id, ``arXiv:`` id or abs/PDF link) which is not stored here would otherwise
get only papers that share words or meaning with the id: the page then says first that the paper is not in this
library, with a link to submit it, and labels the results as related papers; the JSON says so in
``not_in_library``.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.responses import Response

from dailypapers.library import Library
from dailypapers.papers.models import Paper, parse_arxiv_id
from dailypapers.papers.store import Filters
from dailypapers.search.hybrid import SearchPage
from dailypapers.serialize import search_json
from dailypapers.web.deps import LibraryDep
from dailypapers.web.feeds import atom_response
from dailypapers.web.params import (
    MAX_PAGE,
    MAX_QUERY_LENGTH,
    AuthorParam,
    CategoryParam,
    FormDate,
    IsoDate,
    Mode,
    ModeParam,
    PageParam,
)
from dailypapers.web.schemas import ERROR_RESPONSES, ErrorOut, SearchOut
from dailypapers.web.search_request import SearchRequest, SearchRequestDep, form_search_request, run_search
from dailypapers.web.search_request import search_request as strict_request
from dailypapers.web.templating import SITE_NAME, query_url, render
from dailypapers.web.views import Atom, Bibtex, Html, Json, view
from dailypapers.web.voters import vote_buttons, with_set_links

router = APIRouter(responses=ERROR_RESPONSES)

SHAREABLE_URL = 8000
"""Longest link the page offers: nginx refuses a request line past 8 KB by default (414 Request-URI Too Large)."""
_Q = "What to look for: words, a title, an arXiv id or URL, or a whole abstract"
_LONG = f" (at most {MAX_QUERY_LENGTH:,} characters; a longer text gets the page back with a message)."
_SINCE, _UNTIL = "Only papers dated on or after this day (YYYY-MM-DD).", "Only papers dated on or before this day."
_ADDED_SINCE = "Only papers added to this site on or after this day (YYYY-MM-DD), whatever their own date."
_ADDED_UNTIL = "Only papers added to this site on or before this day."
SUBMIT_URL = "/submit"
"""Where a missing paper can be brought here: ``?id=`` fills the form in (:func:`submit_url`)."""


def submit_url(arxiv_id: str | None) -> str:
    """The submission form filled in with ``arxiv_id``."""
    return f"{SUBMIT_URL}?id={quote(arxiv_id, safe='')}" if arxiv_id else SUBMIT_URL


_POST_ERRORS: dict[int | str, dict[str, Any]] = {
    **ERROR_RESPONSES,
    403: {"model": ErrorOut, "description": "No API token and no valid CSRF token (`X-CSRF-Token`, or the form's)."},
}


@dataclass
class SearchView:
    """The search page's data: the search as typed, its page of results (``None`` without a query) and, for a
    query over the length limit, the message (no results then)."""

    req: SearchRequest
    page: SearchPage | None
    posted: bool = False
    error: str | None = None
    missing: str | None = None  # the arXiv id the query names, when no paper here has it

    @property
    def papers(self) -> list[Paper]:
        return [r.paper for r in self.page.results] if self.page else []


def missing_arxiv_id(library: Library, q: str) -> str | None:
    """The arXiv id ``q`` names (as a search pins it: id, ``arXiv:`` id or link, any version) when no paper shown
    here has it, else ``None``; a stored paper that the filters leave out is not missing."""
    parsed = parse_arxiv_id(" ".join(q.split()))
    return parsed[0] if parsed and library.papers.get(parsed[0]) is None else None


def not_in_library_json(library: Library, q: str) -> dict[str, str] | None:
    missing = missing_arxiv_id(library, q)
    return {"id": missing, "submit_url": submit_url(missing)} if missing else None


def too_long(library: Library, q: str) -> str | None:
    """The message for a query over the configured length limit, or ``None``."""
    limit = library.config.max_query_length
    return f"A query can be at most {limit:,} characters; this one has {len(q):,}." if len(q) > limit else None


def _search_view(request: Request, library: Library, posted: bool, q: str, *args: Any) -> SearchView:
    """The search for the parameters of :func:`form_search_request` (``q``, then since, until, category, author,
    mode, p, added_since, added_until), or the message that the query is too long with everything as typed."""
    error = too_long(library, q)
    if error is None:
        req = form_search_request(request, q, *args)
        if not req.q.strip():
            return SearchView(req, None, posted)
        return SearchView(req, run_search(library, req), posted, missing=missing_arxiv_id(library, req.q))
    since, until, category, author, mode, p, added_since, added_until = args
    day: dict[date, str] = {d: d.isoformat() for d in (since, until, added_since, added_until) if d}
    typed = SearchRequest(q, mode, p, day.get(since, ""), day.get(until, ""), category or "", author or "", Filters(),
                          day.get(added_since, ""), day.get(added_until, ""))  # fmt: skip
    return SearchView(typed, None, posted, error)


def _link(request: Request, found: SearchView, path: str) -> str | None:
    """``path`` with the search's parameters, or ``None`` when that URL would be too long to share."""
    if found.posted:
        req = found.req
        params = {"q": req.q, "since": req.since, "until": req.until, "category": req.category, "author": req.author,
                  "added_since": req.added_since, "added_until": req.added_until,
                  "mode": "" if req.mode == "hybrid" else req.mode, "p": "" if req.page == 1 else req.page}  # fmt: skip
        kept = {k: v for k, v in params.items() if v}
        url = path + ("?" + urlencode(kept) if kept else "")
    else:
        url = query_url(request, path=path)
    return url if len(url) <= SHAREABLE_URL else None


def _context(request: Request, found: SearchView) -> dict[str, Any]:
    papers = found.papers
    return {
        "req": found.req,
        "page": found.page,
        "posted": found.posted,
        "error": found.error,
        "missing": found.missing,
        "submit_url": submit_url(found.missing),
        "max_query_length": request.app.state.library.config.max_query_length,
        "json_url": _link(request, found, "/api/search") if found.error is None else None,
        "bib_url": _link(request, found, "/search.bib") if papers else None,
        "feed_url": _link(request, found, "/feeds/search.atom") if found.page is not None else None,
        "votes": vote_buttons(request, papers) if papers else None,
    }


def _page(request: Request, found: SearchView) -> Response:
    """The search page; status 400 with the message where the query is too long."""
    return render(request, "search.html", _context(request, found), status_code=400 if found.error else 200)


def _feed(request: Request, found: SearchView) -> Response:
    q = found.req.q.strip()
    title = f"{SITE_NAME}: search for {q[:200]!r}" if q else f"{SITE_NAME}: search"
    return atom_response(request, title=title, page_path=query_url(request, path="/search"), papers=found.papers)


@view(
    router,
    Html("/search", "search.html", _context, summary="Search papers (HTML)"),
    Bibtex(
        "/search.bib",
        lambda found: found.papers,
        lambda _: "search",
        summary="A page of search results as BibTeX",
        description="The page of results as BibTeX `@misc` entries.",
    ),
    Atom(
        "/feeds/search.atom",
        _feed,
        summary="Any search as an Atom feed",
        description="An Atom feed (RFC 4287) of the results.",
    ),
)
def search(
    request: Request,
    library: LibraryDep,
    q: Annotated[str, Query(description=_Q + _LONG)] = "",
    since: Annotated[FormDate, Query(description=_SINCE + " Empty: no limit.")] = None,
    until: Annotated[FormDate, Query(description=_UNTIL + " Empty: no limit.")] = None,
    category: CategoryParam = None,
    author: AuthorParam = None,
    mode: ModeParam = "hybrid",
    p: PageParam = 1,
    added_since: Annotated[FormDate, Query(description=_ADDED_SINCE + " Empty: no limit.")] = None,
    added_until: Annotated[FormDate, Query(description=_ADDED_UNTIL + " Empty: no limit.")] = None,
) -> SearchView | Response:
    """Results with highlighted title and abstract, exact matches pinned first, filters and pages; the BibTeX and
    the feed are those of the page's results (the feed: its first page, best first, to subscribe to a search)."""
    found = _search_view(request, library, False, q, since, until, category, author, mode, p, added_since,
                         added_until)  # fmt: skip
    return _page(request, found) if found.error else found


@router.post(
    "/search",
    response_class=HTMLResponse,
    responses=_POST_ERRORS,
    tags=["pages"],
    summary="Search papers for a pasted abstract (HTML form)",
)
def search_form(
    request: Request,
    library: LibraryDep,
    q: Annotated[str, Form(description=_Q + _LONG)] = "",
    since: Annotated[FormDate, Form(description=_SINCE + " Empty: no limit.")] = None,
    until: Annotated[FormDate, Form(description=_UNTIL + " Empty: no limit.")] = None,
    category: Annotated[str | None, Form(max_length=100)] = None,
    author: Annotated[str | None, Form(max_length=200)] = None,
    mode: Annotated[Mode, Form()] = "hybrid",
    p: Annotated[int, Form(ge=1, le=MAX_PAGE)] = 1,
    added_since: Annotated[FormDate, Form(description=_ADDED_SINCE + " Empty: no limit.")] = None,
    added_until: Annotated[FormDate, Form(description=_ADDED_UNTIL + " Empty: no limit.")] = None,
) -> Response:
    """The `/search` page for text sent in the body (the page's "paste an abstract" form, with its `csrf_token`):
    nothing changes, but a body has room where a URL has not."""
    args = (since, until, category, author, mode, p, added_since, added_until)
    return _page(request, _search_view(request, library, True, q, *args))


def results_json(library: Library, page: SearchPage) -> dict[str, Any]:
    """The JSON of a page of results: each paper with its collection links and comment count, and whether the
    query names an arXiv paper that is not here (``not_in_library``)."""
    shown = with_set_links(library, [r.paper for r in page.results])
    page.results = [dataclasses.replace(r, paper=p) for r, p in zip(page.results, shown, strict=True)]
    data = search_json(page, library.comments.counts([p.pk for p in shown if p.pk is not None]))
    return {**data, "not_in_library": not_in_library_json(library, page.query)}


def _json(request: Request, page: SearchPage) -> dict[str, Any]:
    return results_json(request.app.state.library, page)


@view(router, Json("/api/search", SearchOut, _json, summary="Search papers"))
def api_search(library: LibraryDep, req: SearchRequestDep) -> SearchPage:
    """Hybrid (keyword + semantic) search with filters; the data of the `/search` page.

    A query that names a paper exactly (arXiv id, abs URL, or its full title) puts that paper first with
    `pinned: true`.
    """
    return run_search(library, req)


class SearchIn(BaseModel):
    """The body of ``POST /api/search``: the parameters of ``GET /api/search`` (``page`` for ``p``)."""

    model_config = ConfigDict(extra="forbid")  # a misspelt filter is an error, never silently ignored

    q: str = Field("", max_length=MAX_QUERY_LENGTH, description=_Q + ".")
    since: IsoDate | None = Field(None, description=_SINCE)
    until: IsoDate | None = Field(None, description=_UNTIL)
    category: str | None = Field(None, max_length=100, description="Only papers in this category (or prefix).")
    author: str | None = Field(None, max_length=200, description="Only papers with an author whose name has this.")
    mode: Mode = "hybrid"
    page: int = Field(1, ge=1, le=MAX_PAGE, description="Page number, from 1.")
    added_since: IsoDate | None = Field(None, description=_ADDED_SINCE)
    added_until: IsoDate | None = Field(None, description=_ADDED_UNTIL)


@router.post(
    "/api/search",
    response_model=SearchOut,
    responses=_POST_ERRORS,
    tags=["api"],
    summary="Search papers, the query in a JSON body",
)
def api_search_post(request: Request, library: LibraryDep, body: SearchIn) -> dict[str, Any]:
    """`GET /api/search` for a query sent as JSON (`{"q": "…an abstract…", "mode": "hybrid", "page": 1}`): for long
    text, which a URL past 8 KB may not carry through a proxy. Like every POST it needs an API token
    (`Authorization: Bearer`) or the CSRF token of `GET /api/csrf` in `X-CSRF-Token`."""
    b = body
    req = strict_request(request, b.q, b.since, b.until, b.category, b.author, b.mode, b.page, b.added_since,
                         b.added_until)  # fmt: skip
    return results_json(library, run_search(library, req))
