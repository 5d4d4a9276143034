"""The SQLite store's side of the tantivy keyword index: which papers the index lacks or holds in an old version.

The index itself is a derived folder in the data folder (:mod:`dailypapers.search.keyword.tantivy_index`); the
table ``keyword_index`` (migration 0011) records, per paper, the ``content_hash`` of the version the index holds.
An indexing step lists the papers whose hash differs or who have no row (:meth:`keyword_pending`) and the rows
whose paper is gone (:meth:`keyword_orphans`), writes them to the index, commits it, and only then records them
(:meth:`keyword_indexed`), so a crash between the two repeats work and never loses any. A mixin of
:class:`~dailypapers.papers.store.sqlite.SQLiteStore`.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any

KEYWORD_COLUMNS = ("pk", "id", "title", "abstract", "author_names", "categories", "display_date", "added_at")
_PENDING = (
    "FROM papers p LEFT JOIN keyword_index k ON k.paper_pk = p.pk"
    " WHERE k.paper_pk IS NULL OR k.content_hash != p.content_hash"
)


class SQLiteKeywordRows:
    """Bookkeeping of the keyword index over the store's connections (``_read``, ``_write``: the store's)."""

    if TYPE_CHECKING:  # supplied by SQLiteStore

        def _read(self) -> AbstractContextManager[sqlite3.Connection]: ...

        def _write(self) -> AbstractContextManager[sqlite3.Connection]: ...

    def keyword_pending_count(self) -> int:
        """How many papers the keyword index lacks or holds in an older version."""
        with self._read() as conn:
            return int(conn.execute(f"SELECT count(*) {_PENDING}").fetchone()[0])

    def keyword_pending(self, batch: int = 5000) -> Iterator[list[dict[str, Any]]]:
        """Batches of the papers :meth:`keyword_pending_count` counts, in key order: the columns the index needs
        (:data:`KEYWORD_COLUMNS`) and ``content_hash``."""
        cols = ", ".join(f"p.{c}" for c in (*KEYWORD_COLUMNS, "content_hash"))
        last = 0
        while True:
            with self._read() as conn:
                rows = conn.execute(
                    f"SELECT {cols} {_PENDING} AND p.pk > ? ORDER BY p.pk LIMIT ?", (last, batch)
                ).fetchall()
            if not rows:
                return
            last = rows[-1]["pk"]
            yield [dict(r) for r in rows]

    def keyword_orphans(self) -> list[int]:
        """Keys the keyword index holds whose paper was deleted."""
        with self._read() as conn:
            sql = (
                "SELECT paper_pk FROM keyword_index k WHERE NOT EXISTS (SELECT 1 FROM papers p WHERE p.pk = k.paper_pk)"
            )
            return [int(r[0]) for r in conn.execute(sql)]

    def hidden_pks(self) -> list[int]:
        """The keys :mod:`dailypapers.papers.hidden` hides (its rule, ``pk NOT IN hidden_papers``, as the set the
        keyword engine excludes; a handful of rows, read per search so hiding takes effect at once)."""
        with self._read() as conn:
            return [int(r[0]) for r in conn.execute("SELECT paper_pk FROM hidden_papers")]

    def keyword_versions(self) -> list[tuple[int, str, str | None]]:
        """``(pk, content_hash, hash the index holds or None)`` of every paper, in key order (the check)."""
        sql = "SELECT p.pk, p.content_hash, k.content_hash FROM papers p LEFT JOIN keyword_index k ON k.paper_pk = p.pk"
        with self._read() as conn:
            return [(int(r[0]), str(r[1]), r[2]) for r in conn.execute(sql + " ORDER BY p.pk")]

    def keyword_indexed(
        self, rows: Sequence[tuple[int, str]], removed: Sequence[int], meta: tuple[str, str] | None = None
    ) -> None:
        """Record, in one transaction, that the index now holds these ``(pk, content_hash)`` versions and no longer
        the ``removed`` keys, and set the meta entry ``meta`` (the index's generation) with them."""
        with self._write() as conn:
            conn.executemany("INSERT OR REPLACE INTO keyword_index VALUES (?, ?)", rows)
            conn.executemany("DELETE FROM keyword_index WHERE paper_pk = ?", [(pk,) for pk in removed])
            if meta is not None:
                conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", meta)

    def keyword_forget_all(self, meta: tuple[str, str] | None = None) -> None:
        """Forget what the index holds (before it is built afresh): every paper becomes pending."""
        with self._write() as conn:
            conn.execute("DELETE FROM keyword_index")
            if meta is not None:
                conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", meta)
