"""Author pages: every paper of an author name slug, newest first, and the co-authors on them.

An author page is keyed by :func:`dailypapers.papers.models.author_slug` of the name, not by a database key, so its
URL is the same in every copy of the database (``db copy`` re-keys papers and authors, never slugs: the target's
store computes the same slug from the same name). Several spellings share one slug (``J. Smith``, ``J Smith``):
the page is theirs together and lists every name.

The queries are SQLAlchemy Core over the plain ``authors`` and ``paper_authors`` tables, written once for both
backends; papers are materialised by the store (:meth:`~dailypapers.papers.store.base.Store.get_papers_by_pk`),
as everywhere else. Hidden papers are left out by the one rule every list adds
(:func:`dailypapers.papers.hidden.not_hidden`).

:func:`fill_author_slugs` gives a slug to the author rows written before migration 0005 added the column; both
stores call it at the end of ``migrate()``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import ColumnElement, Select, bindparam, column, exists, func, select, table, update

from dailypapers.db.engine import Database
from dailypapers.db.schema import authors, paper_authors
from dailypapers.papers.hidden import not_hidden
from dailypapers.papers.models import Paper, author_slug

if TYPE_CHECKING:
    from dailypapers.papers.store.base import Store

SLUG_BATCH = 1000  # author rows per backfill transaction: short write locks on a large table
MAX_SLUG = 200  # author_slug() never makes a longer one

# The columns of ``papers`` the order needs, which the plain schema does not list (the stores own that table).
listed_papers = table("papers", column("pk"), column("display_date"), column("published"), column("added_at"))
NEWEST_FIRST = (
    listed_papers.c.display_date.desc(),
    listed_papers.c.published.desc().nulls_last(),  # the same day: the later publication first
    listed_papers.c.added_at.desc(),
    listed_papers.c.pk.desc(),
)


def fill_author_slugs(db: Database, batch: int = SLUG_BATCH) -> int:
    """Give every author row without a slug its :func:`author_slug` (rows from before migration 0005), a batch
    per transaction; returns how many were filled. Rows of only punctuation get ``""``, never NULL, so every row
    is visited once and a second run finds nothing."""
    done = 0
    fill = update(authors).where(authors.c.pk == bindparam("b_pk")).values(slug=bindparam("b_slug"))
    while True:
        with db.write() as conn:
            rows = conn.execute(
                select(authors.c.pk, authors.c.name).where(authors.c.slug.is_(None)).order_by(authors.c.pk).limit(batch)
            ).all()
            if not rows:
                return done
            conn.execute(fill, [{"b_pk": pk, "b_slug": author_slug(name)} for pk, name in rows])
        done += len(rows)


@dataclass(frozen=True)
class Coauthor:
    """Someone who wrote papers with the author: a spelling of their name (the first alphabetically, when there
    are several), its slug, and how many of the author's papers they share."""

    name: str
    slug: str
    papers: int


def _by_slug(slug: str, pk: ColumnElement[int]) -> ColumnElement[bool]:
    """Paper ``pk`` has an author whose name has ``slug``."""
    return exists().where(
        paper_authors.c.paper_pk == pk, paper_authors.c.author_pk == authors.c.pk, authors.c.slug == slug
    )


class Authors:
    """The author pages of the configured database."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.db: Database = store.db

    def _pks(self, slug: str) -> Select[Any]:
        p = listed_papers
        return select(p.c.pk).where(_by_slug(slug, p.c.pk), not_hidden(p.c.pk))

    def papers(self, slug: str, limit: int = 50, offset: int = 0) -> list[Paper]:
        """The author's papers, newest first (display date, then publication, then the day added)."""
        if not slug or len(slug) > MAX_SLUG:
            return []
        query = self._pks(slug).order_by(*NEWEST_FIRST).limit(max(0, limit)).offset(max(0, offset))
        with self.db.read() as conn:
            pks = [int(pk) for pk in conn.execute(query).scalars()]
        return self.store.get_papers_by_pk(pks)

    def count(self, slug: str) -> int:
        """How many (visible) papers the author has."""
        if not slug or len(slug) > MAX_SLUG:
            return 0
        with self.db.read() as conn:
            return int(conn.execute(select(func.count()).select_from(self._pks(slug).subquery())).scalar_one())

    def names(self, slug: str) -> list[str]:
        """Every spelling of the author's name that has a visible paper, alphabetically; ``[]``: no such author."""
        if not slug or len(slug) > MAX_SLUG:
            return []
        a, pa = authors, paper_authors
        query = (
            select(a.c.name)
            .where(a.c.slug == slug, exists().where(pa.c.author_pk == a.c.pk, not_hidden(pa.c.paper_pk)))
            .order_by(a.c.name)
        )
        with self.db.read() as conn:
            return list(conn.execute(query).scalars())

    def coauthors(self, slug: str, limit: int = 20) -> list[Coauthor]:
        """The people on the author's visible papers (other slugs), most shared papers first, then by name."""
        if not slug or len(slug) > MAX_SLUG:
            return []
        mine = paper_authors.alias("mine")
        me = authors.alias("me")
        theirs, them = paper_authors.alias("theirs"), authors.alias("them")
        shared = func.count(func.distinct(theirs.c.paper_pk))
        query = (
            select(func.min(them.c.name), them.c.slug, shared)
            .select_from(mine)
            .join(me, me.c.pk == mine.c.author_pk)
            .join(theirs, theirs.c.paper_pk == mine.c.paper_pk)
            .join(them, them.c.pk == theirs.c.author_pk)
            .where(me.c.slug == slug, them.c.slug != slug, them.c.slug != "", not_hidden(mine.c.paper_pk))
            .group_by(them.c.slug)
            .order_by(shared.desc(), them.c.slug)
            .limit(max(0, limit))
        )
        with self.db.read() as conn:
            return [Coauthor(name, s, int(n)) for name, s, n in conn.execute(query)]
