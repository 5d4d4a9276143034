"""The JSON twins of the collection pages, under ``/api/collections``: list, read, create, change and delete
collections, and add, annotate, reorder and remove their papers.

Reading a public collection needs nobody; everything else a signed-in user — an API token
(``Authorization: Bearer``) or a session with its CSRF token in ``X-CSRF-Token``. Access is the service's, as on
the pages: another user's private collection is a 404 on every route, a public one a 403 to change.

Text in these answers is data, returned exactly as stored; ``<``, ``>`` and ``&`` are written as ``\\u003c``,
``\\u003e`` and ``\\u0026`` (what they decode to is unchanged), so a collection named ``<script>`` is never markup in
the bytes of a response, whatever a careless client or browser does with them.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt
from starlette.responses import Response

from dailypapers.accounts.models import User
from dailypapers.community.collections import Collection
from dailypapers.errors import NotFound
from dailypapers.serialize import iso_datetime, paper_json
from dailypapers.web.deps import LibraryDep
from dailypapers.web.responses import SafeJSONResponse, allow_head
from dailypapers.web.routes.collections import (
    CidPath,
    Entry,
    PaperPath,
    collection_url,
    entries,
    feed_url,
    owned,
    paper_or_404,
    viewer_of,
)
from dailypapers.web.schemas import ERROR_RESPONSES, PaperOut
from dailypapers.web.security.identity import require_user

router = APIRouter(tags=["api"], responses=ERROR_RESPONSES, default_response_class=SafeJSONResponse)
UserDep = Annotated[User, Depends(require_user)]
_TEXT = 20_000  # far above the service's limits, whose sentences say what is allowed


class CollectionOut(BaseModel):
    id: str
    name: str
    description: str
    public: bool = Field(description="Whether anybody may read it (and its feed exists).")
    owner: str = Field(description="The owner's username.")
    size: int = Field(description="How many papers it lists.")
    created_at: str
    updated_at: str
    url: str = Field(description="Path of its page.")
    bib_url: str = Field(description="Path of its papers as BibTeX.")
    feed_url: str | None = Field(description="Path of its Atom feed (public collections only).")


class CollectionListOut(BaseModel):
    ok: Literal[True] = True
    collections: list[CollectionOut]


class ItemOut(BaseModel):
    position: int = Field(description="Its place in the owner's order, 0 first.")
    note: str
    added_at: str
    paper: PaperOut


class CollectionDetailOut(CollectionOut):
    ok: Literal[True] = True
    items: list[ItemOut]


class OneItemOut(BaseModel):
    ok: Literal[True] = True
    added: bool | None = Field(None, description="On adding: false when the paper was in the collection already.")
    item: ItemOut


class DoneOut(BaseModel):
    ok: Literal[True] = True
    removed: bool | None = Field(None, description="On removing a paper: false when it was not in the collection.")


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class NewCollectionIn(_In):
    name: str = Field(max_length=_TEXT, description="1 to 100 characters.")
    description: str = Field("", max_length=_TEXT, description="At most 1,000 characters.")
    public: StrictBool = False


class CollectionPatchIn(_In):
    name: str | None = Field(None, max_length=_TEXT)
    description: str | None = Field(None, max_length=_TEXT)
    public: StrictBool | None = None


class NewItemIn(_In):
    paper: str = Field(max_length=300, description="The paper's id.")
    note: str = Field("", max_length=_TEXT, description="At most 1,000 characters.")


class ItemPatchIn(_In):
    note: str | None = Field(None, max_length=_TEXT)
    position: StrictInt | None = Field(None, description="The place to move to, 0 first (beyond the end: last).")


def collection_json(c: Collection) -> dict[str, Any]:
    return {
        "id": c.id,
        "name": c.name,
        "description": c.description,
        "public": c.public,
        "owner": c.owner,
        "size": c.size,
        "created_at": iso_datetime(c.created_at),
        "updated_at": iso_datetime(c.updated_at),
        "url": collection_url(c.id),
        "bib_url": collection_url(c.id) + ".bib",
        "feed_url": feed_url(c.id) if c.public else None,
    }


def item_json(entry: Entry) -> dict[str, Any]:
    item = entry.item
    return {
        "position": item.position,
        "note": item.note,
        "added_at": iso_datetime(item.added_at),
        "paper": paper_json(entry.paper),
    }


def _entry(library: Any, cid: str, viewer: str, paper_pk: int) -> Entry:
    """The entry of paper ``paper_pk`` in the collection; NotFound when the paper is not (or no longer) listed."""
    found = next((e for e in entries(library, cid, viewer) if e.item.paper_pk == paper_pk), None)
    if found is None:
        raise NotFound("That paper is not in this collection.")
    return found


@router.get("/api/collections", response_model=CollectionListOut, summary="Your collections")
def list_collections(library: LibraryDep, user: UserDep) -> dict[str, Any]:
    return {"ok": True, "collections": [collection_json(c) for c in library.collections.for_user(user.id)]}


@router.post("/api/collections", response_model=CollectionOut, status_code=201, summary="Create a collection")
def create_collection(library: LibraryDep, user: UserDep, body: NewCollectionIn) -> dict[str, Any]:
    return collection_json(library.collections.create(user.id, body.name, body.description, body.public))


@router.get("/api/collections/{cid}", response_model=CollectionDetailOut, summary="A collection and its papers")
def get_collection(request: Request, library: LibraryDep, cid: CidPath) -> dict[str, Any]:
    """A public collection for anybody, a private one for its owner (404 for everybody else)."""
    viewer = viewer_of(request)
    collection = library.collections.get(cid, viewer)
    items = [item_json(e) for e in entries(library, cid, viewer)]
    return {"ok": True, **collection_json(collection), "items": items}


@router.patch("/api/collections/{cid}", response_model=CollectionOut, summary="Rename, describe, publish")
def patch_collection(library: LibraryDep, user: UserDep, cid: CidPath, body: CollectionPatchIn) -> dict[str, Any]:
    changed = library.collections.update(cid, user.id, name=body.name, description=body.description, public=body.public)
    return collection_json(changed)


@router.delete("/api/collections/{cid}", response_model=DoneOut, summary="Delete a collection")
def delete_collection(library: LibraryDep, user: UserDep, cid: CidPath) -> dict[str, Any]:
    library.collections.delete(cid, user.id)
    return {"ok": True}


@router.post(
    "/api/collections/{cid}/items",
    response_model=OneItemOut,
    status_code=201,
    responses={200: {"model": OneItemOut, "description": "The paper was in the collection already."}},
    summary="Add a paper to a collection",
)
def add_item(library: LibraryDep, user: UserDep, cid: CidPath, body: NewItemIn, response: Response) -> dict[str, Any]:
    """Appends the paper (201); one already there keeps its place (200), and a non-empty `note` replaces its note."""
    paper = paper_or_404(library, body.paper)
    added = library.collections.add(cid, user.id, int(paper.pk or 0), body.note)
    if not added:
        response.status_code = 200
    return {"ok": True, "added": added, "item": item_json(_entry(library, cid, user.id, int(paper.pk or 0)))}


@router.patch(
    "/api/collections/{cid}/items/{paper_id:path}", response_model=OneItemOut, summary="Change a note, reorder"
)
def patch_item(
    library: LibraryDep, user: UserDep, cid: CidPath, paper_id: PaperPath, body: ItemPatchIn
) -> dict[str, Any]:
    pk = int(paper_or_404(library, paper_id).pk or 0)
    owned(library, cid, user)  # another user's private collection: 404, a public one 403, before anything else
    if body.note is not None:
        library.collections.set_note(cid, user.id, pk, body.note)
    if body.position is not None:
        library.collections.move(cid, user.id, pk, body.position)
    return {"ok": True, "item": item_json(_entry(library, cid, user.id, pk))}


@router.delete("/api/collections/{cid}/items/{paper_id:path}", response_model=DoneOut, summary="Remove a paper")
def remove_item(library: LibraryDep, user: UserDep, cid: CidPath, paper_id: PaperPath) -> dict[str, Any]:
    removed = library.collections.remove(cid, user.id, int(paper_or_404(library, paper_id).pk or 0))
    return {"ok": True, "removed": removed}


allow_head(router)  # HEAD wherever GET (see dailypapers.web.routes.allow_head)
