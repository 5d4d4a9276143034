"""The pgvector half of :class:`dailypapers.papers.store.postgres.PostgresStore`: embeddings, HNSW indexes, k-NN search.

``embeddings.vector`` is an untyped ``vector`` (a model's dimension is not known to the migration), so each
(model, dimension) gets a partial expression index created on demand::

    USING hnsw ((vector::vector(DIM)) vector_cosine_ops) WHERE model = '...' AND vector_dims(vector) = DIM

and :func:`vector_query` writes exactly that expression and predicate, so the planner can use the index.
:class:`PgVectors` holds the Store methods on embeddings and the k-NN query (``pgvector_search``, which
:class:`dailypapers.search.vectors.pgvector.PgVectorIndex` calls); ``PostgresStore`` inherits them and supplies the
connections (``_read``, ``_write``, ``_rows``, ``_row``) and the filter SQL.
"""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Iterable, Iterator
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any

import numpy as np
import psycopg
from psycopg import sql
from psycopg.rows import DictRow

from dailypapers.papers.models import Filters, Paper
from dailypapers.papers.rows import PAPER_COLUMNS, row_to_paper, text_hash
from dailypapers.papers.store.base import Hit

EF_SEARCH = 200  # search effort, as hnswlib's ef in dailypapers.search.vectors.hnsw
# Similar papers search from a stored vector, a node of the graph, so far less effort finds its neighbours: recall@10
# 0.972 at ef 40 against 0.993 at 200 on 1M papers, for ~4 ms less (docs/benchmarks.md, bench.tiers). Text queries
# keep EF_SEARCH: their recall@10 falls from 0.595 to 0.462 at ef 40.
SIMILAR_EF_SEARCH = 40
M, EF_CONSTRUCTION = 16, 128  # graph degree and build effort (pgvector's defaults are 16 and 64)

Conn = psycopg.Connection[DictRow]


def hnsw_index(model: str, dim: int, alias: str = "") -> tuple[sql.Composable, sql.Composable, sql.Composable]:
    """(name, indexed expression, partial predicate) of the HNSW index for ``model`` at ``dim``."""
    name = "embeddings_hnsw_" + hashlib.sha256(f"{model}\0{dim}".encode()).hexdigest()[:16]
    col, model_col = sql.SQL(alias + "vector"), sql.SQL(alias + "model")
    expr = sql.SQL("({}::vector({}))").format(col, sql.Literal(dim))
    pred = sql.SQL("{} = {} AND vector_dims({}) = {}").format(model_col, sql.Literal(model), col, sql.Literal(dim))
    return sql.Identifier(name), expr, pred


def create_hnsw_indexes(conn: Conn, model: str, dims: Iterable[int]) -> None:
    """Create the HNSW index of ``model`` for each of ``dims`` unless it exists."""
    for dim in sorted(dims):
        name, expr, pred = hnsw_index(model, dim)
        conn.execute(
            sql.SQL(
                "CREATE INDEX IF NOT EXISTS {} ON embeddings USING hnsw ({} vector_cosine_ops)"
                " WITH (m = {}, ef_construction = {}) WHERE {}"
            ).format(name, expr, sql.Literal(M), sql.Literal(EF_CONSTRUCTION), pred)
        )


def vector_query(
    model: str, vector: np.ndarray, limit: int, where: str, args: list[Any]
) -> tuple[sql.Composed, list[Any]]:
    """The nearest-neighbour query: the inner ORDER BY can use the model's HNSW index (same expression and
    predicate); with filters (``where``: fixed fragments, values in ``args``), iterative scans fetch candidates
    until ``limit`` pass, and the outer ORDER BY restores exact order."""
    query = np.asarray(vector, dtype=np.float32).ravel()
    _, expr, pred = hnsw_index(model, len(query), alias="e.")
    statement = sql.SQL(
        "SELECT pk, 1 - distance AS score FROM (SELECT e.paper_pk AS pk, {} <=> %s::vector({}) AS distance"
        " FROM embeddings e JOIN papers p ON p.pk = e.paper_pk WHERE {} AND {}"
        " ORDER BY distance LIMIT %s) hits ORDER BY distance, pk"
    ).format(expr, sql.Literal(len(query)), pred, sql.SQL(where))
    return statement, [query, *args, limit]


def supports_iterative_scan(conn: Conn) -> bool:
    """Whether pgvector is 0.8 or newer (``hnsw.iterative_scan``: filtered searches still fill ``limit``)."""
    row = conn.execute("SELECT extversion FROM pg_extension WHERE extname = 'vector'").fetchone()
    version = tuple(int(x) for x in str(row["extversion"]).split(".")[:2]) if row else (0, 0)
    return version >= (0, 8)


def stack_vectors(rows: list[DictRow], column: str = "vector") -> np.ndarray:
    """float32 matrix of the pgvector values in ``rows``."""
    return np.vstack([r[column].to_numpy() for r in rows]).astype(np.float32, copy=False)


_SELECT_NEEDING = ", ".join(f"p.{c}" for c in ["pk", *PAPER_COLUMNS, "votes_count"])


