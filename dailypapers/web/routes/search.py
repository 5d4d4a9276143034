"""``/search``: the search page with its filter form; ``/api/search`` is its JSON twin, ``/search.bib`` the page's
results as BibTeX."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, PlainTextResponse
from starlette.responses import Response

from dailypapers.web.feeds import ATOM, atom_response
from dailypapers.web.routes import BIBTEX, FormSearchRequestDep, LibraryDep, allow_head, bibtex_response, run_search
from dailypapers.web.schemas import ERROR_RESPONSES
from dailypapers.web.templating import SITE_NAME, query_url, render
from dailypapers.web.voters import vote_buttons

router = APIRouter(tags=["pages"], responses=ERROR_RESPONSES, default_response_class=HTMLResponse)


@router.get("/search", summary="Search papers (HTML)")
def search_page(request: Request, library: LibraryDep, req: FormSearchRequestDep) -> Response:
    """Results with highlighted title and abstract, exact matches pinned first, filters and pages."""
    page = run_search(library, req) if req.q.strip() else None
    votes = vote_buttons(request, [r.paper for r in page.results]) if page and page.results else None
    context = {
        "req": req,
        "page": page,
        "json_url": query_url(request, path="/api/search"),
        "bib_url": query_url(request, path="/search.bib") if page and page.results else None,
        "feed_url": query_url(request, path="/feeds/search.atom") if req.q.strip() else None,
        "votes": votes,
    }
    return render(request, "search.html", context)


@router.get(
    "/search.bib",
    response_class=PlainTextResponse,
    responses={200: {"content": {BIBTEX: {}}, "description": "The page of results as BibTeX `@misc` entries."}},
    summary="A page of search results as BibTeX",
)
def search_bibtex(library: LibraryDep, req: FormSearchRequestDep) -> Response:
    """The papers of one page of `/search` results (the same parameters), in order, one BibTeX entry each."""
    page = run_search(library, req) if req.q.strip() else None
    return bibtex_response([r.paper for r in page.results] if page else [], "search")


@router.get(
    "/feeds/search.atom",
    response_class=Response,
    responses={200: {"content": {ATOM: {}}, "description": "An Atom feed (RFC 4287) of the results."}},
    tags=["feeds"],
    summary="Any search as an Atom feed",
)
def search_feed(request: Request, library: LibraryDep, req: FormSearchRequestDep) -> Response:
    """The first page of `/search` results for the query and filters in the URL, best first: subscribe to a search."""
    page = run_search(library, req) if req.q.strip() else None
    title = f"{SITE_NAME}: search for {req.q.strip()[:200]!r}" if req.q.strip() else f"{SITE_NAME}: search"
    page_path = query_url(request, path="/search")
    return atom_response(
        request, title=title, page_path=page_path, papers=[r.paper for r in page.results] if page else []
    )


allow_head(router)  # HEAD wherever GET (see dailypapers.web.routes.allow_head)
