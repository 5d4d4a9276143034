"""Collection pages: ``/collections`` (mine), ``/collections/{id}`` (one), ``/collections/add?paper=…`` (save a
paper), their forms, ``/collections/{id}.bib`` and the Atom feed ``/feeds/collections/{id}.atom``.

Plain HTML forms that work without JavaScript: each POST answers with a 303 back to ``next`` (a path on this
site, :func:`~dailypapers.web.routes.votes.safe_next`) or to the collection, and passes the security layer (CSRF,
origin, body limit) like every unsafe route. A visitor who is not signed in is sent to the log-in page and back.
Who may see and change what is the service's (:mod:`dailypapers.community.collections`): somebody else's private
collection is a 404 on every route, exactly as an id that never existed; a public one is readable by anybody and
a 403 to change. A form with a mistake (a name too long) shows the page again with the message.

The "Save" link of every paper card and paper page leads to ``/collections/add``: the signed-in user's
collections, each with a button that saves the paper there (or shows it is saved), and a form for a new one.
The JSON twins are :mod:`dailypapers.web.routes.collections_api`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any, Literal
from urllib.parse import quote

from fastapi import APIRouter, Form, Path, Query, Request
from fastapi.responses import HTMLResponse, PlainTextResponse, RedirectResponse
from starlette.responses import Response

from dailypapers.accounts.models import User
from dailypapers.community.collections import Collection, Item
from dailypapers.errors import BadInput, Conflict, Forbidden, NotFound
from dailypapers.library import Library
from dailypapers.papers.models import Paper
from dailypapers.web.deps import LibraryDep
from dailypapers.web.feeds import ATOM, atom_response
from dailypapers.web.forms import back_to, safe_next
from dailypapers.web.params import PageParam
from dailypapers.web.responses import BIBTEX, allow_head, bibtex_response
from dailypapers.web.schemas import ERROR_RESPONSES
from dailypapers.web.security.identity import current_user
from dailypapers.web.templating import SITE_NAME, render
from dailypapers.web.voters import vote_buttons

router = APIRouter(tags=["pages"], responses=ERROR_RESPONSES, default_response_class=HTMLResponse)

FEED_ENTRIES = 100  # the most recently added papers of a collection that its feed lists
CidPath = Annotated[str, Path(description="The collection's id.")]
PaperPath = Annotated[str, Path(description="Paper id; a version suffix (`2106.09685v2`) is accepted.")]
# Form limits well above the service's, so that its sentence ("at most 100 characters") is what the user reads.
FormText = Annotated[str, Form(max_length=20_000)]
PaperField = Annotated[str, Form(max_length=300, description="The paper's id.")]
NextField = Annotated[str, Form(alias="next", max_length=2000, description="Where to go back to: a path here.")]
PublicField = Annotated[bool, Form(description="Whether anybody may read the collection (a checkbox).")]


@dataclass
class Entry:
    """One paper of a collection page: the paper, its item (note, position) and its number in the list, from 1."""

    paper: Paper
    item: Item
    number: int


def collection_url(cid: str) -> str:
    return "/collections/" + quote(cid, safe="")


def feed_url(cid: str) -> str:
    return "/feeds/collections/" + quote(cid, safe="") + ".atom"


def viewer_of(request: Request) -> str | None:
    user = current_user(request)
    return user.id if user else None


def paper_or_404(library: Library, paper_id: str) -> Paper:
    """The (listed) paper with this id, or :class:`NotFound`."""
    paper = library.papers.get(paper_id)
    if paper is None or paper.pk is None:
        raise NotFound(f"No paper has the id '{paper_id[:200]}'.")
    return paper


def entries(library: Library, cid: str, viewer: str | None) -> list[Entry]:
    """The papers of a collection ``viewer`` may read, in its order (papers no longer listed are left out)."""
    items = library.collections.items(cid, viewer)
    found = {p.pk: p for p in library.papers.by_pks([i.paper_pk for i in items])}
    kept = [(found[i.paper_pk], i) for i in items if i.paper_pk in found]
    return [Entry(paper, item, n) for n, (paper, item) in enumerate(kept, start=1)]


def owned(library: Library, cid: str, user: User) -> Collection:
    """The collection if ``user`` owns it; NotFound when ``user`` may not read it, Forbidden when only read it."""
    collection = library.collections.get(cid, user.id)
    if not collection.owned_by(user.id):
        raise Forbidden("Only its owner can change this collection.")
    return collection


def _login(next_url: str) -> RedirectResponse:
    return RedirectResponse("/login?next=" + quote(next_url, safe="/"), status_code=303)


# -- my collections -----------------------------------------------------------------------------------------------
def _mine(request: Request, library: Library, user: User, status: int = 200, **extra: Any) -> Response:
    context = {"collections": library.collections.for_user(user.id), "values": {}, "error": None, **extra}
    return render(request, "collections.html", context, status_code=status)


@router.get("/collections", summary="Your collections (HTML)")
def my_collections(request: Request, library: LibraryDep) -> Response:
    user = current_user(request)
    return _mine(request, library, user) if user else _login("/collections")


@router.post("/collections", summary="Create a collection (HTML form)")
def create_collection(
    request: Request,
    library: LibraryDep,
    name: FormText,
    description: FormText = "",
    public: PublicField = False,
    paper: Annotated[str, Form(max_length=300, description="A paper to save in it at once.")] = "",
    next_url: NextField = "",
) -> Response:
    """A new collection (with ``paper`` in it, from the save page); then ``next``, else the new collection."""
    user = current_user(request)
    if user is None:
        return _login(next_url or "/collections")
    target = paper_or_404(library, paper) if paper else None
    try:
        made = library.collections.create(user.id, name, description, public)
    except (BadInput, Conflict) as exc:
        values = {"name": name, "description": description, "public": public}
        if target is not None:
            return _add_page(request, library, target, next_url, status=exc.status, error=exc.message, values=values)
        return _mine(request, library, user, exc.status, error=exc.message, values=values)
    if target is not None and target.pk is not None:
        library.collections.add(made.id, user.id, target.pk)
    return back_to(next_url, collection_url(made.id))


# -- the save page ------------------------------------------------------------------------------------------------
def _add_page(
    request: Request, library: Library, paper: Paper, next_url: str, status: int = 200, **extra: Any
) -> Response:
    user = current_user(request)
    mine = library.collections.for_user(user.id) if user else []
    saved = library.collections.containing(user.id, paper.pk) if user and paper.pk is not None else set()
    try:
        back = safe_next(next_url) if next_url else None
    except BadInput:
        back = None
    here = "/collections/add?paper=" + quote(paper.id, safe="/") + ("&next=" + quote(back, safe="/") if back else "")
    context = {
        "paper": paper,
        "collections": mine,
        "saved": saved,
        "back": back,
        "here": here,
        "values": {},
        "error": None,
        **extra,
    }
    return render(request, "collection_add.html", context, status_code=status)


@router.get("/collections/add", summary="Save a paper to one of your collections (HTML)")
def add_page(
    request: Request,
    library: LibraryDep,
    paper: Annotated[str, Query(max_length=300, description="The paper's id.")],
    next: Annotated[str, Query(max_length=2000, description="The page to go back to.")] = "",
) -> Response:
    """Your collections, each with a button that saves the paper there, and a form for a new one; a visitor who
    is not signed in is asked to log in first."""
    return _add_page(request, library, paper_or_404(library, paper), next)


# -- one collection -----------------------------------------------------------------------------------------------
@router.get(
    "/collections/{cid}.bib",
    response_class=PlainTextResponse,
    responses={200: {"content": {BIBTEX: {}}, "description": "The collection's papers as BibTeX `@misc` entries."}},
    summary="A collection as BibTeX",
)
def collection_bibtex(request: Request, library: LibraryDep, cid: CidPath) -> Response:
    """Every paper of the collection, in its order (notes are not part of BibTeX). Public ones for anybody."""
    viewer = viewer_of(request)
    collection = library.collections.get(cid, viewer)
    return bibtex_response([e.paper for e in entries(library, cid, viewer)], collection.name)


def _collection_page(
    request: Request, library: Library, cid: str, page: int = 1, status: int = 200, **extra: Any
) -> Response:
    viewer = viewer_of(request)
    collection = library.collections.get(cid, viewer)
    listed = entries(library, cid, viewer)
    size = library.config.page_size
    shown = listed[(page - 1) * size : page * size]
    context = {
        "collection": collection,
        "entries": shown,
        "total": len(listed),
        "page": page,
        "has_next": page * size < len(listed),
        "pages": max(1, -(-len(listed) // size)),
        "is_owner": collection.owned_by(viewer),
        "votes": vote_buttons(request, [e.paper for e in shown]),
        "json_url": "/api" + collection_url(cid),
        "bib_url": collection_url(cid) + ".bib" if listed else None,
        "feed_url": feed_url(cid) if collection.public else None,
        "here": collection_url(cid) + (f"?p={page}" if page > 1 else ""),
        "error": None,
        "values": {},
        **extra,
    }
    return render(request, "collection.html", context, status_code=status)


@router.get("/collections/{cid}", summary="A collection (HTML)")
def collection_page(request: Request, library: LibraryDep, cid: CidPath, p: PageParam = 1) -> Response:
    """A public collection for anybody, a private one for its owner only (404 for everybody else)."""
    return _collection_page(request, library, cid, p)


def _owner_action(
    request: Request,
    library: Library,
    cid: str,
    action: Callable[[User], Any],
    next_url: str,
    default: str = "",
    values: dict[str, Any] | None = None,
) -> Response:
    """Run ``action`` for the owner of collection ``cid`` and go back; the page again with the message of a
    mistake (and ``values``, what was typed). Anybody else gets what :func:`owned` says (404 or 403); a visitor
    the log-in page."""
    user = current_user(request)
    if user is None:
        return _login(next_url or collection_url(cid))
    owned(library, cid, user)
    try:
        action(user)
    except (BadInput, Conflict) as exc:
        return _collection_page(request, library, cid, status=exc.status, error=exc.message, values=values or {})
    return back_to(next_url, default or collection_url(cid))


@router.post("/collections/{cid}/edit", summary="Rename, describe, publish a collection (HTML form)")
def edit_collection(
    request: Request,
    library: LibraryDep,
    cid: CidPath,
    name: FormText,
    description: FormText = "",
    public: PublicField = False,
    next_url: NextField = "",
) -> Response:
    def edit(user: User) -> None:
        library.collections.update(cid, user.id, name=name, description=description, public=public)

    values = {"name": name, "description": description, "public": public}
    return _owner_action(request, library, cid, edit, next_url, values=values)


@router.post("/collections/{cid}/delete", summary="Delete a collection (HTML form)")
def delete_collection(request: Request, library: LibraryDep, cid: CidPath) -> Response:
    return _owner_action(
        request, library, cid, lambda user: library.collections.delete(cid, user.id), "", default="/collections"
    )


@router.post("/collections/{cid}/items", summary="Save a paper to a collection (HTML form)")
def add_item(
    request: Request,
    library: LibraryDep,
    cid: CidPath,
    paper: PaperField,
    note: FormText = "",
    next_url: NextField = "",
) -> Response:
    """Append the paper (already there: it keeps its place; a note given replaces its note)."""

    def add(user: User) -> None:
        found = paper_or_404(library, paper)
        library.collections.add(cid, user.id, int(found.pk or 0), note)

    return _owner_action(request, library, cid, add, next_url)


@router.post("/collections/{cid}/items/{paper_id:path}/note", summary="Change a paper's note (HTML form)")
def set_note(
    request: Request, library: LibraryDep, cid: CidPath, paper_id: PaperPath, note: FormText, next_url: NextField = ""
) -> Response:
    def write(user: User) -> None:
        library.collections.set_note(cid, user.id, int(paper_or_404(library, paper_id).pk or 0), note)

    return _owner_action(request, library, cid, write, next_url)


@router.post("/collections/{cid}/items/{paper_id:path}/remove", summary="Take a paper out (HTML form)")
def remove_item(
    request: Request, library: LibraryDep, cid: CidPath, paper_id: PaperPath, next_url: NextField = ""
) -> Response:
    def remove(user: User) -> None:
        library.collections.remove(cid, user.id, int(paper_or_404(library, paper_id).pk or 0))

    return _owner_action(request, library, cid, remove, next_url)


Direction = Literal["up", "down", "top", "bottom"]


def move_to(library: Library, cid: str, user: User, paper: Paper, direction: str | None, number: int | None) -> int:
    """Move ``paper`` one place up or down, to the top or bottom, or to list number ``number`` (from 1) of the
    papers shown; returns its new position."""
    listed = library.collections.items(cid, user.id)
    keys = [i.paper_pk for i in listed]
    if paper.pk not in keys:
        raise NotFound("That paper is not in this collection.")
    here = keys.index(paper.pk)
    if number is not None:
        index = number - 1
    elif direction is not None:
        index = {"up": here - 1, "down": here + 1, "top": 0, "bottom": len(keys) - 1}[direction]
    else:
        raise BadInput("Say where to move the paper: 'direction' (up, down, top, bottom) or 'position'.")
    # Positions of the papers shown: a hidden paper keeps its stored place, and the move lands next to a shown one.
    target = listed[max(0, min(index, len(listed) - 1))].position
    return library.collections.move(cid, user.id, int(paper.pk or 0), target)


@router.post("/collections/{cid}/items/{paper_id:path}/move", summary="Reorder a collection (HTML form)")
def move_item(
    request: Request,
    library: LibraryDep,
    cid: CidPath,
    paper_id: PaperPath,
    direction: Annotated[
        Direction | None, Form(description="One place `up` or `down`, or to the `top`/`bottom`.")
    ] = None,
    position: Annotated[int | None, Form(ge=1, le=100_000, description="The place to move to, from 1.")] = None,
    next_url: NextField = "",
) -> Response:
    def move(user: User) -> None:
        move_to(library, cid, user, paper_or_404(library, paper_id), direction, position)

    return _owner_action(request, library, cid, move, next_url)


# -- the feed -----------------------------------------------------------------------------------------------------
@router.get(
    "/feeds/collections/{cid}.atom",
    response_class=Response,
    responses={200: {"content": {ATOM: {}}, "description": "An Atom feed (RFC 4287) of the collection."}},
    tags=["feeds"],
    summary="A public collection as an Atom feed",
)
def collection_feed(request: Request, library: LibraryDep, cid: CidPath) -> Response:
    """The papers most recently added to a public collection, newest first (a private one is a 404 even to its
    owner: a feed reader signs in nowhere, and a feed's address is often shared)."""
    collection = library.collections.get(cid, None)
    listed = sorted(entries(library, cid, None), key=lambda e: e.item.added_at, reverse=True)[:FEED_ENTRIES]
    return atom_response(
        request,
        title=f"{SITE_NAME}: {collection.name} (a collection by {collection.owner})",
        page_path=collection_url(cid),
        papers=[e.paper for e in listed],
        subtitle=collection.description,
    )


allow_head(router)  # HEAD wherever GET (see dailypapers.web.routes.allow_head)
