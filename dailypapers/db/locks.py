"""Job locks: "only one of these at a time", across threads, processes and (with PostgreSQL) machines.

``Store.job_lock(name)`` is a context manager yielding True when this caller got the lock and False when someone
else holds it; it never waits. The lock is released when the block ends, also when it raises, and when the
holding process dies (the operating system drops a dead process's file lock; PostgreSQL ends its session).

* SQLite: an exclusive ``flock`` on ``<database>.<name>.lock`` next to the database file. Each call opens the file
  anew, so two callers in the same process exclude each other too.
* PostgreSQL: ``pg_try_advisory_lock`` on a connection of its own, held open for the duration of the block. The
  key pair is (``JOB_LOCK_SPACE``, ``hashtext(name)``): the two-key form never collides with the store's own
  single-key locks (writer, migrations).
"""

from __future__ import annotations

import fcntl
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

from dailypapers.errors import StoreError

JOB_LOCK_SPACE = 0x6470_6A62  # "dpjb": first key of every job lock
CONNECT_TIMEOUT_S = 10
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


def check_lock_name(name: str) -> str:
    """``name`` if it is usable as a lock name (letters, digits, ``_.-``; it becomes part of a file name)."""
    if not _NAME.match(name):
        raise ValueError(f"bad job lock name {name!r}: use letters, digits, '_', '.' and '-'")
    return name


def lock_file(database: Path, name: str) -> Path:
    """The lock file of job ``name`` for the SQLite database at ``database``."""
    return database.with_name(f"{database.name}.{check_lock_name(name)}.lock")


@contextmanager
def file_lock(path: Path) -> Iterator[bool]:
    """An exclusive, non-blocking ``flock`` on ``path`` (created if missing, never deleted)."""
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        raise StoreError(f"cannot open lock file {path}: {exc}") from exc
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


@contextmanager
def advisory_lock(url: str, name: str, *, where: str = "PostgreSQL") -> Iterator[bool]:
    """A session-level PostgreSQL advisory lock for ``name``, on a dedicated connection to ``url``."""
    import psycopg

    check_lock_name(name)
    try:
        conn = psycopg.connect(url, autocommit=True, connect_timeout=CONNECT_TIMEOUT_S)
    except (psycopg.Error, ValueError) as exc:
        raise StoreError(f"cannot connect to {where} for job lock {name!r}: {str(exc).strip()}") from exc
    try:
        row = conn.execute("SELECT pg_try_advisory_lock(%s, hashtext(%s))", (JOB_LOCK_SPACE, name)).fetchone()
        acquired = bool(row and row[0])
        try:
            yield acquired
        finally:
            if acquired and not conn.closed:
                with suppress(psycopg.Error):  # a failure means the connection is gone, and the lock with it
                    conn.execute("SELECT pg_advisory_unlock(%s, hashtext(%s))", (JOB_LOCK_SPACE, name))
    finally:
        conn.close()
