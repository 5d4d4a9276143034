"""The on-disk approximate-nearest-neighbour index over paper embeddings (used when the store is SQLite).

Keys are paper pks (int64 >= 0), vectors are float32 unit vectors, similarity is cosine (= inner product).

Library: **hnswlib** (HNSW, inner-product space, M=16, ef_construction=200, ef_search=max(128, k)), chosen by
``bench/ann_choice.py`` (results in ``bench/results/ann_choice.json``): 100k x 384 clustered unit vectors
(1000 clusters), 1000 held-out queries, recall@10 against exact search, one query at a time on one thread,
2-core AMD EPYC (AVX2):

============  ====  =======  =========  ===============  ===============  =======  ======
library        M    build s  ef         recall@10        p50 / p95 ms     file MB  load s
============  ====  =======  =========  ===============  ===============  =======  ======
hnswlib        16     84.5   64 / 128   0.9979 / 1.0     0.35/0.52, 0.65/0.87  168  0.24
usearch        16    122.1   64 / 128   0.9988 / 0.9999  0.66/0.97, 1.26/1.81  169  0.22
faiss (HNSW)   16     TBD
============  ====  =======  =========  ===============  ===============  =======  ======

hnswlib builds fastest and answers fastest at equal recall, and it is the only one of the three whose Python API
has everything this index needs: int64 labels without a mapping, in-place replacement of a re-added key,
``mark_deleted`` with slot reuse, and a filter predicate. faiss' HNSW cannot remove or replace vectors and usearch's
Python API has no filter predicate.

Filtering: ``search(..., allowed=keys)`` runs an exact numpy search over the allowed keys' vectors when they are
few (``EXACT_MAX`` or fewer, or under ``EXACT_FRACTION`` of the index), and otherwise the HNSW search with
hnswlib's filter predicate, falling back to exact search if the graph search returns fewer than ``k``.

Files (in ``folder``): ``CURRENT`` (JSON: generation, a token unique to each save, dim, parameters),
``hnsw-<gen>.bin`` (graph and vectors) and ``keys-<gen>.npy`` (the live keys; removed keys stay in the graph as
deleted slots that later adds reuse). ``save()`` writes the generation's files under temporary names, renames them,
then atomically replaces ``CURRENT``; the previous generation is kept so that a reader loading it is not cut off.
Another process notices a save with ``reload_if_changed()`` (a ``stat`` of ``CURRENT``, then its token). Writers
serialise on ``.lock`` (``fcntl.flock``) and mutate inside ``with ann.writing():``, which first loads what another
writer saved, so no change is lost; readers never wait for a writer.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import re
import threading
import uuid
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import hnswlib
import numpy as np

CURRENT = "CURRENT"
LOCK = ".lock"
_GEN_FILE = re.compile(r"^(hnsw|keys)-(\d+)\.(bin|npy)(\.tmp)?$")


class AnnError(RuntimeError):
    """An index on disk that cannot be used as is (wrong dimension, unreadable); rebuilding it fixes it."""


class AnnIndex:
    """HNSW index of ``(int64 key, float32 unit vector)`` pairs, saved in ``folder``. Thread-safe."""

    M = 16
    EF_CONSTRUCTION = 200
    EF_SEARCH = 128
    EXACT_MAX = 20_000
    EXACT_FRACTION = 0.1
    MIN_CAPACITY = 1024

    def __init__(self, folder: Path, dim: int) -> None:
        """An empty index that will be saved in ``folder``; use :meth:`open` to load a saved one."""
        self.folder = Path(folder)
        self.dim = dim
        self.generation = 0
        self._lock = threading.RLock()  # guards the in-memory index; held briefly by every operation
        self._writer = threading.RLock()  # serialises writer threads (the flock serialises processes)
        self._reloading = threading.Lock()
        self._stat: tuple[int, int, int] | None = None  # stat of CURRENT when last looked at
        self._token: str | None = None  # the token of the saved state held in memory (new for every save)
        self._flock_depth = 0
        self._flock_fd: int | None = None
        self._live: set[int] = set()
        self._index = self._new_hnsw(self.MIN_CAPACITY)

    # -- construction and persistence ------------------------------------------------------------------------
    @classmethod
    def open(cls, folder: Path, dim: int) -> AnnIndex:
        """The index saved in ``folder``, or an empty one when nothing has been saved there yet."""
        ann = cls(folder, dim)
        ann.reload_if_changed()
        return ann

    def _new_hnsw(self, capacity: int) -> hnswlib.Index:
        index = hnswlib.Index(space="ip", dim=self.dim)
        index.init_index(
            max_elements=capacity, M=self.M, ef_construction=self.EF_CONSTRUCTION, allow_replace_deleted=True
        )
        index.set_ef(self.EF_SEARCH)
        index.set_num_threads(1)
        return index

    def _read_current(self) -> dict[str, Any] | None:
        try:
            return dict(json.loads((self.folder / CURRENT).read_text()))
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as exc:
            raise AnnError(f"{self.folder / CURRENT}: unreadable ({exc}); rebuild the index") from exc

    def _current_stat(self) -> tuple[int, int, int] | None:
        try:
            st = (self.folder / CURRENT).stat()
        except FileNotFoundError:
            return None
        return (st.st_ino, st.st_mtime_ns, st.st_size)

    def reload_if_changed(self) -> bool:
        """Load the newest saved generation if another instance saved one since; True when something was loaded.

        Unsaved changes of this instance are dropped when it reloads.
        """
        with self._reloading:  # the files are read without holding _lock: searches go on meanwhile
            for attempt in range(5):
                stat = self._current_stat()
                if stat is None or stat == self._stat:
                    return False
                meta = self._read_current()
                if meta is None:
                    return False
                token = self._token
                if meta.get("token") == token:
                    self._stat = stat
                    return False
                try:
                    index, live = self._read_generation(meta)
                except FileNotFoundError:  # a writer replaced this generation while we read it: look again
                    if attempt == 4:
                        raise
                    continue
                with self._lock:
                    if self._token != token:  # this instance saved meanwhile: what it holds is newer
                        continue
                    self._index, self._live, self._stat = index, live, stat
                    self.generation, self._token = int(meta["generation"]), meta.get("token")
                return True
            return False  # pragma: no cover

    def _read_generation(self, meta: dict[str, Any]) -> tuple[hnswlib.Index, set[int]]:
        if int(meta["dim"]) != self.dim:
            raise AnnError(f"{self.folder}: index has dimension {meta['dim']}, expected {self.dim}; rebuild it")
        gen = int(meta["generation"])
        keys = np.load(self.folder / f"keys-{gen}.npy")
        index = hnswlib.Index(space="ip", dim=self.dim)
        index.load_index(str(self.folder / f"hnsw-{gen}.bin"), allow_replace_deleted=True)
        index.set_ef(self.EF_SEARCH)
        index.set_num_threads(1)
        return index, set(keys.tolist())

    def save(self) -> None:
        """Write this index as a new generation and make it current atomically (temp files, then renames)."""
        with self._writer_lock(), self._lock:
            self.folder.mkdir(parents=True, exist_ok=True)
            meta = self._read_current()
            gen = max(self.generation, int(meta["generation"]) if meta else 0) + 1
            for name in os.listdir(self.folder):  # leftovers of a writer that crashed (we hold the lock)
                if name.endswith(".tmp"):
                    (self.folder / name).unlink(missing_ok=True)
            index_path, keys_path = self.folder / f"hnsw-{gen}.bin", self.folder / f"keys-{gen}.npy"
            self._index.save_index(str(index_path) + ".tmp")
            with open(str(keys_path) + ".tmp", "wb") as fh:
                np.save(fh, np.fromiter(self._live, dtype=np.int64, count=len(self._live)))
            for path in (index_path, keys_path):
                _fsync_path(Path(str(path) + ".tmp"))
                os.replace(str(path) + ".tmp", path)
            token = uuid.uuid4().hex
            new_meta = {
                "generation": gen,
                "token": token,
                "dim": self.dim,
                "count": len(self._live),
                "library": "hnswlib",
                "space": "ip",
                "M": self.M,
                "ef_construction": self.EF_CONSTRUCTION,
            }
            tmp = self.folder / (CURRENT + ".tmp")
            tmp.write_text(json.dumps(new_meta) + "\n")
            _fsync_path(tmp)
            os.replace(tmp, self.folder / CURRENT)
            _fsync_path(self.folder)
            self.generation, self._token, self._stat = gen, token, self._current_stat()
            for name in os.listdir(self.folder):  # keep this generation and the one before it
                m = _GEN_FILE.match(name)
                if m and int(m.group(2)) < gen - 1:
                    (self.folder / name).unlink(missing_ok=True)

    @contextlib.contextmanager
    def _writer_lock(self) -> Iterator[None]:
        """Exclusive lock between writers, threads and processes alike (re-entrant within a thread)."""
        with self._writer:
            if self._flock_depth == 0:
                self.folder.mkdir(parents=True, exist_ok=True)
                fd = os.open(self.folder / LOCK, os.O_RDWR | os.O_CREAT, 0o644)
                fcntl.flock(fd, fcntl.LOCK_EX)
                self._flock_fd = fd
            self._flock_depth += 1
            try:
                yield
            finally:
                self._flock_depth -= 1
                if self._flock_depth == 0 and self._flock_fd is not None:
                    fcntl.flock(self._flock_fd, fcntl.LOCK_UN)
                    os.close(self._flock_fd)
                    self._flock_fd = None

    @contextlib.contextmanager
    def writing(self, *, reload: bool = True) -> Iterator[AnnIndex]:
        """Hold the writer lock: ``with ann.writing(): ann.add(...); ann.save()``.

        With ``reload`` (the default) it first loads what another writer saved, so that no change is lost.
        """
        with self._writer_lock():
            if reload:
                self.reload_if_changed()
            yield self

    # -- contents --------------------------------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self._live)

    def __contains__(self, key: object) -> bool:
        try:
            return int(key) in self._live  # type: ignore[call-overload]
        except (TypeError, ValueError):
            return False

    def keys(self) -> np.ndarray:
        """The live keys (int64), in no particular order."""
        with self._lock:
            return np.fromiter(self._live, dtype=np.int64, count=len(self._live))

    def get_vectors(self, keys: Iterable[int]) -> np.ndarray:
        """float32 ``(n, dim)`` vectors of these live keys, in the order given (KeyError for an unknown key)."""
        ids = [int(k) for k in keys]
        with self._lock:
            missing = [k for k in ids if k not in self._live]
            if missing:
                raise KeyError(missing[0])
            if not ids:
                return np.zeros((0, self.dim), dtype=np.float32)
            return np.asarray(self._index.get_items(ids, return_type="numpy"), dtype=np.float32)

    def add(self, keys: np.ndarray, vectors: np.ndarray) -> None:
        """Add vectors under ``keys``; a key already present gets the new vector (rows are re-normalised)."""
        keys = np.asarray(keys, dtype=np.int64).reshape(-1)
        if len(keys) == 0:
            return
        vectors = np.asarray(vectors, dtype=np.float32)
        if vectors.ndim == 1:
            vectors = vectors[None, :]
        if vectors.shape != (len(keys), self.dim):
            raise ValueError(f"expected vectors of shape ({len(keys)}, {self.dim}), got {vectors.shape}")
        if (keys < 0).any():
            raise ValueError("keys must be >= 0")
        # one row per key, the last one wins
        _, last = np.unique(keys[::-1], return_index=True)
        pick = np.sort(len(keys) - 1 - last)
        keys, vectors = keys[pick], _normalize(vectors[pick])
        with self._lock:
            present = np.fromiter((int(k) in self._live for k in keys), dtype=bool, count=len(keys))
            new = ~present
            if new.any() and self._index.element_count > len(self._live):  # some slots hold removed keys
                for i in np.flatnonzero(new):
                    with contextlib.suppress(RuntimeError):  # not a removed key of this index
                        self._index.unmark_deleted(int(keys[i]))
                        present[i] = True  # its slot is live again; add_items below overwrites the vector
                new = ~present
            needed = self._index.element_count + int(new.sum())
            capacity = self._index.get_max_elements()
            if needed > capacity:
                self._index.resize_index(max(needed, 2 * capacity))
            if present.any():
                self._index.add_items(vectors[present], keys[present], num_threads=1)
            if new.any():
                threads = os.cpu_count() or 1
                self._index.add_items(vectors[new], keys[new], num_threads=threads, replace_deleted=True)
            self._live.update(keys.tolist())

    def remove(self, keys: Iterable[int]) -> int:
        """Remove these keys (unknown ones are ignored); returns how many were removed."""
        removed = 0
        with self._lock:
            for key in {int(k) for k in np.asarray(list(keys), dtype=np.int64).reshape(-1)}:
                if key in self._live:
                    self._index.mark_deleted(key)
                    self._live.discard(key)
                    removed += 1
        return removed

    # -- search ----------------------------------------------------------------------------------------------
    def search(self, vector: np.ndarray, k: int, allowed: set[int] | None = None) -> list[tuple[int, float]]:
        """The ``k`` nearest keys as ``(key, cosine similarity)``, best first; only keys in ``allowed`` if given."""
        q = _normalize(np.asarray(vector, dtype=np.float32).reshape(1, -1))
        if q.shape[1] != self.dim:
            raise ValueError(f"expected a {self.dim}-d query vector, got {q.shape[1]}")
        with self._lock:
            if allowed is None:
                k = min(k, len(self._live))
                return self._hnsw_search(q, k, None) if k > 0 else []
            candidates = (allowed & self._live) if len(allowed) < len(self._live) else (self._live & allowed)
            k = min(k, len(candidates))
            if k <= 0:
                return []
            if len(candidates) <= self.EXACT_MAX or len(candidates) < self.EXACT_FRACTION * len(self._live):
                return self._exact_search(q[0], k, candidates)
            try:
                hits = self._hnsw_search(q, k, candidates)
            except RuntimeError:  # hnswlib could not find k results that pass the filter
                hits = []
            return hits if len(hits) >= k else self._exact_search(q[0], k, candidates)

    def _hnsw_search(self, q: np.ndarray, k: int, allowed: set[int] | None) -> list[tuple[int, float]]:
        self._index.set_ef(max(self.EF_SEARCH, k))
        flt = allowed.__contains__ if allowed is not None else None
        labels, dists = self._index.knn_query(q, k=k, num_threads=1, filter=flt)
        return [(int(key), float(1.0 - d)) for key, d in zip(labels[0], dists[0], strict=True)]

    def _exact_search(self, q: np.ndarray, k: int, keys: set[int]) -> list[tuple[int, float]]:
        ids = np.fromiter(keys, dtype=np.int64, count=len(keys))
        sims = np.asarray(self._index.get_items(ids, return_type="numpy"), dtype=np.float32) @ q
        top = np.argpartition(-sims, k - 1)[:k] if k < len(sims) else np.arange(len(sims))
        top = top[np.argsort(-sims[top], kind="stable")]
        return [(int(ids[i]), float(sims[i])) for i in top]


def _normalize(x: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    return np.divide(x, norms, out=np.zeros_like(x), where=norms > 0).astype(np.float32, copy=False)


def _fsync_path(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
