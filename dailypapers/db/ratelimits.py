"""Rate-limit counters shared by every worker and machine: the ``rate_limits`` table, as a storage of the ``limits``
library (its fixed-window strategy counts in it), written once for both backends with SQLAlchemy Core.

A per-process counter lets W workers allow W times the limit; a counter in the database every worker shares does
not. Each hit is one upsert that returns the window's new count (``INSERT … ON CONFLICT DO UPDATE … RETURNING``,
SQLite ≥ 3.35 and PostgreSQL alike), so two workers counting at the same moment never lose a hit. Rows of ended
windows are deleted now and then (:data:`SWEEP_EVERY` hits). The web layer's :mod:`dailypapers.web.security.ratelimit`
names the limits and turns one that is reached into HTTP 429.
"""

from __future__ import annotations

import secrets
import time

from limits.storage import Storage
from sqlalchemy import case, delete, select
from sqlalchemy.exc import SQLAlchemyError

from dailypapers.db.engine import Database
from dailypapers.db.schema import rate_limits

SWEEP_EVERY = 1000  # about one hit in this many also deletes the rows of ended windows


class DatabaseStorage(Storage):
    """A ``limits`` storage in the ``rate_limits`` table (keys with their window's count and end time)."""

    STORAGE_SCHEME = ["dailypapers-db"]  # noqa: RUF012  (the limits base class declares it as a plain attribute)

    def __init__(self, db: Database) -> None:
        super().__init__()
        self.db = db

    @property
    def base_exceptions(self) -> type[Exception] | tuple[type[Exception], ...]:
        return SQLAlchemyError

    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        now = time.time()
        t = rate_limits
        stmt = self.db.insert(t).values(key=key, count=amount, expires_at=now + expiry)
        stale = t.c.expires_at <= now  # the stored window has ended: this hit starts a new one
        stmt = stmt.on_conflict_do_update(
            index_elements=[t.c.key],
            set_={
                "count": case((stale, amount), else_=t.c.count + amount),
                "expires_at": case((stale, now + expiry), else_=t.c.expires_at),
            },
        ).returning(t.c.count)
        with self.db.write() as conn:
            count = int(conn.execute(stmt).scalar_one())
            if secrets.randbelow(SWEEP_EVERY) == 0:
                conn.execute(delete(t).where(t.c.expires_at <= now))
        return count

    def get(self, key: str) -> int:
        with self.db.read() as conn:
            query = select(rate_limits.c.count, rate_limits.c.expires_at).where(rate_limits.c.key == key)
            found = conn.execute(query).first()
        return int(found[0]) if found and found[1] > time.time() else 0

    def get_expiry(self, key: str) -> float:
        with self.db.read() as conn:
            query = select(rate_limits.c.expires_at).where(rate_limits.c.key == key)
            expires = conn.execute(query).scalar_one_or_none()
        return float(expires) if expires and expires > time.time() else time.time()

    def check(self) -> bool:
        try:
            with self.db.read() as conn:
                conn.execute(select(1))
        except SQLAlchemyError:
            return False
        return True

    def reset(self) -> int | None:
        with self.db.write() as conn:
            return int(conn.execute(delete(rate_limits)).rowcount or 0)

    def clear(self, key: str) -> None:
        with self.db.write() as conn:
            conn.execute(delete(rate_limits).where(rate_limits.c.key == key))
