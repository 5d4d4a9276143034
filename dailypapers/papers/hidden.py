"""Papers an admin hid: taken off every list, feed, search result and API answer, kept in the database.

A hidden paper is one row of ``hidden_papers`` (who hid it, when, why). The paper itself stays untouched — votes,
comments and collections that refer to it survive, and unhiding brings it all back. The daily lists exclude
hidden papers in their SQL (``NOT EXISTS`` on this small table, :data:`NOT_HIDDEN_SQL`); searches and single-paper
lookups drop them through :func:`hidden_among`, one indexed query for a page of keys.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import delete, select

from dailypapers.db.engine import Database, key_chunks
from dailypapers.db.schema import hidden_papers, papers
from dailypapers.errors import BadInput
from dailypapers.papers.models import clean_text

MAX_REASON = 500
NOT_HIDDEN_SQL = "NOT EXISTS (SELECT 1 FROM hidden_papers h WHERE h.paper_pk = papers.pk)"
"""The condition the paper stores add to every list query (the same text on both backends)."""


@dataclass(frozen=True)
class HiddenPaper:
    """A row of the moderation page: which paper, who hid it (a user id, None once that user is deleted), when, why."""

    paper_pk: int
    paper_id: str
    title: str
    hidden_by: str | None
    hidden_at: datetime
    reason: str


def hide(db: Database, paper_pk: int, by: str | None, reason: str = "") -> None:
    """Hide the paper (again: the first hiding's record is kept). A reason over :data:`MAX_REASON` characters is
    :class:`BadInput`."""
    text = clean_text(reason)
    if len(text) > MAX_REASON:
        raise BadInput(f"A reason is at most {MAX_REASON} characters; this one has {len(text):,}.")
    row = {"paper_pk": paper_pk, "hidden_by": by, "hidden_at": datetime.now(UTC), "reason": text}
    with db.write() as conn:
        conn.execute(db.insert(hidden_papers).values(row).on_conflict_do_nothing())


def unhide(db: Database, paper_pk: int) -> bool:
    """Show the paper again; False when it was not hidden."""
    with db.write() as conn:
        return bool(conn.execute(delete(hidden_papers).where(hidden_papers.c.paper_pk == paper_pk)).rowcount)


def hidden_among(db: Database, pks: Collection[int]) -> set[int]:
    """The keys among ``pks`` of hidden papers (one query; an empty ``pks`` asks nothing)."""
    found: set[int] = set()
    if not pks:  # every search page and list asks: no transaction for nothing
        return found
    with db.read() as conn:
        for chunk in key_chunks(pks):
            query = select(hidden_papers.c.paper_pk).where(hidden_papers.c.paper_pk.in_(chunk))
            found.update(int(pk) for pk in conn.execute(query).scalars())
    return found


def hidden_list(db: Database, limit: int = 100) -> list[HiddenPaper]:
    """The most recently hidden papers first."""
    h = hidden_papers
    query = (
        select(h.c.paper_pk, papers.c.id, papers.c.title, h.c.hidden_by, h.c.hidden_at, h.c.reason)
        .join(papers, papers.c.pk == h.c.paper_pk)
        .order_by(h.c.hidden_at.desc(), h.c.paper_pk.desc())
        .limit(limit)
    )
    with db.read() as conn:
        return [HiddenPaper(int(r[0]), r[1], r[2], r[3], r[4], r[5]) for r in conn.execute(query)]
