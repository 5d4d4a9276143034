"""The embedded default backend: one SQLite file (WAL mode) with FTS5 for BM25.

Search ranks by keywords with tantivy (:mod:`dailypapers.search.keyword`), an index derived from this store whose
bookkeeping is :mod:`.sqlite_keyword`'s; FTS5's :meth:`SQLiteStore.keyword_search`, with the keyword budget, answers
while that index is being built, and stays the store contract both backends implement.

One writer connection serialised by a lock (``BEGIN IMMEDIATE``) and one reader connection per thread, so the
web server's threads read while an import writes. Every reader query has a time limit. Vectors are stored here
as float32 blobs; approximate search over them lives in the on-disk index of :mod:`dailypapers.search.vectors.hnsw`.
Job locks are ``flock`` locks on files next to the database (:mod:`dailypapers.db.locks`).
"""

from __future__ import annotations

import itertools
import json
import sqlite3
import threading
import time
from collections.abc import Collection, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from dailypapers.config import Config
from dailypapers.db.engine import Database
from dailypapers.db.locks import file_lock, lock_file
from dailypapers.db.meta import Meta
from dailypapers.db.migrations import migration_files, split_statements
from dailypapers.papers.authors import fill_author_slugs
from dailypapers.papers.hidden import not_hidden_sql
from dailypapers.papers.models import Filters, Paper, author_slug, normalize_title
from dailypapers.papers.rows import PAPER_COLUMNS, row_to_paper
from dailypapers.papers.store.base import Hit, StoreError, UpsertCounts
from dailypapers.papers.store.filter_sql import SQLITE, filter_pks_sql, filter_sql, newest_pk_sql
from dailypapers.papers.store.keyword_plan import DEFAULT_BUDGET, DocumentFrequencies, keyword_terms, plan_keyword_query
from dailypapers.papers.store.list_sql import LISTED, list_order, unless_hidden_wanted
from dailypapers.papers.store.sqlite_keyword import SQLiteKeywordRows
from dailypapers.papers.store.sqlite_vectors import SQLiteVectors
from dailypapers.papers.store.terms import fts5_expression, fts5_term
from dailypapers.papers.upsert import PLAN_COLUMNS, Step, match_keys, plan_upsert

# bm25() column weights for (title, abstract, author_names): a title match counts most.
BM25_WEIGHTS = (5.0, 1.0, 2.0)
QUERY_TIME_LIMIT_S = 5.0
_CHUNK = 500  # keys per IN (...) list
_UPDATED = [c for c in PAPER_COLUMNS if c != "added_at"]  # an update never changes added_at


