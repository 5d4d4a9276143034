"""Papers an admin hid: taken off every list, feed, search result and API answer, kept in the database.

A hidden paper is one row of ``hidden_papers`` (who hid it, when, why). The paper itself stays untouched — votes,
comments and collections that refer to it survive, and unhiding brings it all back.

The rule lives here once, in the two forms SQL is written in: :func:`not_hidden_sql` for the paper stores' own SQL
text, :func:`not_hidden` for SQLAlchemy Core queries (author pages, claims, collections). Every query that reads
papers for a page adds it — lists, counts, lookups by id or key, keyword and vector candidates — so no caller
filters hidden papers after the fact; a caller that must see them (moderation, an admin's view of the paper,
copying the database) asks for them by name (``include_hidden=True``).

It is ``pk NOT IN (SELECT paper_pk FROM hidden_papers)``, not a correlated ``NOT EXISTS``: PostgreSQL turns the
latter into an anti-join, which moved a keyword search off its GIN index and put a hash join (then a sort) between
a filtered vector search's HNSW scan and its ``LIMIT``; ``NOT IN`` is a filter on the rows as they are read (a
hashed subplan, built once per query), so every plan keeps its shape. SQLite probes the table's integer primary key
per row: about 0.6 ms for the 12,000 matches of a common word (the most a keyword search scores is 10,000). The
hash holds the hidden keys in ``work_mem``: far more papers than moderation ever hides.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import ColumnElement, delete, select

from dailypapers.db.engine import Database
from dailypapers.db.schema import hidden_papers, papers
from dailypapers.errors import BadInput
from dailypapers.papers.models import clean_text

MAX_REASON = 500


def not_hidden_sql(pk: str = "papers.pk") -> str:
    """The rule as SQL text (the same on both backends): the paper whose key is the column ``pk`` is not hidden."""
    return f"{pk} NOT IN (SELECT paper_pk FROM hidden_papers)"


def not_hidden(pk: ColumnElement[int]) -> ColumnElement[bool]:
    """The rule as a SQLAlchemy Core condition: paper ``pk`` is not hidden (the same ``NOT IN``)."""
    return pk.not_in(select(hidden_papers.c.paper_pk))


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


def is_hidden(db: Database, paper_pk: int) -> bool:
    """Whether an admin hid the paper (the mark on an admin's view of it; lists never need to ask)."""
    query = select(hidden_papers.c.paper_pk).where(hidden_papers.c.paper_pk == paper_pk)
    with db.read() as conn:
        return conn.execute(query).first() is not None


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
