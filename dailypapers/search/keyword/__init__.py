"""The keyword half of search behind one protocol: tantivy on SQLite, the store's own index elsewhere.

* :class:`~dailypapers.search.keyword.tantivy_search.TantivyKeywords` — the embedded default: BM25 over title,
  abstract and authors in a tantivy index in the data folder, exact top-k with filters inside the engine;
* :class:`StoreKeywords` — the store's ``keyword_search``: PostgreSQL's weighted ``tsvector`` (and SQLite's FTS5,
  which :class:`TantivyKeywords` falls back to while its index is being built).

:func:`open_keyword_engine` picks one for a store.
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

from dailypapers.papers.models import Filters
from dailypapers.papers.store.base import Hit, Store


class KeywordEngine(Protocol):
    """A BM25-style ranking of papers for plain user text (a few words or a pasted abstract)."""

    name: str

    def search(self, query: str, limit: int, filters: Filters = Filters()) -> list[Hit]:
        """The ``limit`` best papers for ``query`` that pass ``filters``, best first; hidden papers never. A hit's
        ``extra["terms"]`` lists the terms searched (what results highlight for a long text)."""
        ...

    def update(self, *, progress: bool | None = None) -> int:
        """Bring a derived index in step with the store; return how many papers were (re)indexed."""
        ...


class StoreKeywords:
    """The store's own keyword search (FTS5 or ``tsvector``), kept in step by the database itself."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.name = "tsvector" if store.backend == "postgres" else "fts5"

    def search(self, query: str, limit: int, filters: Filters = Filters()) -> list[Hit]:
        return self.store.keyword_search(query, limit, filters)

    def update(self, *, progress: bool | None = None) -> int:
        return 0  # triggers (FTS5) and generated columns (tsvector) keep it in step


def open_keyword_engine(store: Store, folder: Path) -> KeywordEngine:
    """Tantivy in ``folder`` for a SQLite store, the store's own index for PostgreSQL."""
    if store.backend == "sqlite":
        from dailypapers.search.keyword.tantivy_search import TantivyKeywords

        return TantivyKeywords(store, folder)  # type: ignore[arg-type]  # a SQLite store, by its backend
    return StoreKeywords(store)
