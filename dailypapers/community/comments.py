"""Comments on papers: one row of ``comments`` each, queried once for both backends (SQLAlchemy Core).

A comment is Markdown source as its author wrote it (controls removed, at most :data:`MAX_BODY` characters);
it is rendered and sanitised only when shown (:mod:`dailypapers.community.markdown`). Replies go one level
deep: a reply to a reply is attached to the top-level comment it answers, so every thread is a comment and a
flat list of replies. Ids are :func:`dailypapers.db.ids.sortable_id`, so key order is creation order.

Deleting one's comment removes it, except a top-level comment that has replies: that one stays as a
``[deleted]`` placeholder (text erased) so the replies keep their context, and goes when its last reply goes.
Deleting an account applies the same rule to all its comments at once, in the accounts transaction
(``dailypapers.accounts.repository``): its answered comments become placeholders owned by the reserved user
``[deleted]``, so other people's replies stay.
An admin hides a comment (who, when, why are kept); a hidden comment still has its place in the thread, but
only admins read its text. :meth:`Comments.counts` counts what everybody sees: neither deleted nor hidden.

Users are plain ids here (the community package does not know accounts); the author's and the hider's usernames
come from the ``users`` table in the same query.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import and_, delete, exists, func, select, update
from sqlalchemy.engine import Connection, Row

from dailypapers.db.engine import Database, key_chunks
from dailypapers.db.ids import sortable_id
from dailypapers.db.schema import comments, papers, users
from dailypapers.errors import BadInput, Conflict, Forbidden, NotFound
from dailypapers.papers.models import strip_controls
from dailypapers.papers.text import free_text

MAX_BODY = 5000
MAX_REASON = 500
MAX_ID_LENGTH = 64  # sortable ids are 26 characters; anything much longer is no id of ours

_hider = users.alias("hider")
_COLUMNS = (
    comments.c.id,
    comments.c.paper_pk,
    papers.c.id.label("paper_id"),
    comments.c.user_id,
    users.c.username,
    comments.c.parent_id,
    comments.c.body,
    comments.c.created_at,
    comments.c.edited_at,
    comments.c.deleted_at,
    comments.c.hidden_at,
    _hider.c.username.label("hidden_by"),
    comments.c.hidden_reason,
)
_FROM = comments.join(users, users.c.id == comments.c.user_id).join(papers, papers.c.pk == comments.c.paper_pk)
_FROM = _FROM.outerjoin(_hider, _hider.c.id == comments.c.hidden_by)
_VISIBLE = and_(comments.c.deleted_at.is_(None), comments.c.hidden_at.is_(None))


@dataclass(frozen=True)
class Comment:
    """A comment as shown: ``author`` and ``hidden_by`` are usernames (``hidden_by`` is None once that admin's
    account is gone). A deleted placeholder has an empty ``body``; so has a hidden comment shown to non-admins."""

    id: str
    paper_pk: int
    paper_id: str
    user_id: str
    author: str
    parent_id: str | None
    body: str
    created_at: datetime
    edited_at: datetime | None = None
    deleted: bool = False
    hidden_at: datetime | None = None
    hidden_by: str | None = None
    hidden_reason: str = ""

    @property
    def hidden(self) -> bool:
        return self.hidden_at is not None

    @property
    def visible(self) -> bool:
        """Whether everybody may read it (and it is counted)."""
        return not self.deleted and not self.hidden


@dataclass(frozen=True)
class Thread:
    """A top-level comment and its replies, oldest first."""

    comment: Comment
    replies: list[Comment] = field(default_factory=list)


@dataclass(frozen=True)
class HiddenComment:
    """A row of the moderation page: the hidden comment (with its text) and the title of its paper."""

    comment: Comment
    paper_title: str


def check_body(body: str) -> str:
    """``body`` as stored: line ends made ``\\n``, other controls removed, outer blank space stripped; 1 to
    :data:`MAX_BODY` characters, else :class:`BadInput` saying so."""
    if not isinstance(body, str):
        raise BadInput("A comment must be text.")
    body = free_text(body)  # NFC, no bidi overrides or zero-width characters (issue 21 #16)
    lines = body.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    text = "\n".join(strip_controls(line).rstrip() for line in lines).strip()  # keep newlines: Markdown needs them
    if not text:
        raise BadInput("A comment cannot be empty.")
    if len(text) > MAX_BODY:
        raise BadInput(f"A comment is at most {MAX_BODY:,} characters; this one has {len(text):,}.")
    return text


def check_reason(reason: str) -> str:
    text = " ".join(strip_controls(reason or "").split())
    if len(text) > MAX_REASON:
        raise BadInput(f"A reason is at most {MAX_REASON} characters; this one has {len(text):,}.")
    return text


def _comment(row: Row[Any, *tuple[Any, ...]]) -> Comment:
    m = row._mapping
    return Comment(
        id=m["id"],
        paper_pk=int(m["paper_pk"]),
        paper_id=m["paper_id"],
        user_id=m["user_id"],
        author=m["username"],
        parent_id=m["parent_id"],
        body="" if m["deleted_at"] is not None else m["body"],
        created_at=m["created_at"],
        edited_at=m["edited_at"],
        deleted=m["deleted_at"] is not None,
        hidden_at=m["hidden_at"],
        hidden_by=m["hidden_by"],
        hidden_reason=m["hidden_reason"] or "",
    )


def _redacted(comment: Comment) -> Comment:
    """What non-admins get of a hidden comment: its place in the thread, not its text or the moderator's note."""
    return replace(comment, body="", hidden_by=None, hidden_reason="") if comment.hidden else comment


