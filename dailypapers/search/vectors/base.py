"""The one interface to nearest-neighbour search over paper embeddings, whichever backend holds them.

A :class:`VectorIndex` answers queries (:meth:`~VectorIndex.search`, :meth:`~VectorIndex.similar`) and takes part in
keeping itself up to date (:mod:`.indexer` calls the update hooks around storing new embeddings). Two
implementations stand behind it, picked by :func:`dailypapers.search.vectors.index.open_vector_index`, the only
place that knows the backend:

* :class:`~dailypapers.search.vectors.index.HnswVectorIndex` (SQLite): the on-disk quantized HNSW index (faiss) of
  :mod:`.hnsw`, filtered with the store's ``filter_pks``. It lives apart from the stored vectors, so the hooks do
  real work: add vectors, save checkpoints, and keep the crash-safety flag that lets the next update repair a torn
  one.
* :class:`~dailypapers.search.vectors.pgvector.PgVectorIndex` (PostgreSQL): pgvector's HNSW index inside the
  database, filters in the same SQL. The database indexes each vector as the store writes it, so the hooks do
  nothing.

An update, as :func:`dailypapers.search.vectors.indexer.update_index` runs it::

    with index.writing():          # one writer at a time; sees what other writers saved
        index.recover()            # repair after an interrupted update or lost files
        index.begin_update()       # only when there is something to embed, before storing any vector
        index.add(pks, vectors)    # after each batch is stored
        index.commit()             # make it durable and visible to other processes
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Protocol

import numpy as np

from dailypapers.papers.models import Filters
from dailypapers.papers.store.base import Hit


class VectorIndex(Protocol):
    """Cosine nearest neighbours among the stored embeddings of one model."""

    model: str  # the embedding model whose vectors are indexed

    # -- queries ---------------------------------------------------------------------------------------------
    def search(self, vector: np.ndarray, k: int, filters: Filters = Filters()) -> list[Hit]:
        """The ``k`` papers closest to ``vector`` that pass ``filters`` and are not hidden, best first (score =
        cosine)."""
        ...

    def similar(self, pk: int, k: int, filters: Filters = Filters()) -> list[Hit]:
        """The ``k`` papers nearest to paper ``pk`` (itself and hidden papers excluded); empty if it has no embedding
        yet."""
        ...

    def size(self) -> int:
        """Number of vectors indexed."""
        ...

    def vectors(self, pks: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The indexed vectors of ``pks`` in one read: ``(the pks that have one, float32 rows of their unit
        vectors)``, in the order given (hidden papers included: the caller chose the keys)."""
        ...

    def reload_if_changed(self) -> bool:
        """Pick up what another process saved since; True when something was loaded."""
        ...

    # -- updates (see the module docstring for the order) -----------------------------------------------------
    def writing(self) -> AbstractContextManager[object]:
        """Hold the index's writer lock for the ``with`` block (other writers wait, readers never do)."""
        ...

    def recover(self) -> int:
        """Add the stored vectors the index lacks after an interrupted update or lost files; return how many."""
        ...

    def begin_update(self) -> None:
        """Called before new vectors are stored: until :meth:`commit`, the index may lag the store."""
        ...

    def add(self, pks: np.ndarray, vectors: np.ndarray) -> None:
        """Index these just-stored vectors (a key already present gets the new vector)."""
        ...

    def commit(self) -> None:
        """Make what was added or recovered durable and visible to other processes."""
        ...

    def rebuild(self) -> int:
        """Build the index afresh from every stored vector of :attr:`model` and swap it in; return its size."""
        ...


def similar_to_paper(
    search: Callable[[np.ndarray, int, Filters], list[Hit]],
    vector: np.ndarray | None,
    pk: int,
    k: int,
    filters: Filters,
) -> list[Hit]:
    """:meth:`VectorIndex.similar` given the paper's stored ``vector``: one search for ``k + 1``, itself dropped."""
    if vector is None:
        return []
    return [h for h in search(vector, k + 1, filters) if h.pk != pk][:k]
