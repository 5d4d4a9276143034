"""``/search``: the search page with its filter form; ``/api/search`` is its JSON twin."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from starlette.responses import Response

from dailypapers.web.routes import FormSearchRequestDep, LibraryDep, allow_head, run_search
from dailypapers.web.schemas import ERROR_RESPONSES
from dailypapers.web.templating import query_url, render
from dailypapers.web.voters import vote_buttons

router = APIRouter(tags=["pages"], responses=ERROR_RESPONSES, default_response_class=HTMLResponse)


@router.get("/search", summary="Search papers (HTML)")
def search_page(request: Request, library: LibraryDep, req: FormSearchRequestDep) -> Response:
    """Results with highlighted title and abstract, exact matches pinned first, filters and pages."""
    page = run_search(library, req) if req.q.strip() else None
    votes = vote_buttons(request, [r.paper for r in page.results]) if page and page.results else None
    context = {"req": req, "page": page, "json_url": query_url(request, path="/api/search"), "votes": votes}
    return render(request, "search.html", context)


allow_head(router)  # HEAD wherever GET (see dailypapers.web.routes.allow_head)
