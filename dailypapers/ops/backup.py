"""``dailypapers backup FILE`` and ``dailypapers restore FILE`` on both backends.

* **SQLite**: the backup is a SQLite file written by SQLite's online backup API (a consistent snapshot while the
  service reads and writes). The indexes in the data folder (``vectors/``, and ``keyword/`` when the keyword engine
  keeps one there) are not in it: they are derived from the database, and a restore rebuilds them (the vector
  index from the stored embeddings, no text is embedded again). Copying the index files instead could pair a
  snapshot of the database with an index saved a moment earlier or later; the rebuild always matches, and costs
  0.5 s for the demo's 298 papers (docs/operations.md has the figures).
* **PostgreSQL**: ``pg_dump --format=custom`` (embeddings and the pgvector index are in the database), and
  ``pg_restore --single-transaction`` into an empty database: a failed restore leaves nothing behind. The tools are
  chosen by version (:mod:`dailypapers.ops.pg_tools`).

A backup is written under a temporary name and renamed when complete, so a backup killed midway never looks like
a good one. A restore goes into a fresh data folder or an empty database, and refuses a target that holds rows
unless ``force``; it then applies the migrations of this release (a backup of an older one is upgraded). Restore
while no server or job runs on the target.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import time
from dataclasses import dataclass, field
from pathlib import Path

from dailypapers.config import Config
from dailypapers.errors import BadInput
from dailypapers.library import Library
from dailypapers.ops import pg_tools
from dailypapers.papers.store import open_store
from dailypapers.search.vectors.embedder import Embedder

SQLITE_MAGIC = b"SQLite format 3\x00"
PG_MAGIC = b"PGDMP"  # pg_dump's custom format
# Rows here do not make a target "not empty": the instance's settings (a signing key) and short-lived counters.
IGNORED_TABLES = frozenset({"meta", "rate_limits"})


@dataclass
class BackupReport:
    backend: str
    path: Path
    size: int  # bytes
    seconds: float

    def summary(self) -> str:
        size = f"{self.size / 1e6:.1f} MB in {self.seconds:.1f} s"
        return f"backed up the {self.backend} database to {self.path} ({size})"


@dataclass
class RestoreReport:
    backend: str
    path: Path
    seconds: float  # the whole restore, index rebuild included
    index_seconds: float = 0.0
    indexed: int = 0  # papers in the rebuilt vector index (SQLite)
    tables: dict[str, int] = field(default_factory=dict)

    def summary(self) -> str:
        rows = sum(self.tables.values())
        index = f"; indexes rebuilt ({self.indexed} papers) in {self.index_seconds:.1f} s" if self.indexed else ""
        return f"restored {self.path} into the {self.backend} database: {rows} rows in {self.seconds:.1f} s{index}"


def backup(lib: Library, target: Path) -> BackupReport:
    """Write a backup of ``lib``'s database to the new file ``target``."""
    target = Path(target)
    if target.exists():
        raise BadInput(f"{target} exists; choose a new file")
    partial = target.with_name(target.name + ".partial")
    partial.unlink(missing_ok=True)  # left by a backup that was killed
    started = time.monotonic()
    config = lib.config
    if config.backend == "postgres":
        conn = pg_tools.connection(config.database_url)
        tool = pg_tools.find_tool("pg_dump", pg_tools.server_major(config.database_url), config.pg_bin_dir)
        schema = [f"--schema={conn.schema}"] if conn.schema else []
        args = [str(tool), "--format=custom", "--no-owner", "--no-privileges", f"--file={partial}"]
        pg_tools.run_tool([*args, *schema, f"--dbname={conn.conninfo}"], conn)
    else:
        lib.papers.backup(partial)
    os.replace(partial, target)
    return BackupReport(config.backend, target, target.stat().st_size, time.monotonic() - started)


def backup_kind(path: Path) -> str:
    """``sqlite`` or ``postgres``: which backend wrote the backup ``path``."""
    try:
        with open(path, "rb") as f:
            head = f.read(len(SQLITE_MAGIC))
    except OSError as exc:
        raise BadInput(f"cannot read {path}: {exc.strerror}") from exc
    if head.startswith(SQLITE_MAGIC):
        return "sqlite"
    if head.startswith(PG_MAGIC):
        return "postgres"
    raise BadInput(f"{path} is not a dailypapers backup (neither a SQLite file nor a pg_dump custom-format archive)")


def restore(config: Config, source: Path, *, force: bool = False, embedder: Embedder | None = None) -> RestoreReport:
    """Restore the backup ``source`` into ``config``'s (fresh) database; see the module docstring."""
    source = Path(source)
    kind = backup_kind(source)
    if kind != config.backend:
        raise BadInput(
            f"{source} is a {kind} backup but this instance uses {config.backend}: restore it into a {kind} "
            "instance, then move it with `dailypapers db copy --to URL`"
        )
    _refuse_filled(config, force)
    started = time.monotonic()
    if kind == "sqlite":
        _restore_sqlite(config, source)
    else:
        _restore_postgres(config, source)
    lib = Library(config, embedder=embedder)
    try:
        lib.init()  # a backup of an older release: its migrations follow
        report = RestoreReport(config.backend, source, 0.0)
        if kind == "sqlite":
            index_started = time.monotonic()
            report.indexed = lib.search.rebuild_index()
            lib.search.keyword_index_repair()  # a fresh build of the keyword index of the restored papers
            report.index_seconds = time.monotonic() - index_started
        report.tables = lib.store.table_counts()
    finally:
        lib.close()
    report.seconds = time.monotonic() - started
    return report


def _refuse_filled(config: Config, force: bool) -> None:
    if config.backend == "sqlite" and not config.sqlite_path.exists():
        return
    store = open_store(config)
    try:
        filled = {t: n for t, n in store.table_counts().items() if n and t not in IGNORED_TABLES}
    finally:
        store.close()
    if filled and not force:
        rows = ", ".join(f"{t}: {n}" for t, n in sorted(filled.items()))
        where = config.sqlite_path if config.backend == "sqlite" else "the configured PostgreSQL database"
        raise BadInput(f"{where} is not empty ({rows}); restore into a fresh one, or use --force to replace it")


def _restore_sqlite(config: Config, source: Path) -> None:
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    try:
        check = src.execute("PRAGMA quick_check").fetchone()[0]
        tables = {r[0] for r in src.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        if check != "ok" or not {"papers", "schema_migrations"} <= tables:
            raise BadInput(f"{source} is not a sound dailypapers database (quick_check: {str(check)[:200]})")
        target = config.sqlite_path
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(target.name + ".restoring")
        partial.unlink(missing_ok=True)
        dst = sqlite3.connect(partial)
        try:
            src.backup(dst)
        finally:
            dst.close()
    finally:
        src.close()
    for suffix in ("-wal", "-shm"):  # the old file's log would otherwise be replayed into the restored one
        target.with_name(target.name + suffix).unlink(missing_ok=True)
    os.replace(partial, target)
    shutil.rmtree(config.vector_dir, ignore_errors=True)  # derived from the old database: rebuilt from the new


def _restore_postgres(config: Config, source: Path) -> None:
    conn = pg_tools.connection(config.database_url)
    tool = pg_tools.find_tool("pg_restore", pg_tools.server_major(config.database_url), config.pg_bin_dir)
    # --clean --if-exists: a target that `dailypapers init` migrated (tables, no rows) is replaced as well
    args = [str(tool), "--no-owner", "--no-privileges", "--clean", "--if-exists", "--single-transaction"]
    pg_tools.run_tool([*args, f"--dbname={conn.conninfo}", str(source)], conn)