class SQLiteStore(SQLiteVectors, SQLiteKeywordRows):
    """The :class:`~dailypapers.papers.store.base.Store` on a SQLite file."""

    backend = "sqlite"

    def __init__(
        self, path: Path, *, query_time_limit: float = QUERY_TIME_LIMIT_S, keyword_budget: int = DEFAULT_BUDGET
    ) -> None:
        self.path = Path(path)
        self.keyword_budget = keyword_budget
        self._dfs = DocumentFrequencies(self._count_term, count_many=self._count_terms, total=self.count_papers)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.query_time_limit = query_time_limit
        self._write_lock = threading.Lock()
        self._local = threading.local()
        self._all: list[sqlite3.Connection] = []
        self._writer = self._connect()
        self.db = Database(Config(database_url=f"sqlite:///{self.path}"))  # the plain tables, SQLAlchemy Core
        self.meta = Meta(self.db)

    # -- connections ------------------------------------------------------------------------------------------
    def _connect(self, *, deadline: list[float] | None = None) -> sqlite3.Connection:
        try:
            conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False, timeout=30)
        except sqlite3.Error as exc:
            raise StoreError(f"cannot open SQLite database {self.path}: {exc}") from exc
        conn.row_factory = sqlite3.Row
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("PRAGMA foreign_keys=ON")
        if deadline is not None:  # reader: abort a query that runs past its deadline
            conn.set_progress_handler(lambda: int(bool(deadline[0]) and time.monotonic() > deadline[0]), 10000)
        self._all.append(conn)
        return conn

    @contextmanager
    def _read(self) -> Iterator[sqlite3.Connection]:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            self._local.deadline = [0.0]
            conn = self._local.conn = self._connect(deadline=self._local.deadline)
        deadline: list[float] = self._local.deadline
        deadline[0] = time.monotonic() + self.query_time_limit
        try:
            yield conn
        except sqlite3.OperationalError as exc:
            if "interrupted" in str(exc):
                raise StoreError(f"query took longer than {self.query_time_limit:g} s and was stopped") from exc
            raise
        finally:
            deadline[0] = 0.0

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        with self._write_lock:
            conn = self._writer
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

    def close(self) -> None:
        for conn in self._all:
            conn.close()
        self._all.clear()
        self.db.close()

    def backup(self, target: Path) -> None:
        """Copy the database to the new file ``target`` while others read and write (SQLite's online backup API,
        which copies a consistent snapshot page by page)."""
        dst = sqlite3.connect(target)
        try:
            with self._read() as conn:
                self._local.deadline[0] = 0.0  # a large database takes longer than a query's time limit
                conn.backup(dst)
        finally:
            dst.close()

    # -- migrations --------------------------------------------------------------------------------------------
    def migrate(self) -> list[str]:
        applied: list[str] = []
        with self._write_lock:
            conn = self._writer
            conn.execute("CREATE TABLE IF NOT EXISTS schema_migrations (name TEXT PRIMARY KEY, applied_at TEXT)")
            done = {r[0] for r in conn.execute("SELECT name FROM schema_migrations")}
            for name, sql in migration_files("sqlite"):
                if name in done:
                    continue
                conn.execute("BEGIN IMMEDIATE")
                try:
                    for statement in split_statements(sql):
                        conn.execute(statement)
                    conn.execute("INSERT INTO schema_migrations VALUES (?, ?)", (name, datetime.now(UTC).isoformat()))
                except sqlite3.Error as exc:
                    conn.execute("ROLLBACK")
                    raise StoreError(f"migration {name} failed: {exc}") from exc
                conn.execute("COMMIT")
                applied.append(name)
        fill_author_slugs(self.db)  # author rows written before migration 0005 have no slug
        return applied

    # -- papers ------------------------------------------------------------------------------------------------
    def upsert_papers(self, papers: Sequence[Paper]) -> UpsertCounts:
        if not papers:
            return UpsertCounts()
        ids, norms = match_keys(papers)
        with self._write() as conn:
            steps, counts = plan_upsert(papers, self._rows_matching(conn, ids, norms), norms)
            self._write_plan(conn, steps)
        return counts

    @staticmethod
    def _rows_matching(conn: sqlite3.Connection, ids: list[str], norms: list[str]) -> list[Mapping[str, Any]]:
        """Every stored row with one of these ids or normalised titles: one query per chunk of the batch, which
        SQLite answers from the two indexes (OR of IN lists)."""
        found: dict[int, Mapping[str, Any]] = {}
        sql = f"SELECT {', '.join(PLAN_COLUMNS)} FROM papers WHERE id IN ({{}}) OR title_norm IN ({{}})"
        for i in range(0, len(ids), _CHUNK):
            chunk_ids, chunk_norms = ids[i : i + _CHUNK], norms[i : i + _CHUNK]
            marks = ", ".join("?" * len(chunk_ids))
            rows = conn.execute(sql.format(marks, marks), [*chunk_ids, *chunk_norms])
            found.update((r["pk"], r) for r in rows)  # a row matched by both chunks' keys is listed once
        return list(found.values())

    @classmethod
    def _write_plan(cls, conn: sqlite3.Connection, steps: list[Step]) -> None:
        """Write the planned rows, then the author and category links of every paper written."""
        adds = [s for s in steps if s.kind == "add"]
        if adds:  # keys as SQLite would give them (max + 1: no AUTOINCREMENT), so that inserts can go in bulk
            top = int(conn.execute("SELECT coalesce(max(pk), 0) FROM papers").fetchone()[0])
            for pk, step in enumerate(adds, start=top + 1):
                step.slot.pk = pk
        insert = (
            f"INSERT INTO papers (pk, {', '.join(PAPER_COLUMNS)}) VALUES ({', '.join('?' * (len(PAPER_COLUMNS) + 1))})"
        )
        update = f"UPDATE papers SET {', '.join(f'{c} = ?' for c in _UPDATED)} WHERE pk = ?"
        # Runs of adds and of updates in batch order: a later step may rename a row an earlier one wrote.
        for kind, run in itertools.groupby(steps, key=lambda s: s.kind):
            if kind == "add":
                conn.executemany(insert, [[s.slot.pk, *s.row.values()] for s in run])
            else:
                conn.executemany(update, [[*(s.row[c] for c in _UPDATED), s.slot.pk] for s in run])
        cls._write_links(conn, {int(s.slot.pk): s.paper for s in steps if s.slot.pk is not None})

    @staticmethod
    def _write_links(conn: sqlite3.Connection, papers: dict[int, Paper]) -> None:
        """Replace the author and category rows of these papers (a few bulk statements per batch)."""
        conn.executemany("DELETE FROM paper_authors WHERE paper_pk = ?", [(pk,) for pk in papers])
        conn.executemany("DELETE FROM paper_categories WHERE paper_pk = ?", [(pk,) for pk in papers])
        names = list(dict.fromkeys(name for p in papers.values() for name in p.authors))
        conn.executemany(
            "INSERT OR IGNORE INTO authors (name, slug) VALUES (?, ?)", [(n, author_slug(n)) for n in names]
        )
        author_pks: dict[str, int] = {}
        for i in range(0, len(names), _CHUNK):
            chunk = names[i : i + _CHUNK]
            sql = f"SELECT name, pk FROM authors WHERE name IN ({', '.join('?' * len(chunk))})"
            author_pks.update((r[0], r[1]) for r in conn.execute(sql, chunk))
        conn.executemany(
            "INSERT INTO paper_authors VALUES (?, ?, ?, ?)",
            [
                (pk, position, author_pks[name], [*p.affiliations, *[None] * len(p.authors)][position])
                for pk, p in papers.items()
                for position, name in enumerate(p.authors)
            ],
        )
        cats = [(pk, c) for pk, p in papers.items() for c in p.categories]
        conn.executemany("INSERT OR IGNORE INTO paper_categories VALUES (?, ?)", cats)

    def get_paper(self, paper_id: str, *, include_hidden: bool = False) -> Paper | None:
        sql = f"SELECT * FROM papers WHERE id = ?{unless_hidden_wanted(include_hidden)}"
        with self._read() as conn:
            row = conn.execute(sql, (paper_id,)).fetchone()
        return row_to_paper(row) if row else None

    def get_papers_by_pk(self, pks: Sequence[int], *, include_hidden: bool = False) -> list[Paper]:
        found: dict[int, Paper] = {}
        shown = unless_hidden_wanted(include_hidden)
        with self._read() as conn:
            for i in range(0, len(pks), _CHUNK):
                chunk = list(pks[i : i + _CHUNK])
                sql = f"SELECT * FROM papers WHERE pk IN ({', '.join('?' * len(chunk))}){shown}"
                found.update({r["pk"]: row_to_paper(r) for r in conn.execute(sql, chunk)})
        return [found[pk] for pk in pks if pk in found]

    def find_by_title(self, title: str, *, include_hidden: bool = False) -> Paper | None:
        sql = f"SELECT * FROM papers WHERE title_norm = ?{unless_hidden_wanted(include_hidden)} ORDER BY pk LIMIT 1"
        with self._read() as conn:
            row = conn.execute(sql, (normalize_title(title),)).fetchone()
        return row_to_paper(row) if row else None

    def count_papers(self) -> int:
        with self._read() as conn:
            return int(conn.execute("SELECT count(*) FROM papers").fetchone()[0])

    def papers_added_between(
        self,
        start: date,
        end: date,
        *,
        limit: int | None = None,
        offset: int = 0,
        sort: str = "added",
        weights: Mapping[date, float] | None = None,
    ) -> list[Paper]:
        order, order_params = list_order(sort, weights, "?")
        days = [p.isoformat() if isinstance(p, date) else p for p in order_params]  # added_at is ISO text here
        with self._read() as conn:
            rows = conn.execute(
                f"SELECT * FROM papers WHERE added_at BETWEEN ? AND ? AND {LISTED} ORDER BY {order} LIMIT ? OFFSET ?",
                (start.isoformat(), end.isoformat(), *days, -1 if limit is None else limit, offset),
            ).fetchall()
        return [row_to_paper(r) for r in rows]

    def count_added_between(self, start: date, end: date) -> int:
        with self._read() as conn:
            row = conn.execute(
                f"SELECT count(*) FROM papers WHERE added_at BETWEEN ? AND ? AND {LISTED}",
                (start.isoformat(), end.isoformat()),
            ).fetchone()
        return int(row[0])

    def latest_added_day(self) -> date | None:
        with self._read() as conn:
            value = conn.execute("SELECT max(added_at) FROM papers").fetchone()[0]
        return date.fromisoformat(value) if value else None

    def neighbour_days(self, day: date) -> tuple[date | None, date | None]:
        iso = day.isoformat()
        with self._read() as conn:
            prev = conn.execute("SELECT max(added_at) FROM papers WHERE added_at < ?", (iso,)).fetchone()[0]
            nxt = conn.execute("SELECT min(added_at) FROM papers WHERE added_at > ?", (iso,)).fetchone()[0]
        return (date.fromisoformat(prev) if prev else None, date.fromisoformat(nxt) if nxt else None)

    def iter_papers(self, batch: int = 1000) -> Iterator[Paper]:
        last = 0
        while True:
            with self._read() as conn:
                rows = conn.execute("SELECT * FROM papers WHERE pk > ? ORDER BY pk LIMIT ?", (last, batch)).fetchall()
            if not rows:
                return
            last = rows[-1]["pk"]
            yield from (row_to_paper(r) for r in rows)

    # -- keyword search -------------------------------------------------------------------------------------------
    @staticmethod
    def _filter_sql(filters: Filters, alias: str = "p") -> tuple[str, list[Any]]:
        return filter_sql(filters, SQLITE, alias)

    def keyword_search(self, query: str, limit: int, filters: Filters = Filters()) -> list[Hit]:
        terms = keyword_terms(query, self._dfs, self.keyword_budget + 1)
        plan = plan_keyword_query(terms, self._term_df, self.keyword_budget, lambda: self._newest(filters))
        if not plan.terms:
            return []
        weights = ", ".join(str(w) for w in BM25_WEIGHTS)
        where, args = self._filter_sql(filters) if filters.active else ("1", [])
        where += f" AND {not_hidden_sql('papers_fts.rowid')}"  # hidden papers are never candidates
        if plan.min_pk is not None:
            where += " AND papers_fts.rowid BETWEEN ? AND ?"
            args += [plan.min_pk, plan.max_pk]
        # Without filters the papers table is not joined: scoring the index alone is about twice as fast.
        source = "papers_fts JOIN papers p ON p.pk = papers_fts.rowid" if filters.active else "papers_fts"
        sql = (
            f"SELECT papers_fts.rowid, -bm25(papers_fts, {weights}) AS score FROM {source}"
            f" WHERE papers_fts MATCH ? AND {where} ORDER BY bm25(papers_fts, {weights}) LIMIT ?"
        )
        with self._read() as conn:
            rows = conn.execute(sql, [fts5_expression(plan.terms, plan.conjunctive), *args, limit]).fetchall()
        return [Hit(pk=r[0], score=float(r[1]), extra={"terms": plan.terms}) for r in rows]  # terms: for highlighting

    def _term_df(self, term: str) -> int:
        return self._dfs.get(term, self.keyword_budget + 1)

    def _count_term(self, term: str, cap: int) -> int:
        return self._count_terms([term], cap)[term]

    def _count_terms(self, terms: Sequence[str], cap: int) -> dict[str, int]:
        """Rows of the full-text index each of ``terms`` matches, counted up to ``cap``: one statement per 500 terms
        (they travel as one JSON array), as a pasted abstract has hundreds."""
        sql = (
            "SELECT t.key, (SELECT count(*) FROM (SELECT rowid FROM papers_fts WHERE papers_fts MATCH t.value LIMIT ?))"
            " FROM json_each(?) t"
        )
        counts: dict[str, int] = {}
        with self._read() as conn:
            for start in range(0, len(terms), 500):
                chunk = list(terms[start : start + 500])
                rows = conn.execute(sql, (cap, json.dumps([fts5_term(t) for t in chunk]))).fetchall()
                counts.update({chunk[int(r[0])]: int(r[1]) for r in rows})
        return counts

    def _newest(self, filters: Filters) -> int | None:
        with self._read() as conn:
            row = conn.execute(*newest_pk_sql(filters, SQLITE)).fetchone()
        return None if row is None or row[0] is None else int(row[0])

    def filter_pks(self, filters: Filters, among: Collection[int] | None = None) -> set[int]:
        with self._read() as conn:
            return {r[0] for r in conn.execute(*filter_pks_sql(filters, SQLITE, among))}

    # -- jobs and whole-database operations ------------------------------------------------------------------------
    def job_lock(self, name: str) -> AbstractContextManager[bool]:
        return file_lock(lock_file(self.path, name))

    def database_bytes(self) -> int:
        """The database file and its write-ahead log, in bytes."""
        files = (self.path, self.path.with_name(self.path.name + "-wal"))
        return sum(f.stat().st_size for f in files if f.exists())

    def table_counts(self) -> dict[str, int]:
        with self._read() as conn:
            tables = conn.execute("SELECT name, sql FROM sqlite_master WHERE type = 'table'").fetchall()
            virtual = [t[0] for t in tables if str(t[1]).upper().startswith("CREATE VIRTUAL TABLE")]
            names = sorted(
                t[0]
                for t in tables
                if t[0] not in ("schema_migrations", "keyword_index")  # keyword_index: the tantivy index's bookkeeping
                and not t[0].startswith("sqlite_")
                and not any(t[0] == v or t[0].startswith(v + "_") for v in virtual)  # search index and its shadows
            )
            self._local.deadline[0] = 0.0  # a full count of a large table may take a while
            return {n: int(conn.execute(f'SELECT count(*) FROM "{n}"').fetchone()[0]) for n in names}
