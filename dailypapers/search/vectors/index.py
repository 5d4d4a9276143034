"""The SQLite backend's :class:`~dailypapers.search.vectors.base.VectorIndex`, and :func:`open_vector_index`.

:class:`HnswVectorIndex` wraps the on-disk ANN index (:mod:`.hnsw`). A filtered search first *post-filters*: it
takes the nearest papers of the whole index and keeps those the store says pass (one indexed lookup of a few
hundred keys), widening once by the pass rate it saw. Only when the filter keeps too few of the nearest papers (a
narrow filter, or one far from the query's neighbourhood) does it *pre-filter*: every key that passes, then the
index restricted to them (exact search when they are few). Pre-filtering costs time in proportion to the papers
that pass: 372 ms p50 for 80,000 of 1M papers in the 2026-11-23 benchmark, which post-filtering avoids for broad
filters. The papers that pass a filter are kept for a minute (:class:`PassingSets`), so that the next searches under
it neither ask the store about their candidates nor list them again; every hit found that way is checked again.

Every search, filtered or not, keeps only papers the store's ``filter_pks`` passes: that holds the rule that hides
what an admin hid (the index keeps their vectors, so unhiding needs no re-indexing). An unfiltered search asks it
about its ``k`` nearest, one indexed lookup, as the search layer asked about hidden papers before.

Crash safety: vectors reach the store batch by batch, the ANN files only at checkpoints and at the end of an
update. A store meta flag (``ann_pending:<model>``) is set from :meth:`~HnswVectorIndex.begin_update` until
:meth:`~HnswVectorIndex.commit`; the next update that finds it set (or finds no saved index at all) first adds every
stored vector the index lacks (:meth:`~HnswVectorIndex.recover`).
"""

from __future__ import annotations

import logging
import math
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Collection
from contextlib import AbstractContextManager
from pathlib import Path
from typing import TYPE_CHECKING, cast

import numpy as np

from dailypapers.papers.models import Filters
from dailypapers.papers.store.base import Hit, Store
from dailypapers.search.vectors.base import VectorIndex, similar_to_paper
from dailypapers.search.vectors.hnsw import _GEN_FILE, CURRENT, LOCK, AnnIndex, AnnStale

if TYPE_CHECKING:
    from dailypapers.search.vectors.pgvector import PgVectorStore

log = logging.getLogger(__name__)

# Post-filtering looks at POST_FILTER_FACTOR × k nearest papers first and at most POST_FILTER_MAX in all: a filter
# passing 5% of the papers near the query is answered from ~3,000 candidates in two index searches.
POST_FILTER_FACTOR = 3
POST_FILTER_MAX = 4_000
# The papers that pass a filter are kept this long (per filter, the newest FILTER_CACHE_SIZE filters) for the searches
# that pre-filter: listing them costs time in proportion to their number (22 ms p50 for 8,000 of 100k papers), while a
# researcher runs several searches, and pages, under one filter. A new index generation (new papers embedded)
# drops them; every hit found through a kept set is checked against the store again, so a paper whose dates or
# categories changed meanwhile is never shown wrongly (one that newly passes may be missed for up to this long).
FILTER_CACHE_S = 60.0
FILTER_CACHE_SIZE = 16
CHECKPOINT_S = 300.0  # save the ANN index at least this often during a long update, so the web app sees progress


def open_vector_index(store: Store, folder: Path, model: str, dim: int) -> VectorIndex:
    """The vector index of ``store``'s backend for ``model``: pgvector in PostgreSQL, else the HNSW index kept in
    ``model_folder(folder, model)``. Nothing is loaded yet: a saved HNSW index is read on first use."""
    if store.backend == "postgres":
        from dailypapers.search.vectors.pgvector import PgVectorIndex

        return PgVectorIndex(cast("PgVectorStore", store), model)
    return HnswVectorIndex(store, model_folder(folder, model), model, dim)


FIRST_MODEL = "all-MiniLM-L6-v2"


def model_folder(folder: Path, model: str) -> Path:
    """The folder of ``model``'s HNSW index in the vector folder ``folder``: one subfolder per model, so that a
    switch of model never searches the old model's vectors with the new model's queries (the index knows keys,
    not models). :data:`FIRST_MODEL`'s index predates the subfolders and stays where existing installs have it."""
    return Path(folder) if model == FIRST_MODEL else Path(folder) / re.sub(r"[^A-Za-z0-9_.-]", "_", model)


