"""The data of the collection pages and their JSON twins (:mod:`dailypapers.web.routes.collections`): one
collection as a view (:class:`CollectionView`), its papers as entries, the JSON models and shapes, and the
owner's checks shared by the forms and the JSON writes.

Access is the service's (:mod:`dailypapers.community.collections`): :meth:`~Collections.get` answers 404 for a
collection the viewer may not read; :func:`owned` adds the 403 of a readable collection somebody else owns.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any, Literal
from urllib.parse import quote

from fastapi import Path, Request
from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt

from dailypapers.accounts.models import User
from dailypapers.community.collections import Collection, Item
from dailypapers.errors import BadInput, Forbidden, NotFound
from dailypapers.library import Library
from dailypapers.papers.models import Paper
from dailypapers.serialize import iso_datetime, paper_json
from dailypapers.web.responses import Paged
from dailypapers.web.schemas import PaperOut
from dailypapers.web.security.identity import current_user

CidPath = Annotated[str, Path(description="The collection's id.")]
PaperPath = Annotated[str, Path(description="Paper id; a version suffix (`2106.09685v2`) is accepted.")]
Direction = Literal["up", "down", "top", "bottom"]
_TEXT = 20_000  # far above the service's limits, whose sentences say what is allowed


@dataclass
class Entry:
    """One paper of a collection page: the paper, its item (note, position) and its number in the list, from 1."""

    paper: Paper
    item: Item
    number: int


@dataclass
class CollectionView(Paged):
    """One collection as ``viewer`` may read it: every listed paper (``entries``) and the page of them shown."""

    collection: Collection
    entries: list[Entry]
    viewer: str | None
    total: int
    page: int
    page_size: int


def collection_url(cid: str) -> str:
    return "/collections/" + quote(cid, safe="")


def feed_url(cid: str) -> str:
    return "/feeds/collections/" + quote(cid, safe="") + ".atom"


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


def entry_of(library: Library, cid: str, viewer: str, paper_pk: int) -> Entry:
    """The entry of paper ``paper_pk`` in the collection; NotFound when the paper is not (or no longer) listed."""
    found = next((e for e in entries(library, cid, viewer) if e.item.paper_pk == paper_pk), None)
    if found is None:
        raise NotFound("That paper is not in this collection.")
    return found


def collection_view(request: Request, library: Library, cid: str, page: int = 1) -> CollectionView:
    """Collection ``cid`` as the caller may read it (NotFound otherwise), showing page ``page`` of its papers."""
    user = current_user(request)
    viewer = user.id if user else None
    collection = library.collections.get(cid, viewer)
    listed = entries(library, cid, viewer)
    return CollectionView(collection, listed, viewer, len(listed), page, library.config.page_size)


def owned(library: Library, cid: str, user: User) -> Collection:
    """The collection if ``user`` owns it; NotFound when ``user`` may not read it, Forbidden when only read it."""
    collection = library.collections.get(cid, user.id)
    if not collection.owned_by(user.id):
        raise Forbidden("Only its owner can change this collection.")
    return collection


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


# -- JSON ---------------------------------------------------------------------------------------------------------
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
