"""The PostgreSQL backend: papers in plain tables, keyword search on a weighted tsvector, vectors in pgvector.

Connections come from a small :class:`psycopg_pool.ConnectionPool` (autocommit; every write is one explicit
transaction, serialised by an advisory lock like SQLite's single writer). Reads have a statement time limit.
Keyword search ranks with ``ts_rank`` over a generated ``tsv`` column (title weight A > abstract B > authors C);
vector search orders by cosine distance on a per-model HNSW index created on demand (:mod:`.pg_vectors`, which
holds the embedding methods); Job locks are advisory locks on a connection
of their own (:mod:`.locks`). Behaviour otherwise mirrors :class:`dailypapers.papers.store.sqlite.SQLiteStore`; both
share :mod:`dailypapers.papers.rows`.
"""

from __future__ import annotations

import itertools
from collections.abc import Collection, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager, suppress
from datetime import date
from typing import Any

import psycopg
from pgvector.psycopg import register_vector
from psycopg import sql
from psycopg.rows import DictRow, dict_row
from psycopg_pool import ConnectionPool, PoolTimeout

from dailypapers.config import Config
from dailypapers.db.engine import Database
from dailypapers.db.locks import advisory_lock
from dailypapers.db.meta import Meta
from dailypapers.db.migrations import migration_files
from dailypapers.errors import BadInput
from dailypapers.papers.authors import fill_author_slugs
from dailypapers.papers.models import Filters, Paper, author_slug, normalize_title
from dailypapers.papers.rows import PAPER_COLUMNS, row_to_paper
from dailypapers.papers.store.base import Hit, StoreError, UpsertCounts
from dailypapers.papers.store.filter_sql import POSTGRES, candidate_sql, filter_pks_sql, newest_pk_sql
from dailypapers.papers.store.keyword_plan import (
    DEFAULT_BUDGET,
    DocumentFrequencies,
    KeywordPlan,
    keyword_terms,
    plan_keyword_query,
)
from dailypapers.papers.store.list_sql import LISTED, list_order, unless_hidden_wanted
from dailypapers.papers.store.pg_terms import count_term, estimated_matches, text_frequencies
from dailypapers.papers.store.pg_vectors import PgVectors
from dailypapers.papers.store.terms import is_long
from dailypapers.papers.upsert import PLAN_COLUMNS, match_keys, plan_upsert

QUERY_TIME_LIMIT_S = 5.0
CONNECT_TIMEOUT_S = 10
# ts_rank weights for {D, C, B, A} = {-, authors, abstract, title}: a title match counts most. ts_rank, not
# ts_rank_cd: at 100k papers it ranked better (P@10 0.690 against 0.583 on the benchmark corpus) in a third less time.
RANK_WEIGHTS = "{0.1, 0.2, 0.4, 1.0}"
# A word whose estimated matches exceed this many times the keyword budget is common: its count is not needed.
COMMON_FACTOR = 2
_WRITE_LOCK = 0x6470_7772  # advisory lock key ("dpwr"): one writer at a time, as with SQLite
_MIGRATE_LOCK = 0x6470_6D67  # "dpmg"
_SELECT = ", ".join(["pk", *PAPER_COLUMNS, "votes_count"])
NUL_REFUSED = "A NUL character (U+0000) cannot be searched for or stored: PostgreSQL text cannot hold one."

Conn = psycopg.Connection[DictRow]