def remove_model_index(store: Store, folder: Path, model: str) -> int:
    """Delete the saved HNSW index of ``model`` from the vector folder ``folder``; return how many files went.

    Nothing to do in PostgreSQL (pgvector's indexes go with the rows: ``Store.delete_embeddings``). In the top folder
    (:data:`FIRST_MODEL`'s) only the index's own files are removed, never the other models' subfolders.
    """
    path = model_folder(folder, model)
    if store.backend == "postgres" or not path.is_dir():
        return 0
    names = {CURRENT, CURRENT + ".tmp", LOCK}
    files = [p for p in path.iterdir() if p.is_file() and (p.name in names or _GEN_FILE.match(p.name))]
    for file in files:
        file.unlink(missing_ok=True)
    if path != Path(folder) and not any(path.iterdir()):
        path.rmdir()
    return len(files)


class PassingSets:
    """The index keys that pass recent filters, for :data:`FILTER_CACHE_S`, while the index keeps its generation."""

    def __init__(self) -> None:
        self._sets: OrderedDict[Filters, tuple[int, int, float, frozenset[int]]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, ann: AnnIndex, filters: Filters) -> frozenset[int] | None:
        with self._lock:
            entry = self._sets.get(filters)
            if entry is None:
                return None
            index_id, generation, at, keys = entry
            if (index_id, generation) != (id(ann), ann.generation) or time.monotonic() - at > FILTER_CACHE_S:
                del self._sets[filters]
                return None
            self._sets.move_to_end(filters)
            return keys

    def put(self, ann: AnnIndex, filters: Filters, passing: Collection[int]) -> frozenset[int]:
        """Keep (and return) those of ``passing`` that ``ann`` holds."""
        keys = ann.live(passing)
        with self._lock:
            self._sets[filters] = (id(ann), ann.generation, time.monotonic(), keys)
            self._sets.move_to_end(filters)
            while len(self._sets) > FILTER_CACHE_SIZE:
                self._sets.popitem(last=False)
        return keys