class Comments:
    """Comments on the configured database."""

    def __init__(self, db: Database) -> None:
        self.db = db

    # -- reading ------------------------------------------------------------------------------------------------
    def _fetch(self, conn: Connection, comment_id: str) -> Comment | None:
        if not isinstance(comment_id, str) or not 0 < len(comment_id) <= MAX_ID_LENGTH:
            return None
        row = conn.execute(select(*_COLUMNS).select_from(_FROM).where(comments.c.id == comment_id)).first()
        return _comment(row) if row else None

    def get(self, comment_id: str) -> Comment | None:
        """The comment with this id (hidden ones with their text), or None."""
        with self.db.read() as conn:
            return self._fetch(conn, comment_id)

    def for_paper(self, paper_pk: int, *, include_hidden: bool = False) -> list[Thread]:
        """The paper's threads, oldest first, each with its replies oldest first. Hidden comments keep their
        place; their text, who hid them and why are there only with ``include_hidden`` (for admins)."""
        query = select(*_COLUMNS).select_from(_FROM).where(comments.c.paper_pk == int(paper_pk))
        with self.db.read() as conn:
            rows = [_comment(row) for row in conn.execute(query.order_by(comments.c.id))]
        if not include_hidden:
            rows = [_redacted(c) for c in rows]
        threads = {c.id: Thread(c) for c in rows if c.parent_id is None}
        for c in rows:
            if c.parent_id is not None and c.parent_id in threads:
                threads[c.parent_id].replies.append(c)
        return list(threads.values())

    def counts(self, paper_pks: Sequence[int]) -> dict[int, int]:
        """``{paper key: comments everybody sees}`` for every key asked (0 for none), in one query per 500 keys."""
        found = dict.fromkeys((int(pk) for pk in paper_pks), 0)
        with self.db.read() as conn:
            for chunk in key_chunks(found):
                query = (
                    select(comments.c.paper_pk, func.count())
                    .where(_VISIBLE, comments.c.paper_pk.in_(chunk))
                    .group_by(comments.c.paper_pk)
                )
                found.update({int(pk): int(n) for pk, n in conn.execute(query)})
        return found

    def hidden(self, limit: int = 100) -> list[HiddenComment]:
        """Hidden comments (not deleted), the most recently hidden first, with their papers' titles."""
        query = (
            select(*_COLUMNS, papers.c.title)
            .select_from(_FROM)
            .where(comments.c.hidden_at.is_not(None), comments.c.deleted_at.is_(None))
            .order_by(comments.c.hidden_at.desc(), comments.c.id.desc())
            .limit(max(1, int(limit)))
        )
        with self.db.read() as conn:
            return [HiddenComment(_comment(row), row._mapping["title"]) for row in conn.execute(query)]

    # -- writing ------------------------------------------------------------------------------------------------
    def add(self, paper_pk: int, user_id: str, body: str, parent_id: str | None = None) -> Comment:
        """A new comment by ``user_id`` on the paper, or a reply to ``parent_id`` (one of the same paper's
        comments; a reply to a reply answers the top-level comment). NotFound for an unknown paper or parent,
        Conflict for a parent that was deleted or hidden."""
        text = check_body(body)
        with self.db.write() as conn:
            if conn.execute(select(papers.c.pk).where(papers.c.pk == int(paper_pk))).first() is None:
                raise NotFound("There is no such paper.")
            if parent_id:
                parent = self._fetch(conn, parent_id)
                if parent is None or parent.paper_pk != int(paper_pk):
                    raise NotFound("The comment you reply to is not on this paper.")
                if parent.parent_id is not None:  # one level deep: answer the thread
                    parent = self._fetch(conn, parent.parent_id)
                    assert parent is not None  # a reply's parent is deleted with it (ON DELETE CASCADE)
                if not parent.visible:
                    raise Conflict("That comment was deleted or hidden; it cannot be replied to.")
                parent_id = parent.id
            new_id = sortable_id()
            row = {"id": new_id, "paper_pk": int(paper_pk), "user_id": user_id, "parent_id": parent_id or None}
            conn.execute(comments.insert().values(**row, body=text, created_at=datetime.now(UTC), hidden_reason=""))
            made = self._fetch(conn, new_id)
        assert made is not None
        return made

    def _own(self, conn: Connection, comment_id: str, user_id: str) -> Comment:
        found = self._fetch(conn, comment_id)
        if found is None or found.deleted:
            raise NotFound("There is no such comment.")
        if found.user_id != user_id:
            raise Forbidden("Only its author can change or delete a comment.")
        return found

    def edit(self, comment_id: str, user_id: str, body: str) -> Comment:
        """Replace the text of one's own comment (marked as edited). NotFound, Forbidden (another's), or
        Conflict (a hidden comment stays as the moderator left it)."""
        text = check_body(body)
        with self.db.write() as conn:
            found = self._own(conn, comment_id, user_id)
            if found.hidden:
                raise Conflict("A moderator hid this comment; it cannot be edited.")
            if text != found.body:
                changes = {"body": text, "edited_at": datetime.now(UTC)}
                conn.execute(update(comments).where(comments.c.id == found.id).values(**changes))
            edited = self._fetch(conn, found.id)
        assert edited is not None
        return edited

    def delete(self, comment_id: str, user_id: str) -> None:
        """Delete one's own comment: removed, or a placeholder while it has replies (NotFound, Forbidden)."""
        with self.db.write() as conn:
            found = self._own(conn, comment_id, user_id)
            has_replies = exists().where(comments.c.parent_id == found.id)
            if conn.execute(select(has_replies)).scalar():
                gone = {"body": "", "deleted_at": datetime.now(UTC)}
                conn.execute(update(comments).where(comments.c.id == found.id).values(**gone))
                return
            conn.execute(delete(comments).where(comments.c.id == found.id))
            if found.parent_id is not None:  # the last reply of a deleted placeholder takes the placeholder along
                orphan = and_(
                    comments.c.id == found.parent_id,
                    comments.c.deleted_at.is_not(None),
                    ~exists().where(comments.c.parent_id == found.parent_id),
                )
                conn.execute(delete(comments).where(orphan))

    def hide(self, comment_id: str, admin_id: str, reason: str = "") -> Comment:
        """Hide a comment (the caller checks that ``admin_id`` is an admin); hiding again keeps the first record."""
        note = check_reason(reason)
        with self.db.write() as conn:
            found = self._fetch(conn, comment_id)
            if found is None or found.deleted:
                raise NotFound("There is no such comment.")
            if not found.hidden:
                changes = {"hidden_at": datetime.now(UTC), "hidden_by": admin_id, "hidden_reason": note}
                conn.execute(update(comments).where(comments.c.id == found.id).values(**changes))
            hidden = self._fetch(conn, found.id)
        assert hidden is not None
        return hidden

    def unhide(self, comment_id: str) -> None:
        """Show a hidden comment again (NotFound for an unknown one)."""
        with self.db.write() as conn:
            found = self._fetch(conn, comment_id)
            if found is None or found.deleted:
                raise NotFound("There is no such comment.")
            cleared = {"hidden_at": None, "hidden_by": None, "hidden_reason": ""}
            conn.execute(update(comments).where(comments.c.id == found.id).values(**cleared))
