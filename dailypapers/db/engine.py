"""Connections for the plain tables: one SQLAlchemy Core engine on the configured database, either backend.

Every plain table (votes, users, sessions, tokens, invites, rate limits, and those of later features) is defined
once in :mod:`dailypapers.db.schema` and queried through a :class:`Database`: SQLAlchemy compiles the same Core
statement for SQLite or PostgreSQL. The paper stores (:mod:`dailypapers.papers.store`) keep their own tuned
connections for papers, full-text search and vectors; both sets of connections reach the same database, so a
vote written here is seen by the store's triggers and queries at once.

* SQLite: writes begin with ``BEGIN IMMEDIATE`` (take the write lock first, so two writers never deadlock on a
  read-to-write upgrade), reads with a plain ``BEGIN``; a busy database is waited on for up to 30 s, the same
  limit as the store's writer. Foreign keys are on.
* PostgreSQL: psycopg 3 through SQLAlchemy's ``postgresql+psycopg`` dialect; the URL's query (``host=``,
  ``options=-csearch_path=…``) is passed on unchanged.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection, Engine, Table, create_engine, event
from sqlalchemy.dialects import postgresql as pg_dialect
from sqlalchemy.dialects import sqlite as sqlite_dialect
from sqlalchemy.exc import OperationalError

from dailypapers.config import Config
from dailypapers.errors import StoreError

BUSY_TIMEOUT_S = 30  # as the SQLite store's writer: an import's batch commit can hold the lock for seconds
IN_CHUNK = 500
"""Keys per ``IN (...)`` list of a plain-table query: far below SQLite's 32,766 bound parameters."""
POOL_SIZE = 4  # plain-table queries are short; the paper store keeps its own pool of 8 for searches


def sqlalchemy_url(config: Config) -> str:
    """The SQLAlchemy URL of the configured database (psycopg 3 for PostgreSQL)."""
    if config.backend == "postgres":
        _scheme, _, rest = config.database_url.partition("://")
        return f"postgresql+psycopg://{rest}"
    return f"sqlite:///{config.sqlite_path}"


class Database:
    """The configured database as seen by the plain-table repositories."""

    def __init__(self, config: Config) -> None:
        self.backend = config.backend
        url = sqlalchemy_url(config)
        if self.backend == "sqlite":
            config.sqlite_path.parent.mkdir(parents=True, exist_ok=True)
            self.engine = create_engine(
                url, connect_args={"timeout": BUSY_TIMEOUT_S, "check_same_thread": False}, pool_size=POOL_SIZE
            )
            _sqlite_transactions(self.engine)
        else:
            self.engine = create_engine(url, pool_size=POOL_SIZE, max_overflow=4, pool_pre_ping=True)

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """A connection for reading, in one transaction (rolled back at the end: nothing is written)."""
        with self._errors(), self.engine.connect() as conn:
            yield conn

    @contextmanager
    def write(self) -> Iterator[Connection]:
        """One write transaction: committed when the block ends, rolled back when it raises."""
        with self._errors(), self.engine.connect().execution_options(dp_write=True) as conn, conn.begin():
            yield conn

    @contextmanager
    def _errors(self) -> Iterator[None]:
        try:
            yield
        except OperationalError as exc:  # unreachable server, locked database: the operator's problem, not a bug
            raise StoreError(f"database error: {str(exc.orig).strip()}") from exc

    def insert(self, table: Table) -> Any:
        """``INSERT`` for ``table`` in this backend's dialect, which offers ``on_conflict_do_nothing`` and
        ``on_conflict_do_update`` with the same signature on both (SQLite ≥ 3.24, PostgreSQL ≥ 9.5)."""
        return (sqlite_dialect.insert if self.backend == "sqlite" else pg_dialect.insert)(table)

    def serialize(self, conn: Connection, table: Table) -> None:
        """Make this write transaction the only writer of ``table`` until it ends (for check-then-insert rules such
        as "the first user is an admin"). SQLite's ``BEGIN IMMEDIATE`` already is; PostgreSQL takes a table lock
        that conflicts with itself and with every write, but not with reads."""
        if self.backend == "postgres":
            conn.exec_driver_sql(f'LOCK TABLE "{table.name}" IN SHARE ROW EXCLUSIVE MODE')

    def close(self) -> None:
        self.engine.dispose()


def _sqlite_transactions(engine: Engine) -> None:
    """Let SQLAlchemy, not the sqlite3 module, begin transactions: ``BEGIN IMMEDIATE`` for writes (SQLAlchemy's
    documented recipe for pysqlite's transaction handling)."""

    @event.listens_for(engine, "connect")
    def _connect(dbapi_conn: sqlite3.Connection, _record: object) -> None:
        dbapi_conn.isolation_level = None  # autocommit at the driver; BEGIN is emitted below
        dbapi_conn.execute("PRAGMA foreign_keys=ON")
        dbapi_conn.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_S * 1000}")

    @event.listens_for(engine, "begin")
    def _begin(conn: Connection) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.get_execution_options().get("dp_write") else "BEGIN")


def key_chunks(keys: Iterable[int]) -> Iterator[list[int]]:
    """``keys`` as ints, without repeats, in lists of at most :data:`IN_CHUNK` (one ``IN (...)`` query each)."""
    unique = list(dict.fromkeys(int(k) for k in keys))
    for i in range(0, len(unique), IN_CHUNK):
        yield unique[i : i + IN_CHUNK]
