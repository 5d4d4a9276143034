"""Collections: ``/collections`` (mine), ``/collections/{id}`` (one), ``/collections/add?paper=…`` (save a paper),
their forms, and the JSON API under ``/api/collections``.

One collection is one view (:func:`collection`) with four renderings: the page, its JSON twin
``/api/collections/{id}``, ``/collections/{id}.bib`` and the Atom feed ``/feeds/collections/{id}.atom`` (public
collections only).

The forms are plain HTML that work without JavaScript: each POST answers with a 303 back to ``next`` (a path on
this site, :func:`~dailypapers.web.forms.safe_next`) or to the collection; a form with a mistake (a name too long)
shows the page again with the message. A visitor who is not signed in is sent to the log-in page and back. The
JSON writes take a session with its CSRF token in ``X-CSRF-Token`` or an API token (``Authorization: Bearer``);
every unsafe route passes the security layer (CSRF, origin, body limit). Who may see and change what is the
service's (:mod:`dailypapers.community.collections`): somebody else's private collection is a 404 on every route,
exactly as an id that never existed; a public one is readable by anybody and a 403 to change.

The "Save" link of every paper card and paper page leads to ``/collections/add``: the signed-in user's
collections, each with a button that saves the paper there (or shows it is saved), and a form for a new one.
The JSON answers carry text exactly as stored, with ``<``, ``>`` and ``&`` escaped
(:class:`~dailypapers.web.responses.SafeJSONResponse`). Models and helpers live in
:mod:`dailypapers.web.collection_data`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse
from starlette.responses import Response

from dailypapers.accounts.models import User
from dailypapers.errors import BadInput, Conflict
from dailypapers.library import Library
from dailypapers.papers.models import Paper
from dailypapers.web.collection_data import (
    CidPath,
    CollectionDetailOut,
    CollectionListOut,
    CollectionOut,
    CollectionPatchIn,
    CollectionView,
    Direction,
    DoneOut,
    ItemPatchIn,
    NewCollectionIn,
    NewItemIn,
    OneItemOut,
    PaperPath,
    collection_json,
    collection_url,
    collection_view,
    entry_of,
    feed_url,
    item_json,
    move_to,
    owned,
    paper_or_404,
)
from dailypapers.web.deps import LibraryDep, UserDep, login_redirect
from dailypapers.web.feeds import atom_response
from dailypapers.web.forms import back_to, safe_next
from dailypapers.web.params import PageParam
from dailypapers.web.responses import SafeJSONResponse
from dailypapers.web.schemas import ERROR_RESPONSES
from dailypapers.web.security.identity import current_user
from dailypapers.web.templating import SITE_NAME, render
from dailypapers.web.views import Atom, Bibtex, Html, Json, view
from dailypapers.web.voters import vote_buttons

router = APIRouter(responses=ERROR_RESPONSES)

FEED_ENTRIES = 100  # the most recently added papers of a collection that its feed lists
# Form limits well above the service's, so that its sentence ("at most 100 characters") is what the user reads.
FormText = Annotated[str, Form(max_length=20_000)]
PaperField = Annotated[str, Form(max_length=300, description="The paper's id.")]
NextField = Annotated[str, Form(alias="next", max_length=2000, description="Where to go back to: a path here.")]
PublicField = Annotated[bool, Form(description="Whether anybody may read the collection (a checkbox).")]
_API: dict[str, Any] = {"tags": ["api"], "response_class": SafeJSONResponse}
_PAGE: dict[str, Any] = {"tags": ["pages"], "response_class": HTMLResponse}


# -- one collection: the page, its JSON, BibTeX and feed ----------------------------------------------------------
def _page_context(request: Request, data: CollectionView) -> dict[str, Any]:
    cid = data.collection.id
    shown = data.entries[data.offset : data.offset + data.page_size]
    return {
        "collection": data.collection,
        "entries": shown,
        "total": data.total,
        "page": data.page,
        "has_next": data.has_next,
        "pages": data.pages,
        "is_owner": data.collection.owned_by(data.viewer),
        "votes": vote_buttons(request, [e.paper for e in shown]),
        "json_url": "/api" + collection_url(cid),
        "bib_url": collection_url(cid) + ".bib" if data.entries else None,
        "feed_url": feed_url(cid) if data.collection.public else None,
        "here": collection_url(cid) + (f"?p={data.page}" if data.page > 1 else ""),
        "error": None,
        "values": {},
    }


def _detail_json(request: Request, data: CollectionView) -> dict[str, Any]:
    return {"ok": True, **collection_json(data.collection), "items": [item_json(e) for e in data.entries]}


def _feed(request: Request, data: CollectionView) -> Response:
    collection = data.collection
    if data.viewer is not None:  # a feed reader signs in nowhere: only what anybody may read (404 even to the owner)
        collection = request.app.state.library.collections.get(collection.id, None)
    listed = sorted(data.entries, key=lambda e: e.item.added_at, reverse=True)[:FEED_ENTRIES]
    return atom_response(
        request,
        title=f"{SITE_NAME}: {collection.name} (a collection by {collection.owner})",
        page_path=collection_url(collection.id),
        papers=[e.paper for e in listed],
        subtitle=collection.description,
    )


def _again(request: Request, library: Library, cid: str, exc: BadInput | Conflict, values: dict[str, Any]) -> Response:
    """The collection's page again, with the message of a form's mistake and what was typed."""
    context = {**_page_context(request, collection_view(request, library, cid)), "error": exc.message, "values": values}
    return render(request, "collection.html", context, status_code=exc.status)


# -- the JSON API (reading one collection is the view below) ------------------------------------------------------
@view(router, Json("/api/collections", CollectionListOut, lambda request, found: {"ok": True, "collections": found},
                   summary="Your collections", response_class=SafeJSONResponse))  # fmt: skip
def list_collections(library: LibraryDep, user: UserDep) -> list[dict[str, Any]]:
    return [collection_json(c) for c in library.collections.for_user(user.id)]


@router.post("/api/collections", response_model=CollectionOut, status_code=201, summary="Create a collection", **_API)
def api_create_collection(library: LibraryDep, user: UserDep, body: NewCollectionIn) -> dict[str, Any]:
    return collection_json(library.collections.create(user.id, body.name, body.description, body.public))


@router.patch("/api/collections/{cid}", response_model=CollectionOut, summary="Rename, describe, publish", **_API)
def patch_collection(library: LibraryDep, user: UserDep, cid: CidPath, body: CollectionPatchIn) -> dict[str, Any]:
    changed = library.collections.update(cid, user.id, name=body.name, description=body.description, public=body.public)
    return collection_json(changed)


@router.delete("/api/collections/{cid}", response_model=DoneOut, summary="Delete a collection", **_API)
def api_delete_collection(library: LibraryDep, user: UserDep, cid: CidPath) -> dict[str, Any]:
    library.collections.delete(cid, user.id)
    return {"ok": True}


@router.post(
    "/api/collections/{cid}/items",
    response_model=OneItemOut,
    status_code=201,
    responses={200: {"model": OneItemOut, "description": "The paper was in the collection already."}},
    summary="Add a paper to a collection",
    **_API,
)
def api_add_item(
    library: LibraryDep, user: UserDep, cid: CidPath, body: NewItemIn, response: Response
) -> dict[str, Any]:
    """Appends the paper (201); one already there keeps its place (200), and a non-empty `note` replaces its note."""
    pk = int(paper_or_404(library, body.paper).pk or 0)
    added = library.collections.add(cid, user.id, pk, body.note)
    if not added:
        response.status_code = 200
    return {"ok": True, "added": added, "item": item_json(entry_of(library, cid, user.id, pk))}


@router.patch("/api/collections/{cid}/items/{paper_id:path}", response_model=OneItemOut,
              summary="Change a note, reorder", **_API)  # fmt: skip
def patch_item(
    library: LibraryDep, user: UserDep, cid: CidPath, paper_id: PaperPath, body: ItemPatchIn
) -> dict[str, Any]:
    pk = int(paper_or_404(library, paper_id).pk or 0)
    owned(library, cid, user)  # another user's private collection: 404, a public one 403, before anything else
    if body.note is not None:
        library.collections.set_note(cid, user.id, pk, body.note)
    if body.position is not None:
        library.collections.move(cid, user.id, pk, body.position)
    return {"ok": True, "item": item_json(entry_of(library, cid, user.id, pk))}


@router.delete("/api/collections/{cid}/items/{paper_id:path}", response_model=DoneOut, summary="Remove a paper",
               **_API)  # fmt: skip
def api_remove_item(library: LibraryDep, user: UserDep, cid: CidPath, paper_id: PaperPath) -> dict[str, Any]:
    removed = library.collections.remove(cid, user.id, int(paper_or_404(library, paper_id).pk or 0))
    return {"ok": True, "removed": removed}


# -- my collections -----------------------------------------------------------------------------------------------
def _mine_context(library: Library, user: User) -> dict[str, Any]:
    return {"collections": library.collections.for_user(user.id), "values": {}, "error": None}


@view(router, Html("/collections", "collections.html", summary="Your collections (HTML)"))
def my_collections(request: Request, library: LibraryDep) -> dict[str, Any] | Response:
    user = current_user(request)
    return _mine_context(library, user) if user else login_redirect("/collections")


@router.post("/collections", summary="Create a collection (HTML form)", **_PAGE)
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
        return login_redirect(next_url or "/collections")
    target = paper_or_404(library, paper) if paper else None
    try:
        made = library.collections.create(user.id, name, description, public)
    except (BadInput, Conflict) as exc:
        values = {"name": name, "description": description, "public": public}
        if target is not None:
            context = {**_add_context(request, library, target, next_url), "error": exc.message, "values": values}
            return render(request, "collection_add.html", context, status_code=exc.status)
        context = {**_mine_context(library, user), "error": exc.message, "values": values}
        return render(request, "collections.html", context, status_code=exc.status)
    if target is not None and target.pk is not None:
        library.collections.add(made.id, user.id, target.pk)
    return back_to(next_url, collection_url(made.id))


# -- the save page ------------------------------------------------------------------------------------------------
def _add_context(request: Request, library: Library, paper: Paper, next_url: str) -> dict[str, Any]:
    user = current_user(request)
    mine = library.collections.for_user(user.id) if user else []
    saved = library.collections.containing(user.id, paper.pk) if user and paper.pk is not None else set()
    try:
        back = safe_next(next_url) if next_url else None
    except BadInput:
        back = None
    here = "/collections/add?paper=" + quote(paper.id, safe="/") + ("&next=" + quote(back, safe="/") if back else "")
    context = {"paper": paper, "collections": mine, "saved": saved, "back": back, "here": here}
    return {**context, "values": {}, "error": None}


@view(router, Html("/collections/add", "collection_add.html", summary="Save a paper to one of your collections (HTML)"))
def add_page(
    request: Request,
    library: LibraryDep,
    paper: Annotated[str, Query(max_length=300, description="The paper's id.")],
    next: Annotated[str, Query(max_length=2000, description="The page to go back to.")] = "",
) -> dict[str, Any]:
    """Your collections, each with a button that saves the paper there, and a form for a new one; a visitor who
    is not signed in is asked to log in first."""
    return _add_context(request, library, paper_or_404(library, paper), next)


# -- one collection (after /collections/add, which its path would match) ------------------------------------------
@view(
    router,
    Bibtex("/collections/{cid}.bib", lambda data: [e.paper for e in data.entries], lambda data: data.collection.name,
           summary="A collection as BibTeX", description="The collection's papers as BibTeX `@misc` entries."),
    Html("/collections/{cid}", "collection.html", _page_context, summary="A collection (HTML)"),
    Json("/api/collections/{cid}", CollectionDetailOut, _detail_json, summary="A collection and its papers",
         response_class=SafeJSONResponse),
    Atom("/feeds/collections/{cid}.atom", _feed, summary="A public collection as an Atom feed",
         description="An Atom feed (RFC 4287) of the collection."),
)  # fmt: skip
def collection(request: Request, library: LibraryDep, cid: CidPath, p: PageParam = 1) -> CollectionView:
    """A public collection for anybody, a private one for its owner only (404 for everybody else). The page shows
    page `p` of its papers, the JSON and BibTeX all of them in its order (notes are not part of BibTeX), the feed
    (public collections only: a feed reader signs in nowhere, and a feed's address is often shared) the papers most
    recently added, newest first."""
    return collection_view(request, library, cid, p)


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
        return login_redirect(next_url or collection_url(cid))
    owned(library, cid, user)
    try:
        action(user)
    except (BadInput, Conflict) as exc:
        return _again(request, library, cid, exc, values or {})
    return back_to(next_url, default or collection_url(cid))


@router.post("/collections/{cid}/edit", summary="Rename, describe, publish a collection (HTML form)", **_PAGE)
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


@router.post("/collections/{cid}/delete", summary="Delete a collection (HTML form)", **_PAGE)
def delete_collection(request: Request, library: LibraryDep, cid: CidPath) -> Response:
    return _owner_action(
        request, library, cid, lambda user: library.collections.delete(cid, user.id), "", default="/collections"
    )


@router.post("/collections/{cid}/items", summary="Save a paper to a collection (HTML form)", **_PAGE)
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
        library.collections.add(cid, user.id, int(paper_or_404(library, paper).pk or 0), note)

    return _owner_action(request, library, cid, add, next_url)


@router.post("/collections/{cid}/items/{paper_id:path}/note", summary="Change a paper's note (HTML form)", **_PAGE)
def set_note(
    request: Request, library: LibraryDep, cid: CidPath, paper_id: PaperPath, note: FormText, next_url: NextField = ""
) -> Response:
    def write(user: User) -> None:
        library.collections.set_note(cid, user.id, int(paper_or_404(library, paper_id).pk or 0), note)

    return _owner_action(request, library, cid, write, next_url)


@router.post("/collections/{cid}/items/{paper_id:path}/remove", summary="Take a paper out (HTML form)", **_PAGE)
def remove_item(
    request: Request, library: LibraryDep, cid: CidPath, paper_id: PaperPath, next_url: NextField = ""
) -> Response:
    def remove(user: User) -> None:
        library.collections.remove(cid, user.id, int(paper_or_404(library, paper_id).pk or 0))

    return _owner_action(request, library, cid, remove, next_url)


@router.post("/collections/{cid}/items/{paper_id:path}/move", summary="Reorder a collection (HTML form)", **_PAGE)
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
