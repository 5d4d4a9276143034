"""The PostgreSQL backend: papers in plain tables, keyword search on a weighted tsvector, vectors in pgvector.

Connections come from a small :class:`psycopg_pool.ConnectionPool` (autocommit; every write is one explicit
transaction, serialised by an advisory lock like SQLite's single writer). Reads have a statement time limit.
Keyword search ranks with ``ts_rank_cd`` over a generated ``tsv`` column (title weight A > abstract B > authors C);
vector search orders by cosine distance on a per-model HNSW index created on demand (see the migration's notes).
Behaviour otherwise mirrors :class:`dailypapers.store.sqlite.SQLiteStore`; both share :mod:`dailypapers.store.rows`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager, suppress
from datetime import date
from typing import Any

import numpy as np
import psycopg
from pgvector.psycopg import register_vector
from psycopg import sql
from psycopg.rows import DictRow, dict_row
from psycopg_pool import ConnectionPool, PoolTimeout

from dailypapers.models import Paper, normalize_title
from dailypapers.store.base import Filters, Hit, StoreError, UpsertCounts
from dailypapers.store.migrations import migration_files
from dailypapers.store.rows import PAPER_COLUMNS, row_to_paper, text_hash
from dailypapers.store.terms import query_terms
from dailypapers.store.upsert_plan import PLAN_COLUMNS, plan_upsert

QUERY_TIME_LIMIT_S = 5.0
CONNECT_TIMEOUT_S = 10
# ts_rank_cd weights for {D, C, B, A} = {-, authors, abstract, title}: a title match counts most.
RANK_WEIGHTS = "{0.1, 0.2, 0.4, 1.0}"
EF_SEARCH = 100
_WRITE_LOCK = 0x6470_7772  # advisory lock key ("dpwr"): one writer at a time, as with SQLite
_MIGRATE_LOCK = 0x6470_6D67  # "dpmg"
_SELECT = ", ".join(["pk", *PAPER_COLUMNS])
_SELECT_P = ", ".join(f"p.{c}" for c in ["pk", *PAPER_COLUMNS])

Conn = psycopg.Connection[DictRow]


class PostgresStore:
    """The :class:`~dailypapers.store.base.Store` on a PostgreSQL database with the pgvector extension."""

    backend = "postgres"

    def __init__(self, url: str, *, max_connections: int = 8, query_time_limit: float = QUERY_TIME_LIMIT_S) -> None:
        self.url = url
        self.query_time_limit = query_time_limit
        self._indexed: set[tuple[str, int]] = set()
        self._iterative: bool | None = None
        try:  # one direct connection first: the pool only logs failures, this reports the real reason
            psycopg.connect(url, connect_timeout=CONNECT_TIMEOUT_S).close()
        except (psycopg.Error, ValueError) as exc:
            raise StoreError(f"cannot connect to PostgreSQL at {_redact(url)}: {str(exc).strip()}") from exc
        self._pool: ConnectionPool[Conn] = ConnectionPool(
            url,
            connection_class=psycopg.Connection[DictRow],
            kwargs={"autocommit": True, "row_factory": dict_row, "connect_timeout": CONNECT_TIMEOUT_S},
            min_size=1,
            max_size=max_connections,
            configure=self._configure,
            timeout=30.0,
            open=True,
            name="dailypapers",
        )

    # -- connections -----------------------------------------------------------------------------------------------
    def _configure(self, conn: Conn) -> None:
        conn.execute(sql.SQL("SET statement_timeout = {}").format(int(self.query_time_limit * 1000)))
        self._register_vector(conn)

    @staticmethod
    def _register_vector(conn: Conn) -> None:
        """Teach the connection pgvector's type, once the extension exists (it does after migrate)."""
        if conn.adapters.types.get("vector") is None:
            with suppress(psycopg.ProgrammingError):  # the extension is not created yet
                register_vector(conn)

    @contextmanager
    def _read(self) -> Iterator[Conn]:
        try:
            with self._pool.connection() as conn:
                self._register_vector(conn)
                yield conn
        except psycopg.errors.QueryCanceled as exc:
            raise StoreError(f"query took longer than {self.query_time_limit:g} s and was stopped") from exc
        except PoolTimeout as exc:
            raise StoreError(f"no connection to PostgreSQL at {_redact(self.url)}: {exc}") from exc
        except psycopg.OperationalError as exc:
            raise StoreError(f"PostgreSQL error: {str(exc).strip()}") from exc

    @contextmanager
    def _write(self) -> Iterator[Conn]:
        with self._read() as conn, conn.transaction():
            conn.execute("SET LOCAL statement_timeout = 0")
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (_WRITE_LOCK,))
            yield conn

    def close(self) -> None:
        self._pool.close()

    # -- migrations ------------------------------------------------------------------------------------------------
    def migrate(self) -> list[str]:
        applied: list[str] = []
        with self._read() as conn:
            conn.execute("SELECT pg_advisory_lock(%s)", (_MIGRATE_LOCK,))
            try:
                conn.execute(
                    "CREATE TABLE IF NOT EXISTS schema_migrations (name TEXT PRIMARY KEY, applied_at TIMESTAMPTZ)"
                )
                done = {r["name"] for r in conn.execute("SELECT name FROM schema_migrations")}
                for name, script in migration_files("postgres"):
                    if name in done:
                        continue
                    try:
                        with conn.transaction():
                            conn.execute("SET LOCAL statement_timeout = 0")
                            conn.execute(script.encode())  # the whole script at once: no parameters
                            conn.execute("INSERT INTO schema_migrations VALUES (%s, now())", (name,))
                    except psycopg.Error as exc:
                        raise StoreError(f"migration {name} failed: {str(exc).strip()}") from exc
                    applied.append(name)
            finally:
                conn.execute("SELECT pg_advisory_unlock(%s)", (_MIGRATE_LOCK,))
            self._register_vector(conn)
        return applied

    # -- papers ----------------------------------------------------------------------------------------------------
    def upsert_papers(self, papers: Sequence[Paper]) -> UpsertCounts:
        if not papers:
            return UpsertCounts()
        with self._write() as conn:
            stored = conn.execute(
                f"SELECT {', '.join(PLAN_COLUMNS)} FROM papers WHERE id = ANY(%s) OR title_norm = ANY(%s)",
                ([p.id for p in papers], [normalize_title(p.title) for p in papers]),
            ).fetchall()
            steps, counts = plan_upsert(papers, stored)
            adds = [s for s in steps if s.kind == "add"]
            if adds:  # keys for the new rows up front, so that every write below can go out in one pipeline
                keys = conn.execute(
                    "SELECT nextval(pg_get_serial_sequence('papers', 'pk')) AS pk FROM generate_series(1, %s)",
                    (len(adds),),
                )
                for step, pk in zip(adds, sorted(r["pk"] for r in keys), strict=True):
                    step.slot.pk = pk
            cols = ", ".join(["pk", *PAPER_COLUMNS])
            sets = ", ".join(f"{c} = %s" for c in PAPER_COLUMNS if c != "added_at")
            with conn.cursor() as cur:
                cur.executemany(
                    f"INSERT INTO papers ({cols}) VALUES ({', '.join(['%s'] * (len(PAPER_COLUMNS) + 1))})",
                    [[s.slot.pk, *s.row.values()] for s in adds],
                )
                cur.executemany(
                    f"UPDATE papers SET {sets} WHERE pk = %s",
                    [
                        [*(s.row[c] for c in PAPER_COLUMNS if c != "added_at"), s.slot.pk]
                        for s in steps
                        if s.kind == "update"
                    ],
                )
            self._write_links(conn, {int(s.slot.pk): s.paper for s in steps if s.slot.pk is not None})
        return counts

    @staticmethod
    def _write_links(conn: Conn, papers: dict[int, Paper]) -> None:
        """Replace the author and category rows of these papers (set-based: five statements per batch)."""
        if not papers:
            return
        link_pk: list[int] = []
        position: list[int] = []
        names: list[str] = []
        affiliations: list[str | None] = []
        cat_pk: list[int] = []
        categories: list[str] = []
        for pk, paper in papers.items():
            affs = list(paper.affiliations) + [None] * len(paper.authors)
            for i, name in enumerate(paper.authors):
                link_pk.append(pk)
                position.append(i)
                names.append(name)
                affiliations.append(affs[i])
            cat_pk += [pk] * len(paper.categories)
            categories += paper.categories
        conn.execute("DELETE FROM paper_authors WHERE paper_pk = ANY(%s)", (list(papers),))
        conn.execute("DELETE FROM paper_categories WHERE paper_pk = ANY(%s)", (list(papers),))
        conn.execute(
            "INSERT INTO authors (name) SELECT DISTINCT unnest(%s::text[]) ON CONFLICT (name) DO NOTHING", (names,)
        )
        conn.execute(
            "INSERT INTO paper_authors (paper_pk, position, author_pk, affiliation)"
            " SELECT t.pk, t.pos, a.pk, t.aff FROM unnest(%s::bigint[], %s::int[], %s::text[], %s::text[])"
            " AS t(pk, pos, name, aff) JOIN authors a ON a.name = t.name",
            (link_pk, position, names, affiliations),
        )
        conn.execute(
            "INSERT INTO paper_categories (paper_pk, category) SELECT * FROM unnest(%s::bigint[], %s::text[])"
            " ON CONFLICT DO NOTHING",
            (cat_pk, categories),
        )

    def get_paper(self, paper_id: str) -> Paper | None:
        with self._read() as conn:
            row = conn.execute(f"SELECT {_SELECT} FROM papers WHERE id = %s", (paper_id,)).fetchone()
        return row_to_paper(row) if row else None

    def get_papers_by_pk(self, pks: Sequence[int]) -> list[Paper]:
        if not pks:
            return []
        with self._read() as conn:
            rows = conn.execute(f"SELECT {_SELECT} FROM papers WHERE pk = ANY(%s)", ([int(pk) for pk in pks],))
            found = {r["pk"]: row_to_paper(r) for r in rows}
        return [found[pk] for pk in pks if pk in found]

    def find_by_title(self, title: str) -> Paper | None:
        with self._read() as conn:
            row = conn.execute(
                f"SELECT {_SELECT} FROM papers WHERE title_norm = %s ORDER BY pk LIMIT 1", (normalize_title(title),)
            ).fetchone()
        return row_to_paper(row) if row else None

    def count_papers(self) -> int:
        with self._read() as conn:
            return int(conn.execute("SELECT count(*) AS n FROM papers").fetchone()["n"])  # type: ignore[index]

    def papers_added_between(
        self, start: date, end: date, *, limit: int | None = None, offset: int = 0, sort: str = "added"
    ) -> list[Paper]:
        order = "upvotes DESC, display_date DESC, pk DESC" if sort == "upvotes" else "added_at DESC, pk DESC"
        with self._read() as conn:
            rows = conn.execute(
                f"SELECT {_SELECT} FROM papers WHERE added_at BETWEEN %s AND %s ORDER BY {order} LIMIT %s OFFSET %s",
                (start, end, limit, offset),
            ).fetchall()
        return [row_to_paper(r) for r in rows]

    def count_added_between(self, start: date, end: date) -> int:
        with self._read() as conn:
            row = conn.execute(
                "SELECT count(*) AS n FROM papers WHERE added_at BETWEEN %s AND %s", (start, end)
            ).fetchone()
        return int(row["n"])  # type: ignore[index]

    def latest_added_day(self) -> date | None:
        with self._read() as conn:
            row = conn.execute("SELECT max(added_at) AS d FROM papers").fetchone()
        return row["d"] if row else None

    def neighbour_days(self, day: date) -> tuple[date | None, date | None]:
        with self._read() as conn:
            row = conn.execute(
                "SELECT (SELECT max(added_at) FROM papers WHERE added_at < %s) AS prev,"
                " (SELECT min(added_at) FROM papers WHERE added_at > %s) AS next",
                (day, day),
            ).fetchone()
        return (row["prev"], row["next"]) if row else (None, None)

    def iter_papers(self, batch: int = 1000) -> Iterator[Paper]:
        last = 0
        while True:
            with self._read() as conn:
                rows = conn.execute(
                    f"SELECT {_SELECT} FROM papers WHERE pk > %s ORDER BY pk LIMIT %s", (last, batch)
                ).fetchall()
            if not rows:
                return
            last = rows[-1]["pk"]
            yield from (row_to_paper(r) for r in rows)

    # -- keyword search --------------------------------------------------------------------------------------------
    @staticmethod
    def _filter_sql(filters: Filters, alias: str = "p") -> tuple[str, list[Any]]:
        clauses: list[str] = []
        args: list[Any] = []
        if filters.since:
            clauses.append(f"{alias}.display_date >= %s")
            args.append(filters.since)
        if filters.until:
            clauses.append(f"{alias}.display_date <= %s")
            args.append(filters.until)
        if filters.category:
            clauses.append(
                f"EXISTS (SELECT 1 FROM paper_categories c WHERE c.paper_pk = {alias}.pk"
                " AND (c.category = %s OR c.category LIKE %s))"
            )
            args += [filters.category, _like_escape(filters.category) + ".%"]
        if filters.author:
            clauses.append(f"strpos(lower({alias}.author_names), lower(%s)) > 0")
            args.append(filters.author)
        return (" AND ".join(clauses) or "TRUE"), args

    def keyword_search(self, query: str, limit: int, filters: Filters = Filters()) -> list[Hit]:
        terms = query_terms(query)
        if not terms:
            return []
        # OR of the terms, each parsed on its own by plainto_tsquery: user text is data, never tsquery syntax.
        tsquery = " || ".join(["plainto_tsquery('english', %s)"] * len(terms))
        where, args = self._filter_sql(filters)
        sql_text = (
            f"SELECT p.pk, ts_rank_cd('{RANK_WEIGHTS}', p.tsv, q.query, 1) AS score"
            f" FROM papers p, (SELECT {tsquery} AS query) q"
            f" WHERE p.tsv @@ q.query AND {where} ORDER BY score DESC, p.pk LIMIT %s"
        )
        with self._read() as conn:
            rows = conn.execute(sql_text, [*terms, *args, limit]).fetchall()
        return [Hit(pk=int(r["pk"]), score=float(r["score"])) for r in rows]

    def filter_pks(self, filters: Filters) -> set[int]:
        where, args = self._filter_sql(filters)
        with self._read() as conn:
            rows = conn.execute(f"SELECT p.pk FROM papers p WHERE {where}", args)
            return {int(r["pk"]) for r in rows}

    # -- embeddings ------------------------------------------------------------------------------------------------
    _NEEDS = (
        "FROM papers p LEFT JOIN embeddings e ON e.paper_pk = p.pk AND e.model = %s"
        " WHERE (e.paper_pk IS NULL OR e.text_hash <> p.text_hash)"
    )

    def papers_needing_embedding(self, model: str, batch: int = 256) -> Iterator[list[Paper]]:
        last = 0
        while True:
            with self._read() as conn:
                rows = conn.execute(
                    f"SELECT {_SELECT_P} {self._NEEDS} AND p.pk > %s ORDER BY p.pk LIMIT %s",
                    (model, last, batch),
                ).fetchall()
            if not rows:
                return
            last = rows[-1]["pk"]
            yield [row_to_paper(r) for r in rows]

    def count_needing_embedding(self, model: str) -> int:
        with self._read() as conn:
            row = conn.execute(f"SELECT count(*) AS n {self._NEEDS}", (model,)).fetchone()
        return int(row["n"])  # type: ignore[index]

    @staticmethod
    def _hnsw_index(model: str, dim: int, alias: str = "") -> tuple[sql.Composable, sql.Composable, sql.Composable]:
        """(name, indexed expression, partial predicate) of the HNSW index for ``model`` at ``dim``.

        vector_search writes the expression and predicate exactly as the index does, so the planner can use it.
        """
        name = "embeddings_hnsw_" + hashlib.sha256(f"{model}\0{dim}".encode()).hexdigest()[:16]
        col, model_col = sql.SQL(alias + "vector"), sql.SQL(alias + "model")
        expr = sql.SQL("({}::vector({}))").format(col, sql.Literal(dim))
        pred = sql.SQL("{} = {} AND vector_dims({}) = {}").format(model_col, sql.Literal(model), col, sql.Literal(dim))
        return sql.Identifier(name), expr, pred

    def save_embeddings(self, model: str, rows: Iterable[tuple[Paper, np.ndarray]]) -> None:
        values = [(p.pk, model, text_hash(p), np.asarray(v, dtype=np.float32).ravel()) for p, v in rows]
        if not values:
            return
        dims = {len(v[3]) for v in values}
        with self._write() as conn:
            for dim in sorted(dims - {d for m, d in self._indexed if m == model}):
                name, expr, pred = self._hnsw_index(model, dim)
                conn.execute(
                    sql.SQL(
                        "CREATE INDEX IF NOT EXISTS {} ON embeddings USING hnsw ({} vector_cosine_ops) WHERE {}"
                    ).format(name, expr, pred)
                )
            with conn.cursor() as cur:
                cur.executemany(
                    "INSERT INTO embeddings (paper_pk, model, text_hash, vector) VALUES (%s, %s, %s, %s)"
                    " ON CONFLICT (paper_pk, model) DO UPDATE"
                    " SET text_hash = excluded.text_hash, vector = excluded.vector",
                    values,
                )
        self._indexed.update((model, d) for d in dims)

    def iter_embeddings(self, model: str, batch: int = 10000) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        last = 0
        while True:
            with self._read() as conn:
                rows = conn.execute(
                    "SELECT paper_pk, vector FROM embeddings WHERE model = %s AND paper_pk > %s"
                    " ORDER BY paper_pk LIMIT %s",
                    (model, last, batch),
                    binary=True,
                ).fetchall()
            if not rows:
                return
            last = rows[-1]["paper_pk"]
            pks = np.array([r["paper_pk"] for r in rows], dtype=np.int64)
            yield pks, np.vstack([r["vector"].to_numpy() for r in rows]).astype(np.float32, copy=False)

    def get_embedding(self, model: str, pk: int) -> np.ndarray | None:
        with self._read() as conn:
            row = conn.execute(
                "SELECT vector FROM embeddings WHERE model = %s AND paper_pk = %s", (model, pk), binary=True
            ).fetchone()
        return np.array(row["vector"].to_numpy(), dtype=np.float32) if row else None

    def vector_search(
        self, model: str, vector: np.ndarray, limit: int, filters: Filters = Filters()
    ) -> list[Hit] | None:
        query = np.asarray(vector, dtype=np.float32).ravel()
        dim = len(query)
        _, expr, pred = self._hnsw_index(model, dim, alias="e.")
        where, args = self._filter_sql(filters)
        # The inner ORDER BY uses the index (same expression and predicate); with filters, iterative scans keep
        # fetching candidates until `limit` rows pass, and the outer ORDER BY restores exact order.
        statement = sql.SQL(
            "SELECT pk, 1 - distance AS score FROM (SELECT e.paper_pk AS pk, {expr} <=> %s::vector({dim}) AS distance"
            " FROM embeddings e JOIN papers p ON p.pk = e.paper_pk WHERE {pred} AND {where}"
            " ORDER BY distance LIMIT %s) hits ORDER BY distance, pk"
        ).format(
            expr=expr,
            dim=sql.Literal(dim),
            pred=pred,
            where=sql.SQL(where),  # fixed fragments from _filter_sql; the values are parameters
        )
        with self._read() as conn, conn.transaction():
            conn.execute(sql.SQL("SET LOCAL hnsw.ef_search = {}").format(min(max(EF_SEARCH, limit), 1000)))
            if filters.active and self._iterative_scan(conn):
                conn.execute("SET LOCAL hnsw.iterative_scan = relaxed_order")
            rows = conn.execute(statement, [query, *args, limit]).fetchall()
        return [Hit(pk=int(r["pk"]), score=float(r["score"])) for r in rows]

    def _iterative_scan(self, conn: Conn) -> bool:
        """Whether pgvector is 0.8 or newer (``hnsw.iterative_scan``: filtered searches still fill ``limit``)."""
        if self._iterative is None:
            row = conn.execute("SELECT extversion FROM pg_extension WHERE extname = 'vector'").fetchone()
            version = tuple(int(x) for x in str(row["extversion"]).split(".")[:2]) if row else (0, 0)
            self._iterative = version >= (0, 8)
        return self._iterative

    # -- meta ------------------------------------------------------------------------------------------------------
    def get_meta(self, key: str) -> str | None:
        with self._read() as conn:
            row = conn.execute("SELECT value FROM meta WHERE key = %s", (key,)).fetchone()
        return row["value"] if row else None

    def set_meta(self, key: str, value: str) -> None:
        with self._write() as conn:
            conn.execute(
                "INSERT INTO meta (key, value) VALUES (%s, %s) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                (key, value),
            )


def _like_escape(text: str) -> str:
    """``text`` as a literal LIKE pattern (default escape character backslash)."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _redact(url: str) -> str:
    """The URL without its password, for error messages."""
    try:
        info = psycopg.conninfo.conninfo_to_dict(url)
    except psycopg.ProgrammingError:
        return "<unparsable URL>"
    host = info.get("host") or "localhost"
    return f"{host}:{info.get('port') or 5432}/{info.get('dbname') or ''}"