class PgVectors:
    """Embedding storage and vector search on pgvector (a mixin of ``PostgresStore``)."""

    _indexed: set[tuple[str, int]]  # (model, dimension) pairs whose HNSW index is known to exist
    _iterative: bool | None

    if TYPE_CHECKING:  # supplied by PostgresStore

        def _read(self) -> AbstractContextManager[Conn]: ...

        def _write(self) -> AbstractContextManager[Conn]: ...

        def _rows(self, query: Any, params: Any = (), *, binary: bool = False) -> list[DictRow]: ...

        def _row(self, query: Any, params: Any = (), *, binary: bool = False) -> DictRow | None: ...

        @staticmethod
        def _filter_sql(filters: Filters, alias: str = "p") -> tuple[str, list[Any]]: ...

    # -- embeddings ------------------------------------------------------------------------------------------------
    _NEEDS = (
        "FROM papers p LEFT JOIN embeddings e ON e.paper_pk = p.pk AND e.model = %s"
        " WHERE (e.paper_pk IS NULL OR e.text_hash <> p.text_hash)"
    )

    def papers_needing_embedding(self, model: str, batch: int = 256) -> Iterator[list[Paper]]:
        last = 0
        while True:
            rows = self._rows(
                f"SELECT {_SELECT_NEEDING} {self._NEEDS} AND p.pk > %s ORDER BY p.pk LIMIT %s", (model, last, batch)
            )
            if not rows:
                return
            last = rows[-1]["pk"]
            yield [row_to_paper(r) for r in rows]

    def count_needing_embedding(self, model: str) -> int:
        return int(self._rows(f"SELECT count(*) AS n {self._NEEDS}", (model,))[0]["n"])

    def save_embeddings(self, model: str, rows: Iterable[tuple[Paper, np.ndarray]]) -> None:
        values = [(p.pk, model, text_hash(p), np.asarray(v, dtype=np.float32).ravel()) for p, v in rows]
        if not values:
            return
        dims = {len(v[3]) for v in values}
        with self._write() as conn:
            create_hnsw_indexes(conn, model, dims - {d for m, d in self._indexed if m == model})
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
            rows = self._rows(
                "SELECT paper_pk, vector FROM embeddings WHERE model = %s AND paper_pk > %s ORDER BY paper_pk LIMIT %s",
                (model, last, batch),
                binary=True,
            )
            if not rows:
                return
            last = rows[-1]["paper_pk"]
            pks = np.array([r["paper_pk"] for r in rows], dtype=np.int64)
            yield pks, stack_vectors(rows)

    def get_embedding(self, model: str, pk: int) -> np.ndarray | None:
        row = self._row("SELECT vector FROM embeddings WHERE model = %s AND paper_pk = %s", (model, pk), binary=True)
        return np.array(row["vector"].to_numpy(), dtype=np.float32) if row else None

    def pgvector_search(
        self, model: str, vector: np.ndarray, limit: int, filters: Filters = Filters(), *, ef: int | None = None
    ) -> list[Hit]:
        """Nearest papers by cosine similarity, filtered in the same query, hidden papers left out (PostgreSQL only:
        called by :class:`dailypapers.search.vectors.pgvector.PgVectorIndex`, which the rest of dailypapers uses).
        ``ef``: the search effort (default :data:`EF_SEARCH`; at least ``limit``, at most pgvector's 1,000)."""
        effort = min(max(EF_SEARCH if ef is None else ef, limit), 1000)
        statement, params = self._vector_query(model, vector, limit, filters)
        with self._read() as conn:
            iterative = filters.active and self._iterative_scan(conn)
            rows = self._search_rows(conn, statement, params, effort=effort, iterative=iterative)
        return [Hit(pk=int(r["pk"]), score=float(r["score"])) for r in rows]

    @staticmethod
    def _search_rows(
        conn: Conn, statement: sql.Composed, params: list[Any], *, effort: int, iterative: bool = False
    ) -> list[DictRow]:
        # One round trip for BEGIN, the settings, the query and COMMIT (psycopg's pipeline mode, libpq >= 14), not five.
        pipeline = conn.pipeline() if psycopg.Pipeline.is_supported() else contextlib.nullcontext()
        with pipeline, conn.transaction():
            conn.execute(sql.SQL("SET LOCAL hnsw.ef_search = {}").format(effort))
            if iterative:
                conn.execute("SET LOCAL hnsw.iterative_scan = relaxed_order")
            cursor = conn.execute(statement, params)
        return cursor.fetchall()

    def _vector_query(
        self, model: str, vector: np.ndarray, limit: int, filters: Filters
    ) -> tuple[sql.Composed, list[Any]]:
        return vector_query(model, vector, limit, *self._filter_sql(filters))

    def _iterative_scan(self, conn: Conn) -> bool:
        if self._iterative is None:
            self._iterative = supports_iterative_scan(conn)
        return self._iterative

    def embedding_counts(self) -> dict[str, int]:
        with self._read() as conn, conn.transaction():
            conn.execute("SET LOCAL statement_timeout = 0")  # a full count of a large table may take a while
            rows = conn.execute("SELECT model, count(*) AS n FROM embeddings GROUP BY model ORDER BY model")
            return {r["model"]: int(r["n"]) for r in rows}

    def delete_embeddings(self, model: str) -> int:
        with self._write() as conn:
            dims = conn.execute("SELECT DISTINCT vector_dims(vector) AS d FROM embeddings WHERE model = %s", (model,))
            names = [hnsw_index(model, int(r["d"]))[0] for r in dims.fetchall()]
            deleted = conn.execute("DELETE FROM embeddings WHERE model = %s", (model,)).rowcount
            for name in names:  # the model's partial indexes are empty now; a later save creates them again
                conn.execute(sql.SQL("DROP INDEX IF EXISTS {}").format(name))
        self._indexed = {(m, d) for m, d in self._indexed if m != model}
        return deleted
