"""``/papers/{id}``: one paper's full record and the papers most similar to it.

Ids may contain a slash (old arXiv ids such as ``hep-th/9901001``), so the route takes the rest of the path.
It leaves ``/papers/{id}.md`` to the Hugging Face compatible API, whatever order the routers are included in,
and must come after the ``/papers/date|week|month/…`` routes.
"""

from __future__ import annotations

import logging
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, PlainTextResponse
from starlette.convertors import Convertor, register_url_convertor
from starlette.responses import Response

from dailypapers.library import Library
from dailypapers.papers.models import Paper
from dailypapers.serialize import similar_json
from dailypapers.web.deps import LibraryDep
from dailypapers.web.panels import panel_context
from dailypapers.web.responses import BIBTEX, allow_head, bibtex_response
from dailypapers.web.schemas import ERROR_RESPONSES, SimilarOut
from dailypapers.web.security.identity import current_user
from dailypapers.web.templating import paper_url, render
from dailypapers.web.voters import vote_buttons

log = logging.getLogger("dailypapers.web")


class PaperIdConvertor(Convertor[str]):
    """A paper id: the rest of the path, slashes allowed, except a path ending in ``.md`` or ``.bib``."""

    regex = r".+(?<!\.md)(?<!\.bib)"

    def convert(self, value: str) -> str:
        return value

    def to_string(self, value: str) -> str:
        return value


register_url_convertor("paper_id", PaperIdConvertor())

router = APIRouter(tags=["pages"], responses=ERROR_RESPONSES, default_response_class=HTMLResponse)


def similar_or_none(library: Library, paper: Paper, k: int = 10) -> list[tuple[Paper, float]] | None:
    """Similar papers; ``None`` (the page says so) when the vector index is missing, instead of failing the page."""
    try:
        return library.search.similar(paper, k)
    except RuntimeError:
        log.warning("similar papers unavailable for %s", paper.id, exc_info=True)
        return None


@router.get("/papers/{paper_id:paper_id}", summary="A paper and similar papers (HTML)")
def paper_page(
    request: Request,
    library: LibraryDep,
    paper_id: Annotated[str, Path(description="Paper id; a version suffix (`2106.09685v2`) is accepted.")],
) -> Response:
    user = current_user(request)
    admin = user is not None and user.is_admin
    paper = library.papers.get(paper_id, include_hidden=admin)  # an admin still sees a hidden paper, marked so
    if paper is None:
        raise HTTPException(404, f"No paper has the id '{paper_id[:200]}'.")
    context = {
        "paper": paper,
        "hidden": admin and library.papers.is_hidden(paper),
        "similar": similar_or_none(library, paper),
        "canonical": paper_url(paper.id),
        "json_url": "/api/similar/" + paper.id,
        "votes": vote_buttons(request, [paper]),
        "bib_url": paper_url(paper.id) + ".bib",
        **panel_context(request, library, paper),  # claims, comments, submitted links (which override "paper")
    }
    return render(request, "paper.html", context)


@router.get(
    "/papers/{paper_id:path}.bib",
    response_class=PlainTextResponse,
    responses={200: {"content": {BIBTEX: {}}, "description": "The paper as a BibTeX `@misc` entry."}},
    summary="A paper as BibTeX",
)
def paper_bibtex(
    library: LibraryDep,
    paper_id: Annotated[str, Path(description="Paper id; a version suffix (`2106.09685v2`) is accepted.")],
) -> Response:
    """The paper as one BibTeX entry, with arXiv's `eprint`, `archivePrefix` and `primaryClass`."""
    paper = library.papers.get(paper_id)
    if paper is None:
        raise HTTPException(404, f"No paper has the id '{paper_id[:200]}'.")
    return bibtex_response([paper], paper.id)


@router.get(
    "/api/similar/{paper_id:path}",
    response_class=JSONResponse,
    response_model=SimilarOut,
    tags=["api"],
    summary="Papers similar to a paper",
)
def api_similar(
    library: LibraryDep,
    paper_id: Annotated[str, Path(description="Paper id; a version suffix (`2106.09685v2`) is accepted.")],
    k: Annotated[int, Query(ge=1, le=50, description="How many similar papers (1-50).")] = 10,
) -> dict[str, Any]:
    """A paper and its nearest neighbours by embedding (the paper itself excluded)."""
    paper = library.papers.get(paper_id)
    if paper is None:
        raise HTTPException(404, f"No paper has the id '{paper_id[:200]}'.")
    return similar_json(paper, library.search.similar(paper, k))


allow_head(router)  # HEAD wherever GET (see dailypapers.web.routes.allow_head)