class PostgresStore(PgVectors):
    """The :class:`~dailypapers.papers.store.base.Store` on a PostgreSQL database with the pgvector extension."""

    backend = "postgres"

    def __init__(
        self,
        url: str,
        *,
        max_connections: int = 8,
        query_time_limit: float = QUERY_TIME_LIMIT_S,
        keyword_budget: int = DEFAULT_BUDGET,
    ) -> None:
        self.url = url
        self.keyword_budget = keyword_budget
        # Short queries' counts and long texts' frequencies (from the statistics where listed) never mix: pg_terms.
        self._dfs = DocumentFrequencies(self._count_term, total=self.count_papers)
        self._text_dfs = DocumentFrequencies(
            self._count_term, count_many=self._text_frequencies, total=self.count_papers
        )
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
        self.db = Database(Config(database_url=url))  # the plain tables, SQLAlchemy Core
        self.meta = Meta(self.db)

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
        except psycopg.DataError as exc:
            if "NUL" not in str(exc):  # psycopg: "PostgreSQL text fields cannot contain NUL (0x00) bytes"
                raise
            raise BadInput(NUL_REFUSED) from exc  # the caller's text, never sent: not a database failure

    @contextmanager
    def _write(self) -> Iterator[Conn]:
        with self._read() as conn, conn.transaction():
            conn.execute("SET LOCAL statement_timeout = 0")
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (_WRITE_LOCK,))
            yield conn

    def _rows(self, query: Any, params: Any = (), *, binary: bool = False) -> list[DictRow]:
        """All rows of one read query (parameters are always passed separately, never formatted in)."""
        with self._read() as conn:
            return conn.execute(query, params, binary=binary).fetchall()

    def _row(self, query: Any, params: Any = (), *, binary: bool = False) -> DictRow | None:
        rows = self._rows(query, params, binary=binary)
        return rows[0] if rows else None

    def close(self) -> None:
        self._pool.close()
        self.db.close()

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
        fill_author_slugs(self.db)  # author rows written before migration 0005 have no slug
        return applied

    # -- papers ----------------------------------------------------------------------------------------------------
    def upsert_papers(self, papers: Sequence[Paper]) -> UpsertCounts:
        if not papers:
            return UpsertCounts()
        ids, norms = match_keys(papers)
        with self._write() as conn:
            stored = conn.execute(
                f"SELECT {', '.join(PLAN_COLUMNS)} FROM papers WHERE id = ANY(%s) OR title_norm = ANY(%s)",
                (ids, norms),
            ).fetchall()
            steps, counts = plan_upsert(papers, stored, norms)
            adds = [s for s in steps if s.kind == "add"]
            if adds:  # keys for the new rows up front, so that every write below can go out in one pipeline
                keys = conn.execute(
                    "SELECT nextval(pg_get_serial_sequence('papers', 'pk')) AS pk FROM generate_series(1, %s)",
                    (len(adds),),
                )
                for step, pk in zip(adds, sorted(r["pk"] for r in keys), strict=True):
                    step.slot.pk = pk
            cols = ", ".join(["pk", *PAPER_COLUMNS])
            updated = [c for c in PAPER_COLUMNS if c != "added_at"]
            insert = f"INSERT INTO papers ({cols}) VALUES ({', '.join(['%s'] * (len(PAPER_COLUMNS) + 1))})"
            update = f"UPDATE papers SET {', '.join(f'{c} = %s' for c in updated)} WHERE pk = %s"
            with conn.cursor() as cur:
                # Runs of adds and of updates in batch order (one run of adds for a batch of new papers): a later
                # add may take the id an earlier update renamed away (a title-id row that became an arXiv one).
                for kind, run in itertools.groupby(steps, key=lambda s: s.kind):
                    if kind == "add":
                        cur.executemany(insert, [[s.slot.pk, *s.row.values()] for s in run])
                    else:
                        cur.executemany(update, [[*(s.row[c] for c in updated), s.slot.pk] for s in run])
            self._write_links(conn, {int(s.slot.pk): s.paper for s in steps if s.slot.pk is not None})
        return counts

    @staticmethod
    def _write_links(conn: Conn, papers: dict[int, Paper]) -> None:
        """Replace the author and category rows of these papers (set-based: five statements per batch)."""
        links = [
            (pk, i, name, [*p.affiliations, *[None] * len(p.authors)][i])
            for pk, p in papers.items()
            for i, name in enumerate(p.authors)
        ]
        pks, positions, names, affiliations = (list(c) for c in zip(*links, strict=True)) if links else ([],) * 4
        cats = [(pk, c) for pk, p in papers.items() for c in p.categories]
        conn.execute("DELETE FROM paper_authors WHERE paper_pk = ANY(%s)", (list(papers),))
        conn.execute("DELETE FROM paper_categories WHERE paper_pk = ANY(%s)", (list(papers),))
        if distinct := list(dict.fromkeys(names)):
            conn.execute(
                "INSERT INTO authors (name, slug) SELECT * FROM unnest(%s::text[], %s::text[]) ON CONFLICT DO NOTHING",
                (distinct, [author_slug(n) for n in distinct]),
            )
        conn.execute(
            "INSERT INTO paper_authors (paper_pk, position, author_pk, affiliation)"
            " SELECT t.pk, t.pos, a.pk, t.aff FROM unnest(%s::bigint[], %s::int[], %s::text[], %s::text[])"
            " AS t(pk, pos, name, aff) JOIN authors a ON a.name = t.name",
            (pks, positions, names, affiliations),
        )
        conn.execute(
            "INSERT INTO paper_categories SELECT * FROM unnest(%s::bigint[], %s::text[]) ON CONFLICT DO NOTHING",
            ([c[0] for c in cats], [c[1] for c in cats]),
        )

    def get_paper(self, paper_id: str, *, include_hidden: bool = False) -> Paper | None:
        row = self._row(
            f"SELECT {_SELECT} FROM papers WHERE id = %s{unless_hidden_wanted(include_hidden)}", (paper_id,)
        )
        return row_to_paper(row) if row else None

    def get_papers_by_pk(self, pks: Sequence[int], *, include_hidden: bool = False) -> list[Paper]:
        query = f"SELECT {_SELECT} FROM papers WHERE pk = ANY(%s){unless_hidden_wanted(include_hidden)}"
        rows = self._rows(query, ([int(pk) for pk in pks],)) if pks else []
        found = {r["pk"]: row_to_paper(r) for r in rows}
        return [found[pk] for pk in pks if pk in found]

    def find_by_title(self, title: str, *, include_hidden: bool = False) -> Paper | None:
        shown = unless_hidden_wanted(include_hidden)
        row = self._row(
            f"SELECT {_SELECT} FROM papers WHERE title_norm = %s{shown} ORDER BY pk LIMIT 1", (normalize_title(title),)
        )
        return row_to_paper(row) if row else None

    def count_papers(self) -> int:
        return int(self._rows("SELECT count(*) AS n FROM papers")[0]["n"])

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
        order, order_params = list_order(sort, weights, "%s")
        rows = self._rows(
            f"SELECT {_SELECT} FROM papers WHERE added_at BETWEEN %s AND %s AND {LISTED}"
            f" ORDER BY {order} LIMIT %s OFFSET %s",
            (start, end, *order_params, limit, offset),
        )
        return [row_to_paper(r) for r in rows]

    def count_added_between(self, start: date, end: date) -> int:
        query = f"SELECT count(*) AS n FROM papers WHERE added_at BETWEEN %s AND %s AND {LISTED}"
        return int(self._rows(query, (start, end))[0]["n"])

    def latest_added_day(self) -> date | None:
        return self._rows("SELECT max(added_at) AS d FROM papers")[0]["d"]  # type: ignore[no-any-return]

    def neighbour_days(self, day: date) -> tuple[date | None, date | None]:
        row = self._rows(
            "SELECT (SELECT max(added_at) FROM papers WHERE added_at < %s) AS prev,"
            " (SELECT min(added_at) FROM papers WHERE added_at > %s) AS next",
            (day, day),
        )[0]
        return row["prev"], row["next"]

    def iter_papers(self, batch: int = 1000) -> Iterator[Paper]:
        last = 0
        while True:
            rows = self._rows(f"SELECT {_SELECT} FROM papers WHERE pk > %s ORDER BY pk LIMIT %s", (last, batch))
            if not rows:
                return
            last = rows[-1]["pk"]
            yield from (row_to_paper(r) for r in rows)

    # -- keyword search --------------------------------------------------------------------------------------------
    @staticmethod
    def _filter_sql(filters: Filters, alias: str = "p") -> tuple[str, list[Any]]:
        """The keyword and vector queries' condition: the filters, and the paper not hidden."""
        return candidate_sql(filters, POSTGRES, alias)

    def keyword_search(self, query: str, limit: int, filters: Filters = Filters()) -> list[Hit]:
        dfs, cap = (self._text_dfs if is_long(query) else self._dfs), self.keyword_budget + 1
        terms = keyword_terms(query, dfs, cap)
        plan = plan_keyword_query(terms, lambda t: dfs.get(t, cap), self.keyword_budget, lambda: self._newest(filters))
        if not plan.terms:
            return []
        rows = self._rows(*self._keyword_query(plan, limit, filters))
        return [Hit(pk=int(r["pk"]), score=float(r["score"]), extra={"terms": plan.terms}) for r in rows]

    def _keyword_query(self, plan: KeywordPlan, limit: int, filters: Filters) -> tuple[str, list[Any]]:
        """The plan's terms, each parsed on its own by plainto_tsquery (user text is data, never tsquery syntax),
        joined by ``||`` (OR) or ``&&`` (AND)."""
        joiner = " && " if plan.conjunctive else " || "
        tsquery = joiner.join(["plainto_tsquery('english', %s)"] * len(plan.terms))
        where, args = self._filter_sql(filters)
        if plan.min_pk is not None:
            where += " AND p.pk BETWEEN %s AND %s"
            args += [plan.min_pk, plan.max_pk]
        statement = (
            f"SELECT p.pk, ts_rank('{RANK_WEIGHTS}', p.tsv, q.query, 1) AS score"
            f" FROM papers p, (SELECT {tsquery} AS query) q"
            f" WHERE p.tsv @@ q.query AND {where} ORDER BY score DESC, p.pk LIMIT %s"
        )
        return statement, [*plan.terms, *args, limit]

    def _count_term(self, term: str, cap: int) -> int:
        return count_term(self._rows, term, cap, COMMON_FACTOR)

    def _text_frequencies(self, terms: Sequence[str], cap: int) -> dict[str, int]:
        return text_frequencies(self._rows, terms, cap)

    def _estimated_matches(self, term: str) -> float:
        return estimated_matches(self._rows, term)

    def _newest(self, filters: Filters) -> int | None:
        row = self._row(*newest_pk_sql(filters, POSTGRES))
        return None if row is None or row["pk"] is None else int(row["pk"])

    def filter_pks(self, filters: Filters, among: Collection[int] | None = None) -> set[int]:
        return {int(r["pk"]) for r in self._rows(*filter_pks_sql(filters, POSTGRES, among))}

    # -- jobs and whole-database operations ------------------------------------------------------------------------
    def job_lock(self, name: str) -> AbstractContextManager[bool]:
        return advisory_lock(self.url, name, where=f"PostgreSQL at {_redact(self.url)}")

    def database_bytes(self) -> int:
        """The whole database (tables, indexes, TOAST) as PostgreSQL counts it, in bytes."""
        return int(self._rows("SELECT pg_database_size(current_database()) AS n")[0]["n"])

    def table_counts(self) -> dict[str, int]:
        with self._read() as conn, conn.transaction():
            conn.execute("SET LOCAL statement_timeout = 0")  # a full count of a large table may take a while
            names = [
                r["table_name"]
                for r in conn.execute(
                    "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()"
                    " AND table_type = 'BASE TABLE' AND table_name <> 'schema_migrations' ORDER BY table_name"
                )
            ]
            count = sql.SQL("SELECT count(*) AS n FROM {}")
            return {n: int(conn.execute(count.format(sql.Identifier(n))).fetchall()[0]["n"]) for n in names}


def _redact(url: str) -> str:
    """The URL without its password, for error messages."""
    try:
        info = psycopg.conninfo.conninfo_to_dict(url)
    except psycopg.ProgrammingError:
        return "<unparsable URL>"
    host = info.get("host") or "localhost"
    return f"{host}:{info.get('port') or 5432}/{info.get('dbname') or ''}"
