"""Collections: named reading lists of papers, private or public, in their owner's order, with a note per paper
(SQLAlchemy Core over ``collections`` and ``collection_items``, one set of queries for both backends).

The rules hold for every caller (pages, JSON API, CLI), so they live here:

* Only the owner changes a collection. Anybody may read a public one; a private one exists for its owner alone:
  everybody else, admins included, gets :class:`NotFound`, the answer for an id that was never made, so an id
  tells nothing. Changing somebody else's *public* collection is :class:`Forbidden` (its existence is public).
  The public collections of a disabled account are no longer shown to others.
* Positions are ``0..n-1`` without gaps after every change: adding appends, removing closes the gap, moving shifts
  the papers in between. Each change first locks the collection's row (``FOR UPDATE`` on PostgreSQL; SQLite's
  ``BEGIN IMMEDIATE`` already makes one writer at a time), so two changes of one collection never interleave;
  creating locks the owner's row, so the per-account limit holds under concurrent requests too.
* Adding a paper that is already in the collection keeps its place and the day it was added; a non-empty note
  replaces its note, an empty one leaves the note as it was (so "save" twice never erases what was written).
* Papers an admin took off the site (``hidden_papers``) are not listed, nor counted in a collection's size.
* Text is stored without control characters, whitespace collapsed: a name is 1 to :data:`MAX_NAME` characters, a
  description and a note at most :data:`MAX_DESCRIPTION` and :data:`MAX_NOTE`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, NamedTuple

from sqlalchemy import Connection, delete, func, select, update

from dailypapers.db.engine import Database
from dailypapers.db.ids import sortable_id
from dailypapers.db.schema import collection_items, collections, papers, users
from dailypapers.errors import BadInput, Conflict, Forbidden, NotFound
from dailypapers.papers.hidden import not_hidden
from dailypapers.papers.models import checked_text
from dailypapers.papers.text import free_text, name_text

MAX_NAME = 100
MAX_DESCRIPTION = 1000
MAX_NOTE = 1000
MAX_COLLECTIONS = 100  # per account
MAX_PAPERS = 1000  # per collection
MAX_ID = 64  # longer than any id sortable_id makes: a longer one is unknown without asking the database

items_t = collection_items


@dataclass(frozen=True)
class Collection:
    """A collection as its readers see it: ``owner`` is the owner's username, ``size`` the papers it lists."""

    id: str
    user_id: str
    owner: str
    name: str
    description: str
    public: bool
    created_at: datetime
    updated_at: datetime
    size: int

    def owned_by(self, user_id: str | None) -> bool:
        return user_id is not None and user_id == self.user_id


class Item(NamedTuple):
    """One paper of a collection: its key, the owner's note, its place (0 first) and when it was added."""

    paper_pk: int
    note: str
    position: int
    added_at: datetime


def clean_name(value: object) -> str:
    # NFKC and no bidi/invisible characters: a name shows in lists, feeds and digests (issue 21 #16)
    name = checked_text(name_text(value) if isinstance(value, str) else value, "A collection's name", MAX_NAME)
    if not name:
        raise BadInput(f"A collection needs a name (1 to {MAX_NAME} characters).")
    return name


def clean_description(value: object) -> str:
    return checked_text(free_text(value) if isinstance(value, str) else value, "A collection's description",
                        MAX_DESCRIPTION)  # fmt: skip


def clean_note(value: object) -> str:
    return checked_text(value, "A note", MAX_NOTE)


def _not_found(collection_id: str) -> NotFound:
    return NotFound(f"There is no collection '{str(collection_id)[:MAX_ID]}'.")


def _visible_items() -> Any:
    """The condition "this item's paper is not hidden": the one rule of :mod:`dailypapers.papers.hidden`."""
    return not_hidden(items_t.c.paper_pk)


