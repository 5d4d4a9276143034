"""``/papers/{id}``: one paper's full record and the papers most similar to it, one view with its BibTeX rendering
(``/papers/{id}.bib``); ``/api/similar/{id}`` is the JSON of the paper and its neighbours, a view of its own (it
takes ``k``, and fails where the page only says that similar papers are unavailable).

Ids may contain a slash (old arXiv ids such as ``hep-th/9901001``), so the route takes the rest of the path.
It leaves ``/papers/{id}.md`` to the Hugging Face compatible API, whatever order the routers are included in,
and must come after the ``/papers/date|week|month/…`` routes. An admin still sees a hidden paper's page, marked
so; its BibTeX and JSON are nobody's.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request
from starlette.convertors import Convertor, register_url_convertor

from dailypapers.library import Library
from dailypapers.papers.models import Paper
from dailypapers.serialize import similar_json
from dailypapers.web.deps import LibraryDep
from dailypapers.web.panels import panel_context
from dailypapers.web.params import PaperIdPath
from dailypapers.web.schemas import ERROR_RESPONSES, SimilarOut
from dailypapers.web.security.identity import current_user
from dailypapers.web.templating import paper_url
from dailypapers.web.views import Bibtex, Html, Json, view
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

router = APIRouter(responses=ERROR_RESPONSES)


@dataclass
class PaperView:
    """The paper of the page; ``hidden`` when moderation hid it (only an admin gets this far then)."""

    paper: Paper
    hidden: bool


def _get(library: Library, paper_id: str, include_hidden: bool = False) -> Paper:
    paper = library.papers.get(paper_id, include_hidden=include_hidden)
    if paper is None:
        raise HTTPException(404, f"No paper has the id '{paper_id[:200]}'.")
    return paper


def similar_or_none(library: Library, paper: Paper, k: int = 10) -> list[tuple[Paper, float]] | None:
    """Similar papers; ``None`` (the page says so) when the vector index is missing, instead of failing the page."""
    try:
        return library.search.similar(paper, k)
    except RuntimeError:
        log.warning("similar papers unavailable for %s", paper.id, exc_info=True)
        return None


def _context(request: Request, found: PaperView) -> dict[str, Any]:
    library: Library = request.app.state.library
    paper = found.paper
    return {
        "paper": paper,
        "hidden": found.hidden,
        "similar": similar_or_none(library, paper),
        "canonical": paper_url(paper.id),
        "json_url": "/api/similar/" + paper.id,
        "votes": vote_buttons(request, [paper]),
        "bib_url": paper_url(paper.id) + ".bib",
        **panel_context(request, library, paper),  # claims, comments, submitted links (which override "paper")
    }


def _bibtex(found: PaperView) -> list[Paper]:
    if found.hidden:  # the page is an admin's, marked hidden; the download stays gone like everywhere else
        raise HTTPException(404, f"No paper has the id '{found.paper.id}'.")
    return [found.paper]


@view(
    router,
    Html("/papers/{paper_id:paper_id}", "paper.html", _context, summary="A paper and similar papers (HTML)"),
    Bibtex(
        "/papers/{paper_id:path}.bib",
        _bibtex,
        lambda found: found.paper.id,
        summary="A paper as BibTeX",
        description="The paper as a BibTeX `@misc` entry.",
    ),
)
def paper(request: Request, library: LibraryDep, paper_id: PaperIdPath) -> PaperView:
    """The paper's full record, its panels and similar papers; as BibTeX, one entry with arXiv's `eprint`,
    `archivePrefix` and `primaryClass`."""
    user = current_user(request)
    admin = user is not None and user.is_admin
    found = _get(library, paper_id, include_hidden=admin)  # an admin still sees a hidden paper, marked so
    return PaperView(found, admin and library.papers.is_hidden(found))


@view(router, Json("/api/similar/{paper_id:path}", SimilarOut, lambda _, found: similar_json(*found),
                   summary="Papers similar to a paper"))  # fmt: skip
def similar(
    library: LibraryDep,
    paper_id: PaperIdPath,
    k: Annotated[int, Query(ge=1, le=50, description="How many similar papers (1-50).")] = 10,
) -> tuple[Paper, list[tuple[Paper, float]]]:
    """A paper and its nearest neighbours by embedding (the paper itself excluded)."""
    found = _get(library, paper_id)
    return found, library.search.similar(found, k)
