"""Is what the store derives from its papers in step with them? The SQL of ``dailypapers check``, per backend.

The keyword index (its check and its rebuild), and the keys of the stored embeddings (orphans, what a vector index
must hold).

``dailypapers check`` asks through :meth:`dailypapers.search.service.Search.keyword_index_check`, which uses a
keyword engine's own ``check``/``rebuild`` when it has them (a derived index such as tantivy) and these otherwise:

* SQLite, FTS5 (external content kept in step by triggers): every paper has a row in the index's ``docsize`` table
  and no row is left for a deleted paper; FTS5's own ``integrity-check`` compares the index with the content. The
  rebuild is FTS5's ``'rebuild'`` command (the index is derived entirely from ``papers``).
* PostgreSQL: ``tsv`` is a generated column, always in step with its row; what can break is its GIN index (an
  interrupted ``CREATE INDEX CONCURRENTLY`` or a manual change leaves it invalid). The rebuild is ``REINDEX``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import text

from dailypapers.papers.store.base import Store

SAMPLE = 20  # keys named in a report; the rest are counted


@dataclass
class KeywordIndexCheck:
    """What a keyword-index check found: papers the index lacks, entries of papers that are gone, other faults."""

    engine: str
    papers: int = 0
    indexed: int = 0
    missing: list[int] = field(default_factory=list)  # a sample of paper keys the index lacks
    missing_count: int = 0
    orphans: list[int] = field(default_factory=list)  # a sample of indexed keys with no paper
    orphan_count: int = 0
    faults: list[str] = field(default_factory=list)  # e.g. "integrity-check failed: …", "index papers_tsv invalid"

    @property
    def ok(self) -> bool:
        return not (self.missing_count or self.orphan_count or self.faults)

    def as_json(self) -> dict[str, Any]:
        return {
            "engine": self.engine,
            "papers": self.papers,
            "indexed": self.indexed,
            "missing": self.missing_count,
            "missingSample": self.missing,
            "orphans": self.orphan_count,
            "orphanSample": self.orphans,
            "faults": self.faults,
        }


_FTS_MISSING = "FROM papers WHERE pk NOT IN (SELECT id FROM papers_fts_docsize)"
_FTS_ORPHANS = "FROM papers_fts_docsize WHERE id NOT IN (SELECT pk FROM papers)"
_PG_INVALID = (
    "SELECT c.relname FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid"
    " WHERE i.indrelid = 'papers'::regclass AND NOT (i.indisvalid AND i.indisready)"
)


def check_store_keywords(store: Store) -> KeywordIndexCheck:
    """Check the store's own keyword index (FTS5 or ``tsvector``) against its papers."""
    with store.db.read() as conn:
        papers = int(conn.execute(text("SELECT count(*) FROM papers")).scalar_one())
        if store.backend == "postgres":
            found = KeywordIndexCheck("tsvector", papers=papers, indexed=papers)
            found.faults = [f"index {name} is invalid" for (name,) in conn.execute(text(_PG_INVALID))]
            return found
        found = KeywordIndexCheck("fts5", papers=papers)
        found.indexed = int(conn.execute(text("SELECT count(*) FROM papers_fts_docsize")).scalar_one())
        found.missing_count = int(conn.execute(text(f"SELECT count(*) {_FTS_MISSING}")).scalar_one())
        found.missing = [int(r[0]) for r in conn.execute(text(f"SELECT pk {_FTS_MISSING} LIMIT {SAMPLE}"))]
        found.orphan_count = int(conn.execute(text(f"SELECT count(*) {_FTS_ORPHANS}")).scalar_one())
        found.orphans = [int(r[0]) for r in conn.execute(text(f"SELECT id {_FTS_ORPHANS} LIMIT {SAMPLE}"))]
    if found.ok:  # the counts agree: compare the terms themselves (reads the whole index; seconds at 1M papers)
        try:
            with store.db.write() as conn:
                conn.execute(text("INSERT INTO papers_fts (papers_fts, rank) VALUES ('integrity-check', 1)"))
        except Exception as exc:  # FTS5 reports a mismatch as SQLITE_CORRUPT_VTAB
            found.faults.append(f"FTS5 integrity-check failed: {_reason(exc)}")
    return found


def rebuild_store_keywords(store: Store) -> None:
    """Rebuild the store's own keyword index from ``papers`` (FTS5 ``'rebuild'``, or ``REINDEX`` of ``tsv``)."""
    with store.db.write() as conn:
        if store.backend == "postgres":
            conn.execute(text("REINDEX TABLE papers"))  # every index of the table: tsv's GIN and the rest
        else:
            conn.execute(text("INSERT INTO papers_fts (papers_fts) VALUES ('rebuild')"))


def _reason(exc: Exception) -> str:
    """The driver's message (SQLAlchemy wraps it) without the statement."""
    return str(getattr(exc, "orig", exc)).strip()


# -- embeddings ---------------------------------------------------------------------------------------------------
_ORPHAN_EMBEDDINGS = "FROM embeddings WHERE NOT EXISTS (SELECT 1 FROM papers WHERE papers.pk = embeddings.paper_pk)"


def embedded_keys(store: Store, model: str) -> set[int]:
    """The keys of the papers with a stored embedding of ``model`` (keys only: no vector is read)."""
    with store.db.read() as conn:
        rows = conn.execute(text("SELECT paper_pk FROM embeddings WHERE model = :m"), {"m": model})
        return {int(r[0]) for r in rows}


def orphan_embeddings(store: Store) -> int:
    """Stored embeddings whose paper is gone (a foreign key that was not enforced, a restore of part of a table)."""
    with store.db.read() as conn:
        return int(conn.execute(text(f"SELECT count(*) {_ORPHAN_EMBEDDINGS}")).scalar_one())


def delete_orphan_embeddings(store: Store) -> int:
    with store.db.write() as conn:
        return int(conn.execute(text(f"DELETE {_ORPHAN_EMBEDDINGS}")).rowcount or 0)


def invalid_indexes(store: Store, table: str) -> list[str]:
    """PostgreSQL: the indexes of ``table`` that are not valid (an interrupted build); SQLite has none such."""
    if store.backend != "postgres":
        return []
    sql = _PG_INVALID.replace("'papers'::regclass", "CAST(:table AS regclass)")
    with store.db.read() as conn:
        return [str(r[0]) for r in conn.execute(text(sql), {"table": table})]


def reindex(store: Store, table: str) -> None:
    """PostgreSQL: rebuild every index of ``table`` (``embeddings`` or ``papers``, names from this module only)."""
    if store.backend == "postgres" and table in ("papers", "embeddings"):
        with store.db.write() as conn:
            conn.execute(text(f"REINDEX TABLE {table}"))