class HnswVectorIndex:
    """The on-disk :class:`AnnIndex` in ``folder``, filtered with the store's ``filter_pks``. Thread-safe."""

    def __init__(self, store: Store, folder: Path, model: str, dim: int) -> None:
        self.store, self.folder, self.model, self.dim = store, Path(folder), model, dim
        self._ann: AnnIndex | None = None
        self._opening = threading.Lock()
        self._dirty = False  # changes since the last save (or no saved index yet): commit() saves them
        self._passing = PassingSets()
        self._last_save = time.monotonic()

    @property
    def ann(self) -> AnnIndex:
        """The ANN index in use: the one saved in ``folder``, loaded on first use; :meth:`rebuild` replaces it."""
        ann = self._ann
        if ann is None:
            with self._opening:  # concurrent first searches load it once
                if self._ann is None:
                    self._ann = self._open()
                ann = self._ann
        return ann

    def _open(self) -> AnnIndex:
        """The saved index; one saved in an older format (hnswlib's, before issue 23) is rebuilt from the stored
        vectors first, by whichever process loads it first (the others wait for the writer lock, then load it)."""
        try:
            return AnnIndex.open(self.folder, self.dim)
        except AnnStale as exc:
            log.warning("%s: rebuilding it from the stored vectors", exc)
        fresh = AnnIndex(self.folder, self.dim)
        with fresh.writing(reload=False):  # the lock is per open file: the rebuild below takes it through ``fresh``
            try:
                return AnnIndex.open(self.folder, self.dim)  # another process rebuilt it meanwhile
            except AnnStale:
                return self._build_fresh(fresh)

    @property
    def _pending_key(self) -> str:
        return f"ann_pending:{self.model}"

    # -- queries ---------------------------------------------------------------------------------------------
    def search(self, vector: np.ndarray, k: int, filters: Filters = Filters()) -> list[Hit]:
        ann = self.ann  # one index for the whole search, even if a rebuild swaps in another meanwhile
        ann.reload_if_changed()
        if not filters.active:
            return [Hit(pk=int(key), score=float(sim)) for key, sim in self._nearest_shown(ann, vector, k)]
        kept = self._passing.get(ann, filters)
        found = self._post_filtered(ann, vector, k, filters, kept)
        if found is None:
            allowed = kept if kept is not None else self._passing.put(ann, filters, self.store.filter_pks(filters))
            found = ann.search(vector, k, allowed, live=True) if allowed else []
        if kept is not None and found:  # the kept set may be up to FILTER_CACHE_S old: check what it let through
            still = self.store.filter_pks(filters, among=[key for key, _ in found])
            found = [(key, sim) for key, sim in found if key in still]
        return [Hit(pk=int(key), score=float(sim)) for key, sim in found]

    def _nearest_shown(self, ann: AnnIndex, vector: np.ndarray, k: int) -> list[tuple[int, float]]:
        """The ``k`` nearest papers that are not hidden. The index holds hidden papers' vectors too (unhiding needs
        no re-indexing), so the store's ``filter_pks`` — the visibility rule — is asked about the nearest, one indexed
        lookup; when it drops some, the index is asked again for as many more."""
        probe = k
        while True:
            near = ann.search(vector, probe)
            if not near:
                return []
            shown = self.store.filter_pks(Filters(), among=[key for key, _ in near])
            kept = [(key, sim) for key, sim in near if key in shown]
            if len(kept) >= k or len(near) < probe:
                return kept[:k]
            probe += k - len(kept)

    def _post_filtered(
        self, ann: AnnIndex, vector: np.ndarray, k: int, filters: Filters, known: frozenset[int] | None
    ) -> list[tuple[int, float]] | None:
        """The ``k`` nearest that pass ``filters`` found among the nearest of the whole index, or None when the
        filter keeps too few of them to get ``k`` within :data:`POST_FILTER_MAX` candidates. ``known``: the
        papers known to pass, if a recent search listed them (then no query asks the store)."""
        total = len(ann)
        probe = min(total, POST_FILTER_FACTOR * k)
        while True:
            near = ann.search(vector, probe)
            if known is not None:
                passing: Collection[int] = known
            else:
                passing = self.store.filter_pks(filters, among=[key for key, _ in near])
            kept = [(key, sim) for key, sim in near if key in passing]
            if len(kept) >= k or len(near) >= total:
                return kept[:k]
            wanted = math.ceil(1.5 * k * len(near) / max(len(kept), 1))  # 1.5: margin on the observed pass rate
            if not kept or probe >= POST_FILTER_MAX or wanted > POST_FILTER_MAX:
                return None
            probe = min(total, wanted)

    def similar(self, pk: int, k: int, filters: Filters = Filters()) -> list[Hit]:
        return similar_to_paper(self.search, self.store.get_embedding(self.model, pk), pk, k, filters)

    def size(self) -> int:
        return len(self.ann)

    def vectors(self, pks: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        ann = self.ann
        ann.reload_if_changed()
        return ann.vectors_of(pks)

    def reload_if_changed(self) -> bool:
        return self.ann.reload_if_changed()

    # -- updates ---------------------------------------------------------------------------------------------
    def writing(self) -> AbstractContextManager[object]:
        return self.ann.writing()

    def recover(self) -> int:
        ann = self.ann
        if ann.generation != 0 and self.store.meta.get(self._pending_key) != "1":
            return 0
        added = 0
        for pks, vectors in self.store.iter_embeddings(self.model):
            missing = np.fromiter((int(k) not in ann for k in pks), dtype=bool, count=len(pks))
            if missing.any():
                ann.add(pks[missing], vectors[missing])
                added += int(missing.sum())
        if added:
            log.info("added %d stored vectors missing from the vector index", added)
        self._dirty = self._dirty or added > 0 or ann.generation == 0  # never saved: save it, even empty
        return added

    def begin_update(self) -> None:
        self.store.meta.set(self._pending_key, "1")
        self._dirty = True
        self._last_save = time.monotonic()

    def add(self, pks: np.ndarray, vectors: np.ndarray) -> None:
        ann = self.ann
        ann.add(pks, vectors)
        self._dirty = True
        if time.monotonic() - self._last_save > CHECKPOINT_S:
            ann.save()
            self._last_save = time.monotonic()

    def commit(self) -> None:
        if not self._dirty:
            return
        self.ann.save()
        self.store.meta.set(self._pending_key, "0")
        self._dirty = False

    def rebuild(self) -> int:
        """Build a fresh index in ``folder`` from the stored vectors (the old one is not even loaded) and swap it in.

        The new files replace the old ones atomically: other processes keep the old index until they reload.
        """
        fresh = self._build_fresh()
        with self._opening:
            self._ann, self._dirty = fresh, False
        log.info("rebuilt the vector index in %s: %d vectors", self.folder, len(fresh))
        return len(fresh)

    def _build_fresh(self, fresh: AnnIndex | None = None) -> AnnIndex:
        """A new index of every stored vector (into ``fresh``, empty), saved as the current generation (the old
        one is not loaded)."""
        fresh = AnnIndex(self.folder, self.dim) if fresh is None else fresh  # not `or`: an empty index is falsy
        with fresh.writing(reload=False):
            for pks, vectors in self.store.iter_embeddings(self.model):
                fresh.add(pks, vectors)
            fresh.save()
            self.store.meta.set(self._pending_key, "0")
        return fresh
