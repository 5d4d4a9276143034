"""Settings kept in the database (``meta``: key → text), written once for both backends: the instance's generated
signing key, job times, the vector index's crash flag. Every worker and machine reads the same values."""

from __future__ import annotations

from sqlalchemy import select

from dailypapers.db.engine import Database
from dailypapers.db.schema import meta


class Meta:
    """The ``meta`` table of a database."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def get(self, key: str) -> str | None:
        with self.db.read() as conn:
            return conn.execute(select(meta.c.value).where(meta.c.key == key)).scalar_one_or_none()

    def set(self, key: str, value: str) -> None:
        with self.db.write() as conn:
            stmt = self.db.insert(meta).values(key=key, value=value)
            conn.execute(stmt.on_conflict_do_update(index_elements=[meta.c.key], set_={"value": value}))

    def setdefault(self, key: str, value: str) -> str:
        """Store ``value`` under ``key`` unless the key exists; return the stored value. Race-safe: of several
        processes doing this at once, one value wins and all of them get it."""
        with self.db.write() as conn:
            conn.execute(self.db.insert(meta).values(key=key, value=value).on_conflict_do_nothing())
            return str(conn.execute(select(meta.c.value).where(meta.c.key == key)).scalar_one())

    def items(self) -> dict[str, str]:
        with self.db.read() as conn:
            return {r.key: r.value for r in conn.execute(select(meta).order_by(meta.c.key))}
