"""Authorship claims: a signed-in user says "I am this author of this paper"; an admin approves or rejects it.

One row of ``claims`` per paper and user (a unique key: a second claim is a :class:`~dailypapers.errors.Conflict`),
naming which of the paper's authors the user is. A claim is ``pending`` until an admin decides; its owner may
withdraw it while it is. Approved claims make the paper show on the user's public profile, and "claimed by" on
the paper's page; one author name of a paper is approved for one user at most.

Users are passed in as plain ids (the community domain does not import accounts); usernames come from joining
``users`` in SQL, and only enabled users' approved claims are shown. Admin rights are checked here too, on the
``users`` row of the deciding id, so a caller that forgets to check cannot let a member decide.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, delete, exists, func, select, update

from dailypapers.db.engine import Database
from dailypapers.db.ids import sortable_id
from dailypapers.db.schema import authors, claims, paper_authors, papers, users
from dailypapers.errors import BadInput, Conflict, Forbidden, NotFound
from dailypapers.papers.authors import NEWEST_FIRST, listed_papers
from dailypapers.papers.hidden import not_hidden
from dailypapers.papers.models import Paper, clean_text
from dailypapers.papers.store.base import Store

MAX_AUTHOR_NAME = 1000
MAX_CLAIM_ID = 64
STATUSES = ("pending", "approved", "rejected")


@dataclass(frozen=True)
class Claim:
    """A claim as the pages show it: with the paper's id and title and the claimant's username."""

    id: str
    paper_pk: int
    paper_id: str
    paper_title: str
    user_id: str
    username: str
    author_name: str
    status: str
    created_at: datetime
    decided_at: datetime | None

    @property
    def pending(self) -> bool:
        return self.status == "pending"


_COLUMNS = (
    claims.c.id,
    claims.c.paper_pk,
    papers.c.id,
    papers.c.title,
    claims.c.user_id,
    users.c.username,
    claims.c.author_name,
    claims.c.status,
    claims.c.created_at,
    claims.c.decided_at,
)


def _listing() -> Any:
    return (
        select(*_COLUMNS)
        .join(papers, papers.c.pk == claims.c.paper_pk)
        .join(users, users.c.id == claims.c.user_id)
        .order_by(claims.c.id.desc())  # sortable ids: the newest claim first
    )


def _claim(row: Any) -> Claim:
    return Claim(str(row[0]), int(row[1]), *row[2:])


def _check_id(claim_id: str) -> str:
    if not isinstance(claim_id, str) or not 0 < len(claim_id) <= MAX_CLAIM_ID:
        raise NotFound("There is no such claim.")
    return claim_id


class Claims:
    """Authorship claims on the configured database (papers materialised by the store)."""

    def __init__(
        self, db: Database, store: Store, on_signal: Callable[[str, Sequence[int]], None] | None = None
    ) -> None:
        self.db = db
        self.store = store
        self.on_signal = on_signal  # (user id, paper keys): a claim was approved (recommendations)

    # -- claiming ------------------------------------------------------------------------------------------------
    def claim(self, paper_pk: int, user_id: str, author_name: str) -> Claim:
        """A pending claim that ``user_id`` is the author ``author_name`` of the paper. :class:`BadInput` when the
        name is not one of the paper's authors, :class:`Conflict` when the user has claimed the paper already."""
        name = clean_text(author_name)
        if not name:
            raise BadInput("Choose which of the paper's authors you are.")
        if len(name) > MAX_AUTHOR_NAME:
            raise BadInput(f"An author name is at most {MAX_AUTHOR_NAME} characters.")
        claim_id = sortable_id()
        row = {
            "id": claim_id,
            "paper_pk": int(paper_pk),
            "user_id": user_id,
            "author_name": name,
            "status": "pending",
            "created_at": datetime.now(UTC),
        }
        with self.db.write() as conn:
            listed = select(authors.c.name).join(paper_authors, paper_authors.c.author_pk == authors.c.pk)
            if conn.execute(listed.where(paper_authors.c.paper_pk == paper_pk, authors.c.name == name)).first() is None:
                raise BadInput(f"'{name[:200]}' is not an author of this paper.")
            insert = self.db.insert(claims).values(row).on_conflict_do_nothing().returning(claims.c.id)
            if conn.execute(insert).first() is None:  # the unique (paper, user) key held
                raise Conflict("You have claimed this paper already; withdraw that claim to make another.")
            return self._get(conn, claim_id)

    def withdraw(self, claim_id: str, user_id: str) -> None:
        """Delete the user's own pending claim. Another user's claim, or none, is :class:`NotFound` (never says
        which); a decided one is a :class:`Conflict`."""
        with self.db.write() as conn:
            found = self._own(conn, _check_id(claim_id), user_id)
            if not found.pending:
                raise Conflict(f"That claim was {found.status} already; only a pending claim can be withdrawn.")
            conn.execute(delete(claims).where(claims.c.id == claim_id, claims.c.status == "pending"))

    # -- deciding ------------------------------------------------------------------------------------------------
    def approve(self, claim_id: str, admin_id: str) -> Claim:
        """Approve a pending claim (:class:`Conflict` when the name is approved for somebody else already)."""
        return self._decide(claim_id, admin_id, "approved")

    def reject(self, claim_id: str, admin_id: str) -> Claim:
        return self._decide(claim_id, admin_id, "rejected")

    def _decide(self, claim_id: str, admin_id: str, status: str) -> Claim:
        with self.db.write() as conn:
            self.db.serialize(conn, claims)  # two admins approving two claims of one name: one wins
            admin = select(users.c.id).where(users.c.id == admin_id, users.c.role == "admin", ~users.c.disabled)
            if conn.execute(admin).first() is None:
                raise Forbidden("Only an admin decides claims.")
            found = self._get(conn, _check_id(claim_id))
            if not found.pending:
                raise Conflict(f"That claim was {found.status} already.")
            taken = select(claims.c.id).where(
                claims.c.paper_pk == found.paper_pk,
                claims.c.author_name == found.author_name,
                claims.c.status == "approved",
            )
            if status == "approved" and conn.execute(taken).first() is not None:
                raise Conflict(f"'{found.author_name[:200]}' is claimed by another user already.")
            values = {"status": status, "decided_by": admin_id, "decided_at": datetime.now(UTC)}
            conn.execute(update(claims).where(claims.c.id == found.id).values(values))
            decided = self._get(conn, found.id)
        if self.on_signal is not None and status == "approved":
            self.on_signal(decided.user_id, [decided.paper_pk])
        return decided

    # -- reading -------------------------------------------------------------------------------------------------
    def pending(self, limit: int = 100, offset: int = 0) -> list[Claim]:
        """Pending claims, newest first (the admins' review list)."""
        query = _listing().where(claims.c.status == "pending").limit(max(0, limit)).offset(max(0, offset))
        with self.db.read() as conn:
            return [_claim(r) for r in conn.execute(query)]

    def count_pending(self) -> int:
        with self.db.read() as conn:
            query = select(func.count()).select_from(claims).where(claims.c.status == "pending")
            return int(conn.execute(query).scalar_one())

    def claims_of(self, user_id: str) -> list[Claim]:
        """The user's own claims, every status, newest first."""
        with self.db.read() as conn:
            return [_claim(r) for r in conn.execute(_listing().where(claims.c.user_id == user_id))]

    def claim_on(self, paper_pk: int, user_id: str) -> Claim | None:
        """The user's claim of this paper, if any."""
        query = _listing().where(claims.c.paper_pk == paper_pk, claims.c.user_id == user_id)
        with self.db.read() as conn:
            row = conn.execute(query).first()
        return _claim(row) if row else None

    def claimed_by(self, paper_pk: int) -> list[Claim]:
        """The approved claims of the paper by enabled users (the page's "claimed by")."""
        query = _listing().where(claims.c.paper_pk == paper_pk, claims.c.status == "approved", ~users.c.disabled)
        with self.db.read() as conn:
            return [_claim(r) for r in conn.execute(query)]

    def is_author(self, user_id: str, paper_pk: int) -> bool:
        """Whether the user has an approved claim of the paper."""
        query = select(
            exists().where(claims.c.user_id == user_id, claims.c.paper_pk == paper_pk, claims.c.status == "approved")
        )
        with self.db.read() as conn:
            return bool(conn.execute(query).scalar())

    def approved_for(self, user_id: str, limit: int = 50, offset: int = 0) -> list[Paper]:
        """The papers the user is an approved author of, newest first (not those an admin hid)."""
        p = listed_papers
        approved = exists().where(
            claims.c.paper_pk == p.c.pk, claims.c.user_id == user_id, claims.c.status == "approved"
        )
        query = (
            select(p.c.pk)
            .where(approved, not_hidden(p.c.pk))
            .order_by(*NEWEST_FIRST)
            .limit(max(0, limit))
            .offset(max(0, offset))
        )
        with self.db.read() as conn:
            pks = [int(pk) for pk in conn.execute(query).scalars()]
        return self.store.get_papers_by_pk(pks)

    def count_approved(self, user_id: str) -> int:
        p = listed_papers
        approved = exists().where(
            claims.c.paper_pk == p.c.pk, claims.c.user_id == user_id, claims.c.status == "approved"
        )
        query = select(func.count()).select_from(p).where(approved, not_hidden(p.c.pk))
        with self.db.read() as conn:
            return int(conn.execute(query).scalar_one())

    # -- helpers -------------------------------------------------------------------------------------------------
    @staticmethod
    def _get(conn: Connection, claim_id: str) -> Claim:
        row = conn.execute(_listing().where(claims.c.id == claim_id)).first()
        if row is None:
            raise NotFound("There is no such claim.")
        return _claim(row)

    def _own(self, conn: Connection, claim_id: str, user_id: str) -> Claim:
        row = conn.execute(_listing().where(claims.c.id == claim_id, claims.c.user_id == user_id)).first()
        if row is None:
            raise NotFound("There is no such claim.")
        return _claim(row)