def _select_collections() -> Any:
    size = (
        select(func.count())
        .select_from(items_t)
        .where(items_t.c.collection_id == collections.c.id, _visible_items())
        .scalar_subquery()
    )
    return select(collections, users.c.username, users.c.disabled, size.label("size")).join(
        users, users.c.id == collections.c.user_id
    )


def _collection(row: Any) -> Collection:
    m = row._mapping
    return Collection(
        id=m["id"],
        user_id=m["user_id"],
        owner=m["username"],
        name=m["name"],
        description=m["description"],
        public=bool(m["public"]),
        created_at=m["created_at"],
        updated_at=m["updated_at"],
        size=int(m["size"] or 0),
    )


def _readable(row: Any, viewer_id: str | None) -> bool:
    m = row._mapping
    return m["user_id"] == viewer_id or (bool(m["public"]) and not m["disabled"])


class Collections:
    """The collections of the configured database."""

    def __init__(self, db: Database, on_signal: Callable[[str, Sequence[int]], None] | None = None) -> None:
        self.db = db
        self.on_signal = on_signal  # (user id, paper keys): papers saved or unsaved (recommendations)

    def _signal(self, user_id: str, pks: Sequence[int]) -> None:
        if self.on_signal is not None and pks:
            self.on_signal(user_id, pks)

    # -- collections --------------------------------------------------------------------------------------------
    def create(self, user_id: str, name: str, description: str = "", public: bool = False) -> Collection:
        """A new collection of ``user_id``; :class:`Conflict` past :data:`MAX_COLLECTIONS`."""
        name, description = clean_name(name), clean_description(description)
        now = datetime.now(UTC)
        cid = sortable_id()
        with self.db.write() as conn:
            owner = select(users.c.id).where(users.c.id == user_id).with_for_update()
            if conn.execute(owner).scalar_one_or_none() is None:
                raise NotFound("There is no such account.")
            held = select(func.count()).select_from(collections).where(collections.c.user_id == user_id)
            if conn.execute(held).scalar_one() >= MAX_COLLECTIONS:
                raise Conflict(
                    f"You have {MAX_COLLECTIONS} collections, the most one account can have; "
                    "delete one to make another."
                )
            values = dict(name=name, description=description, public=bool(public), created_at=now, updated_at=now)
            conn.execute(collections.insert().values(id=cid, user_id=user_id, **values))
        return self.get(cid, user_id)

    def update(
        self,
        collection_id: str,
        user_id: str,
        *,
        name: str | None = None,
        description: str | None = None,
        public: bool | None = None,
    ) -> Collection:
        """Change what is given (None: keep) of the owner's collection."""
        changes: dict[str, Any] = {}
        if name is not None:
            changes["name"] = clean_name(name)
        if description is not None:
            changes["description"] = clean_description(description)
        if public is not None:
            changes["public"] = bool(public)
        with self.db.write() as conn:
            self._own(conn, collection_id, user_id)
            self._touch(conn, collection_id, **changes)
        return self.get(collection_id, user_id)

    def rename(self, collection_id: str, user_id: str, name: str) -> Collection:
        return self.update(collection_id, user_id, name=name)

    def delete(self, collection_id: str, user_id: str) -> None:
        """Delete the owner's collection and its items."""
        with self.db.write() as conn:
            self._own(conn, collection_id, user_id)
            held = select(items_t.c.paper_pk).where(items_t.c.collection_id == collection_id)
            removed = [int(pk) for pk in conn.execute(held).scalars()]
            conn.execute(delete(items_t).where(items_t.c.collection_id == collection_id))
            conn.execute(delete(collections).where(collections.c.id == collection_id))
        self._signal(user_id, removed)

    def get(self, collection_id: str, viewer_id: str | None) -> Collection:
        """The collection, if ``viewer_id`` may read it (its owner; anybody when public); else :class:`NotFound`."""
        if not isinstance(collection_id, str) or not 0 < len(collection_id) <= MAX_ID:
            raise _not_found(collection_id)
        with self.db.read() as conn:
            row = conn.execute(_select_collections().where(collections.c.id == collection_id)).first()
        if row is None or not _readable(row, viewer_id):
            raise _not_found(collection_id)
        return _collection(row)

    def for_user(self, user_id: str, *, public_only: bool = False) -> list[Collection]:
        """``user_id``'s collections, oldest first (``public_only``: what others see, e.g. on a profile)."""
        query = _select_collections().where(collections.c.user_id == user_id)
        if public_only:
            query = query.where(collections.c.public.is_(True), users.c.disabled.is_(False))
        with self.db.read() as conn:
            return [_collection(r) for r in conn.execute(query.order_by(collections.c.id))]

    def containing(self, user_id: str, paper_pk: int) -> set[str]:
        """The ids of ``user_id``'s collections that hold paper ``paper_pk`` (the pages' "saved" state)."""
        query = (
            select(items_t.c.collection_id)
            .join(collections, collections.c.id == items_t.c.collection_id)
            .where(collections.c.user_id == user_id, items_t.c.paper_pk == int(paper_pk))
        )
        with self.db.read() as conn:
            return set(conn.execute(query).scalars())

    def count(self) -> int:
        with self.db.read() as conn:
            return int(conn.execute(select(func.count()).select_from(collections)).scalar_one())

    # -- items --------------------------------------------------------------------------------------------------
    def items(self, collection_id: str, viewer_id: str | None) -> list[Item]:
        """The papers of a collection ``viewer_id`` may read (see :meth:`get`), in the owner's order."""
        self.get(collection_id, viewer_id)
        query = (
            select(items_t.c.paper_pk, items_t.c.note, items_t.c.position, items_t.c.added_at)
            .where(items_t.c.collection_id == collection_id, _visible_items())
            .order_by(items_t.c.position, items_t.c.paper_pk)
        )
        with self.db.read() as conn:
            return [Item(int(pk), note, int(pos), at) for pk, note, pos, at in conn.execute(query)]

    def add(self, collection_id: str, user_id: str, paper_pk: int, note: str = "") -> bool:
        """Append paper ``paper_pk``; True when it was added, False when it was there already (then a non-empty
        ``note`` replaces its note). :class:`Conflict` past :data:`MAX_PAPERS`."""
        note = clean_note(note)
        with self.db.write() as conn:
            self._own(conn, collection_id, user_id)
            if conn.execute(select(papers.c.pk).where(papers.c.pk == int(paper_pk))).scalar_one_or_none() is None:
                raise NotFound("There is no such paper.")
            if self._position(conn, collection_id, paper_pk) is not None:
                if note:
                    conn.execute(self._item_update(collection_id, paper_pk).values(note=note))
                    self._touch(conn, collection_id)
                return False
            size = conn.execute(self._size_query(collection_id)).scalar_one()
            if size >= MAX_PAPERS:
                raise Conflict(
                    f"This collection has {MAX_PAPERS:,} papers, the most one can hold; remove one to add another."
                )
            now = datetime.now(UTC)
            conn.execute(
                items_t.insert().values(
                    collection_id=collection_id, paper_pk=int(paper_pk), position=size, note=note, added_at=now
                )
            )
            self._touch(conn, collection_id)
        self._signal(user_id, [int(paper_pk)])
        return True

    def remove(self, collection_id: str, user_id: str, paper_pk: int) -> bool:
        """Take the paper out (the papers after it move up one); False when it was not in the collection."""
        with self.db.write() as conn:
            self._own(conn, collection_id, user_id)
            position = self._position(conn, collection_id, paper_pk)
            if position is None:
                return False
            conn.execute(
                delete(items_t).where(items_t.c.collection_id == collection_id, items_t.c.paper_pk == int(paper_pk))
            )
            after = items_t.c.position > position
            conn.execute(self._shift(collection_id, after, -1))
            self._touch(conn, collection_id)
        self._signal(user_id, [int(paper_pk)])
        return True

    def set_note(self, collection_id: str, user_id: str, paper_pk: int, note: str) -> None:
        """Replace the note of a paper in the collection (empty: no note)."""
        note = clean_note(note)
        with self.db.write() as conn:
            self._own(conn, collection_id, user_id)
            self._require(conn, collection_id, paper_pk)
            conn.execute(self._item_update(collection_id, paper_pk).values(note=note))
            self._touch(conn, collection_id)

    def move(self, collection_id: str, user_id: str, paper_pk: int, to_position: int) -> int:
        """Put the paper at ``to_position`` (0 first; beyond either end: that end), shifting the papers between its
        old and new place by one, in one transaction. Returns its new position."""
        if isinstance(to_position, bool) or not isinstance(to_position, int):
            raise BadInput("A position must be a whole number.")
        with self.db.write() as conn:
            self._own(conn, collection_id, user_id)
            old = self._require(conn, collection_id, paper_pk)
            last = conn.execute(self._size_query(collection_id)).scalar_one() - 1
            new = max(0, min(to_position, last))
            if new == old:
                return new
            pos = items_t.c.position
            if new < old:  # the papers from `new` up to the old place move down one
                conn.execute(self._shift(collection_id, (pos >= new) & (pos < old), 1))
            else:
                conn.execute(self._shift(collection_id, (pos > old) & (pos <= new), -1))
            conn.execute(self._item_update(collection_id, paper_pk).values(position=new))
            self._touch(conn, collection_id)
            return new

    # -- helpers ------------------------------------------------------------------------------------------------
    def _own(self, conn: Connection, collection_id: str, user_id: str) -> None:
        """Lock the collection's row for this transaction if ``user_id`` owns it; else NotFound, or Forbidden for
        a collection others may read."""
        if not isinstance(collection_id, str) or not 0 < len(collection_id) <= MAX_ID:
            raise _not_found(collection_id)
        query = (
            select(collections.c.user_id, collections.c.public, users.c.disabled)
            .join(users, users.c.id == collections.c.user_id)
            .where(collections.c.id == collection_id)
            .with_for_update(of=collections)
        )
        row = conn.execute(query).first()
        if row is None or (row.user_id != user_id and not (row.public and not row.disabled)):
            raise _not_found(collection_id)
        if row.user_id != user_id:
            raise Forbidden("Only its owner can change this collection.")

    @staticmethod
    def _touch(conn: Connection, collection_id: str, **changes: Any) -> None:
        stmt = update(collections).where(collections.c.id == collection_id)
        conn.execute(stmt.values(updated_at=datetime.now(UTC), **changes))

    @staticmethod
    def _size_query(collection_id: str) -> Any:
        return select(func.count()).select_from(items_t).where(items_t.c.collection_id == collection_id)

    @staticmethod
    def _item_update(collection_id: str, paper_pk: int) -> Any:
        return update(items_t).where(items_t.c.collection_id == collection_id, items_t.c.paper_pk == int(paper_pk))

    @staticmethod
    def _shift(collection_id: str, where: Any, by: int) -> Any:
        stmt = update(items_t).where(items_t.c.collection_id == collection_id, where)
        return stmt.values(position=items_t.c.position + by)

    @staticmethod
    def _position(conn: Connection, collection_id: str, paper_pk: int) -> int | None:
        query = select(items_t.c.position).where(
            items_t.c.collection_id == collection_id, items_t.c.paper_pk == int(paper_pk)
        )
        found = conn.execute(query).scalar_one_or_none()
        return None if found is None else int(found)

    def _require(self, conn: Connection, collection_id: str, paper_pk: int) -> int:
        position = self._position(conn, collection_id, paper_pk)
        if position is None:
            raise NotFound("That paper is not in this collection.")
        return position
