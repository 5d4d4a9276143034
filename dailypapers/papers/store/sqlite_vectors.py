"""The SQLite store's embeddings: one float32 blob per (paper, model) in ``embeddings``, with the hash of the text
it was computed from, so a changed title or abstract is embedded again. Approximate search over the vectors is not
here but in the on-disk HNSW index (:mod:`dailypapers.search.vectors.hnsw`). A mixin of
:class:`~dailypapers.papers.store.sqlite.SQLiteStore`, as :mod:`.pg_vectors` is of the PostgreSQL store.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING

import numpy as np

from dailypapers.papers.models import Paper
from dailypapers.papers.rows import row_to_paper, text_hash


class SQLiteVectors:
    """Embedding storage over the store's connections (``_read`` and ``_write``, provided by the store)."""

    if TYPE_CHECKING:  # supplied by SQLiteStore

        def _read(self) -> AbstractContextManager[sqlite3.Connection]: ...

        def _write(self) -> AbstractContextManager[sqlite3.Connection]: ...

    _NEEDS = (
        "FROM papers p LEFT JOIN embeddings e ON e.paper_pk = p.pk AND e.model = ?"
        " WHERE (e.paper_pk IS NULL OR e.text_hash != p.text_hash)"
    )

    def papers_needing_embedding(self, model: str, batch: int = 256) -> Iterator[list[Paper]]:
        last = 0
        while True:
            with self._read() as conn:
                rows = conn.execute(
                    f"SELECT p.* {self._NEEDS} AND p.pk > ? ORDER BY p.pk LIMIT ?", (model, last, batch)
                ).fetchall()
            if not rows:
                return
            last = rows[-1]["pk"]
            yield [row_to_paper(r) for r in rows]

    def count_needing_embedding(self, model: str) -> int:
        with self._read() as conn:
            return int(conn.execute(f"SELECT count(*) {self._NEEDS}", (model,)).fetchone()[0])

    def save_embeddings(self, model: str, rows: Iterable[tuple[Paper, np.ndarray]]) -> None:
        values = [(p.pk, model, text_hash(p), np.asarray(v, dtype=np.float32).tobytes()) for p, v in rows]
        with self._write() as conn:
            conn.executemany("INSERT OR REPLACE INTO embeddings VALUES (?, ?, ?, ?)", values)

    def iter_embeddings(self, model: str, batch: int = 10000) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        last = 0
        while True:
            with self._read() as conn:
                rows = conn.execute(
                    "SELECT paper_pk, vector FROM embeddings WHERE model = ? AND paper_pk > ?"
                    " ORDER BY paper_pk LIMIT ?",
                    (model, last, batch),
                ).fetchall()
            if not rows:
                return
            last = rows[-1][0]
            pks = np.array([r[0] for r in rows], dtype=np.int64)
            yield pks, np.vstack([np.frombuffer(r[1], dtype=np.float32) for r in rows])

    def get_embedding(self, model: str, pk: int) -> np.ndarray | None:
        with self._read() as conn:
            row = conn.execute("SELECT vector FROM embeddings WHERE model = ? AND paper_pk = ?", (model, pk)).fetchone()
        return np.frombuffer(row[0], dtype=np.float32).copy() if row else None

    def embedding_counts(self) -> dict[str, int]:
        with self._read() as conn:
            rows = conn.execute("SELECT model, count(*) FROM embeddings GROUP BY model ORDER BY model").fetchall()
        return {r[0]: int(r[1]) for r in rows}

    def delete_embeddings(self, model: str) -> int:
        with self._write() as conn:
            return conn.execute("DELETE FROM embeddings WHERE model = ?", (model,)).rowcount
