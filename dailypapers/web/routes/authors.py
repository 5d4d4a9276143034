"""Author pages: ``/authors/{slug}`` (HTML), ``/api/authors/{slug}`` (JSON) and ``/feeds/authors/{slug}.atom``, one
view.

The slug is :func:`dailypapers.papers.models.author_slug` of the name (the links are made by
:func:`dailypapers.web.templating.author_url`), so the URL is the same in every copy of the database. A page
lists every spelling that shares the slug, the author's papers newest first (paged like the daily lists) and the
co-authors with how many papers they share. An unknown slug is a 404; a URL whose slug is not in its canonical
form (``/authors/Zoë-Müller``) is redirected to the canonical one (page, JSON or feed) when that page exists.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path, Request
from pydantic import BaseModel, Field
from starlette.responses import Response

from dailypapers.library import Library
from dailypapers.papers.authors import Coauthor
from dailypapers.papers.models import Paper, author_slug
from dailypapers.serialize import paper_json
from dailypapers.web.deps import LibraryDep
from dailypapers.web.feeds import atom_response
from dailypapers.web.params import PageParam
from dailypapers.web.responses import Paged
from dailypapers.web.schemas import ERROR_RESPONSES, PaperOut
from dailypapers.web.templating import SITE_NAME, author_page_url
from dailypapers.web.views import Atom, Html, Json, redirect_to, view
from dailypapers.web.voters import vote_buttons

router = APIRouter(responses=ERROR_RESPONSES)

MAX_COAUTHORS = 20
SlugPath = Annotated[
    str,
    Path(max_length=400, description="The author's name slug (`ada-lovelace`), as author links make it.",
         examples=["edward-j-hu"]),
]  # fmt: skip


class CoauthorOut(BaseModel):
    name: str
    slug: str
    papers: int = Field(description="How many of this author's papers they share.")
    url: str = Field(description="Path of their author page.")


class AuthorOut(BaseModel):
    slug: str
    names: list[str] = Field(description="Every spelling of the name that shares this slug, alphabetically.")
    total: int = Field(description="Number of papers.")
    page: int
    page_size: int
    has_next: bool
    papers: list[PaperOut] = Field(description="This page of the papers, newest first.")
    coauthors: list[CoauthorOut] = Field(description="Co-authors, most shared papers first (at most 20).")


@dataclass
class AuthorView(Paged):
    """The data of an author page and of its JSON twin and feed."""

    slug: str
    names: list[str]
    total: int
    page: int
    page_size: int
    papers: list[Paper]
    coauthors: list[Coauthor]

    @property
    def url(self) -> str:
        return author_page_url(self.slug)


def author_view(library: Library, slug: str, page: int = 1) -> AuthorView:
    """One page of an author's papers; 404 when no paper has an author of that slug."""
    names = library.authors.names(slug)
    if not names:
        raise HTTPException(404, "There is no author with that name here.")
    size = library.config.page_size
    papers = library.authors.papers(slug, limit=size, offset=(page - 1) * size)
    coauthors = library.authors.coauthors(slug, limit=MAX_COAUTHORS)
    return AuthorView(slug, names, library.authors.count(slug), page, size, papers, coauthors)


def _canonical(request: Request, library: Library, slug: str) -> Response | None:
    """A redirect to the canonical slug's address (in the same rendering), when ``slug`` is another form of a slug
    that has a page."""
    canonical = author_slug(slug)
    if not canonical or canonical == slug or not library.authors.names(canonical):
        return None
    return redirect_to(request, status_code=308, slug=canonical)


def _json(request: Request, found: AuthorView) -> dict[str, Any]:
    return {
        "slug": found.slug,
        "names": found.names,
        "total": found.total,
        "page": found.page,
        "page_size": found.page_size,
        "has_next": found.has_next,
        "papers": [paper_json(p) for p in found.papers],
        "coauthors": [
            {"name": c.name, "slug": c.slug, "papers": c.papers, "url": author_page_url(c.slug)}
            for c in found.coauthors
        ],
    }


def _feed(request: Request, found: AuthorView) -> Response:
    title = f"{SITE_NAME}: papers by {' / '.join(found.names)}"
    return atom_response(request, title=title, page_path=found.url, papers=found.papers)


def _context(request: Request, found: AuthorView) -> dict[str, Any]:
    return {
        "view": found,
        "json_url": "/api" + found.url + (f"?p={found.page}" if found.page > 1 else ""),
        "feed_url": "/feeds" + found.url + ".atom",
        "votes": vote_buttons(request, found.papers),
    }


@view(
    router,
    Html("/authors/{slug}", "author.html", _context, summary="An author's papers and co-authors (HTML)"),
    Json("/api/authors/{slug}", AuthorOut, _json, summary="An author's papers and co-authors"),
    Atom(
        "/feeds/authors/{slug}.atom",
        _feed,
        summary="An author's newest papers (Atom)",
        description="An Atom feed (RFC 4287) of the author's papers.",
    ),
    responses={308: {"description": "The canonical form of the slug."}},
)
def author(request: Request, library: LibraryDep, slug: SlugPath, p: PageParam = 1) -> AuthorView | Response:
    """Every paper of the author (every spelling of the name with this slug), newest first (a page of them), and
    the co-authors; a slug not in its canonical form is redirected to the canonical one."""
    return _canonical(request, library, slug) or author_view(library, slug, p)
