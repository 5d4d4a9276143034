"""Storage: papers, authors and embeddings behind one small interface (:class:`~dailypapers.papers.store.base.Store`).

:func:`open_store` picks the backend from the configuration: SQLite in the data folder by default, PostgreSQL
when ``DAILYPAPERS_DATABASE_URL`` is a ``postgresql://`` URL.
"""

from __future__ import annotations

from dailypapers.config import Config
from dailypapers.papers.store.base import Filters, Hit, Store, StoreError, UpsertCounts

__all__ = ["Filters", "Hit", "Store", "StoreError", "UpsertCounts", "open_store"]


def open_store(config: Config) -> Store:
    """Open (but do not migrate) the store the configuration names."""
    if config.backend == "postgres":
        from dailypapers.papers.store.postgres import PostgresStore

        return PostgresStore(config.database_url, keyword_budget=config.keyword_budget)
    if config.database_url and not config.database_url.startswith("sqlite:///"):
        raise StoreError(
            f"unsupported DAILYPAPERS_DATABASE_URL {config.database_url!r}: use sqlite:///PATH or postgresql://…"
        )
    from dailypapers.papers.store.sqlite import SQLiteStore

    return SQLiteStore(config.sqlite_path, keyword_budget=config.keyword_budget)
