"""Community votes: one row of ``votes (paper_pk, voter, created_at)`` per paper and voter, queried once for both
backends (SQLAlchemy Core, :mod:`dailypapers.db.schema`).

A voter is a signed-in user (``user:<id>``, see :attr:`dailypapers.accounts.models.User.voter`) or, only when an
admin turns on ``DAILYPAPERS_ANONYMOUS_VOTES``, an anonymous browser cookie. Votes stored before accounts existed
are anonymous ones; they are kept and still counted. Triggers (migration 0002) keep ``papers.votes_count`` equal
to the paper's number of votes in the same transaction, so a paper's upvotes (``papers.upvotes``, imported, plus
``votes_count``) are one column read away and agree with the votes whichever process wrote them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime

from sqlalchemy import delete, func, select

from dailypapers.db.engine import Database, key_chunks
from dailypapers.db.schema import papers, votes
from dailypapers.errors import BadInput

MAX_VOTER_LENGTH = 128


def check_voter(voter: str) -> str:
    """``voter`` if it is a usable voter id (1 to :data:`MAX_VOTER_LENGTH` characters), else :class:`BadInput`."""
    if not isinstance(voter, str) or not 0 < len(voter) <= MAX_VOTER_LENGTH:
        raise BadInput(f"a voter id must be 1 to {MAX_VOTER_LENGTH} characters")
    return voter


class Votes:
    """Upvotes on the configured database."""

    def __init__(self, db: Database, on_signal: Callable[[str, Sequence[int]], None] | None = None) -> None:
        self.db = db
        self.on_signal = on_signal  # (user id, paper keys): a signed-in user's upvotes changed (recommendations)

    def cast(self, paper_id: str, voter: str, up: bool) -> int | None:
        """Record (``up``) or withdraw ``voter``'s upvote of paper ``paper_id``, idempotently, in one transaction.
        Returns the paper's upvotes afterwards (imported + community), or None when no paper has that id."""
        check_voter(voter)
        with self.db.write() as conn:
            pk = conn.execute(select(papers.c.pk).where(papers.c.id == paper_id)).scalar_one_or_none()
            if pk is None:
                return None
            if up:
                stmt = self.db.insert(votes).values(paper_pk=pk, voter=voter, created_at=datetime.now(UTC))
                conn.execute(stmt.on_conflict_do_nothing())
            else:
                conn.execute(delete(votes).where(votes.c.paper_pk == pk, votes.c.voter == voter))
            total = select(papers.c.upvotes + papers.c.votes_count).where(papers.c.pk == pk)
            upvotes = int(conn.execute(total).scalar_one())
        if self.on_signal is not None and voter.startswith("user:"):
            self.on_signal(voter.removeprefix("user:"), [int(pk)])
        return upvotes

    def voted(self, voter: str, paper_pks: Sequence[int]) -> set[int]:
        """The keys among ``paper_pks`` of the papers ``voter`` has upvoted."""
        found: set[int] = set()
        with self.db.read() as conn:
            for chunk in key_chunks(paper_pks):
                query = select(votes.c.paper_pk).where(votes.c.voter == voter, votes.c.paper_pk.in_(chunk))
                found.update(int(pk) for pk in conn.execute(query).scalars())
        return found

    def count(self) -> int:
        with self.db.read() as conn:
            return int(conn.execute(select(func.count()).select_from(votes)).scalar_one())
