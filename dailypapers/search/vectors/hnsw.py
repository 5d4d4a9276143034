"""The on-disk approximate-nearest-neighbour index over paper embeddings (used when the store is SQLite).

Keys are paper pks (int64 >= 0), vectors are float32 unit vectors, similarity is cosine (= inner product).

Library: **hnswlib** (HNSW, inner-product space, M=16, ef_construction=200, ef_search=max(200, k)), chosen with
``bench/ann_choice.py --n 100000 --m 16 32`` (``bench/results/ann_choice.json``): 100k x 384 clustered unit vectors
(1000 gaussian clusters), 1000 held-out queries, recall@10 against exact search, p50/p95 of one query at a time on
one thread; 2-core AMD EPYC (AVX2) shared with other jobs (load average ~5), so build times are inflated ~3x (a
quieter run built M=16 in 84 s with hnswlib, 122 s with usearch) and p95s are noisy:

=======  ==  =======  =======  ======  ===================  ===================
library  M   build s  file MB  load s  ef=64: R@10 p50/p95  ef=128: R@10 p50/p95
=======  ==  =======  =======  ======  ===================  ===================
hnswlib  16    261      168     0.27   0.998  0.39 / 0.52   1.000  0.74 / 0.95
usearch  16    295      169     0.26   1.000  0.68 / 1.02   1.000  1.55 / 2.35
faiss    16    225      168     0.22   0.999  0.51 / 4.55   1.000  1.12 / 9.15
hnswlib  32    318      181     0.31   1.000  0.79 / 1.13   1.000  1.50 / 2.21
usearch  32    615      181     0.48   1.000  2.46 / 6.83   1.000  6.89 / 9.50
faiss    32    426      181     0.25   1.000  0.82 / 1.08   1.000  1.62 / 5.69
=======  ==  =======  =======  ======  ===================  ===================

All three reach recall@10 >= 0.998 at M=16; hnswlib answers fastest with the steadiest tail, and it is the only one
whose Python API has everything needed here: int64 labels without a mapping, in-place replacement of a re-added
key, ``mark_deleted`` with slot reuse, and a filter predicate (faiss' HNSW cannot remove or replace vectors;
usearch's Python API has no filter predicate). M=32 buys no recall on this data, only size and time.

Filtering: ``search(..., allowed=keys)`` runs an exact numpy search over the allowed keys' vectors when they are
few (at most ``EXACT_MAX``, or under ``EXACT_FRACTION`` of the index), otherwise the HNSW search with hnswlib's
filter predicate, falling back to exact search if that returns fewer than ``k``. hnswlib's own vector lookup
(``get_items``) costs ~70 us per key, so the index keeps a row-aligned copy of the vectors for exact search (in
memory for a writer, memory-mapped from ``vectors-<gen>.npy`` for a reader, shared via the page cache). p50 ms at
100k (``--filtered``, ``bench/results/ann_filtered.json``; exact / graph with filter, graph recall@10 in brackets):
0.2% allowed 0.14 / 196 (1.0), 1% 0.6 / 74 (1.0), 5% 32 / 24 (0.987), 10% 39 / 29 (0.997), 20% 76 / 17 (1.0),
50% 115 / 6 (1.0); exact search costs ~1 ms per 1000 allowed keys on this machine (memory bandwidth).

Files (in ``folder``): ``CURRENT`` (JSON: generation, a token unique to each save, dim, parameters),
``hnsw-<gen>.bin`` (graph), ``keys-<gen>.npy`` and ``vectors-<gen>.npy`` (live keys and their vectors; removed keys
stay in the graph as deleted slots that later adds reuse). ``save()`` writes a generation under temporary names,
renames, then atomically replaces ``CURRENT``, keeping the previous generation for readers still loading it.
Another process notices a save with ``reload_if_changed()`` (a ``stat`` of ``CURRENT``, then its token). Writers
serialise on ``.lock`` (``fcntl.flock``) inside ``with ann.writing():``, which first loads what another writer saved,
so no change is lost; readers never wait for a writer.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import re
import threading
import uuid
from collections.abc import Collection, Iterable, Iterator
from pathlib import Path
from typing import Any

import hnswlib
import numpy as np

CURRENT = "CURRENT"
LOCK = ".lock"
_GEN_FILE = re.compile(r"^(hnsw|keys|vectors)-(\d+)\.(bin|npy)(\.tmp)?$")


class AnnError(RuntimeError):
    """An index on disk that cannot be used as is (wrong dimension, unreadable); rebuilding it fixes it."""


class AnnIndex:
    """HNSW index of ``(int64 key, float32 unit vector)`` pairs, saved in ``folder``. Thread-safe."""

    M = 16
    EF_CONSTRUCTION = 200
    EF_SEARCH = 200
    EXACT_MAX = 10_000
    EXACT_FRACTION = 0.01
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
        self._index = hnswlib.Index(space="ip", dim=dim)
        self._index.init_index(
            self.MIN_CAPACITY, M=self.M, ef_construction=self.EF_CONSTRUCTION, allow_replace_deleted=True
        )
        self._index.set_num_threads(1)
        self._row: dict[int, int] = {}  # live key -> its row in _vecs
        self._vecs = np.zeros((0, dim), dtype=np.float32)  # rows [0, _used) hold vectors (some of removed keys)
        self._used = 0

    # -- construction and persistence ------------------------------------------------------------------------
    @classmethod
    def open(cls, folder: Path, dim: int) -> AnnIndex:
        """The index saved in ``folder``, or an empty one when nothing has been saved there yet."""
        ann = cls(folder, dim)
        ann.reload_if_changed()
        return ann

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
                    index, row, vecs = self._read_generation(meta)
                except FileNotFoundError:  # a writer replaced this generation while we read it: look again
                    if attempt == 4:
                        raise
                    continue
                with self._lock:
                    if self._token != token:  # this instance saved meanwhile: what it holds is newer
                        continue
                    self._index, self._row, self._vecs, self._used, self._stat = index, row, vecs, len(vecs), stat
                    self.generation, self._token = int(meta["generation"]), meta.get("token")
                return True
            return False  # pragma: no cover

    def _read_generation(self, meta: dict[str, Any]) -> tuple[hnswlib.Index, dict[int, int], np.ndarray]:
        if int(meta["dim"]) != self.dim:
            raise AnnError(f"{self.folder}: index has dimension {meta['dim']}, expected {self.dim}; rebuild it")
        gen = int(meta["generation"])
        keys = np.load(self.folder / f"keys-{gen}.npy")
        vectors_path = self.folder / f"vectors-{gen}.npy"
        # memory-mapped: processes that only search share one copy in the page cache
        vecs = np.load(vectors_path, mmap_mode="r") if len(keys) else np.zeros((0, self.dim), dtype=np.float32)
        if vecs.shape != (len(keys), self.dim):
            raise AnnError(f"{vectors_path}: shape {vecs.shape} does not match {len(keys)} keys; rebuild the index")
        index = hnswlib.Index(space="ip", dim=self.dim)
        index.load_index(str(self.folder / f"hnsw-{gen}.bin"), allow_replace_deleted=True)
        index.set_num_threads(1)
        return index, dict(zip(keys.tolist(), range(len(keys)), strict=True)), vecs

    def save(self) -> None:
        """Write this index as a new generation and make it current atomically (temp files, then renames)."""
        with self._writer_lock(), self._lock:
            self.folder.mkdir(parents=True, exist_ok=True)
            meta = self._read_current()
            gen = max(self.generation, int(meta["generation"]) if meta else 0) + 1
            for name in os.listdir(self.folder):  # leftovers of a writer that crashed (we hold the lock)
                if name.endswith(".tmp"):
                    (self.folder / name).unlink(missing_ok=True)
            keys = np.fromiter(self._row, dtype=np.int64, count=len(self._row))
            vecs = np.ascontiguousarray(self._vecs[np.fromiter(self._row.values(), dtype=np.int64, count=len(keys))])
            paths = [
                self.folder / f"{name}-{gen}.{ext}"
                for name, ext in (("hnsw", "bin"), ("keys", "npy"), ("vectors", "npy"))
            ]
            self._index.save_index(f"{paths[0]}.tmp")
            arrays: list[np.ndarray] = [keys, vecs]
            for path, array in zip(paths[1:], arrays, strict=True):
                with open(f"{path}.tmp", "wb") as fh:
                    np.save(fh, array)
            for path in paths:
                _fsync_path(Path(f"{path}.tmp"))
                os.replace(f"{path}.tmp", path)
            token = uuid.uuid4().hex
            new_meta = {"generation": gen, "token": token, "dim": self.dim, "count": len(keys), "library": "hnswlib"}
            new_meta |= {"space": "ip", "M": self.M, "ef_construction": self.EF_CONSTRUCTION}
            tmp = self.folder / (CURRENT + ".tmp")
            tmp.write_text(json.dumps(new_meta) + "\n")
            _fsync_path(tmp)
            os.replace(tmp, self.folder / CURRENT)
            _fsync_path(self.folder)
            self.generation, self._token, self._stat = gen, token, self._current_stat()
            self._row, self._vecs, self._used = dict(zip(keys.tolist(), range(len(keys)), strict=True)), vecs, len(keys)
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
                self._flock_fd = os.open(self.folder / LOCK, os.O_RDWR | os.O_CREAT, 0o644)
                fcntl.flock(self._flock_fd, fcntl.LOCK_EX)
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

    # -- contents ------------------------------------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self._row)

    def __contains__(self, key: object) -> bool:
        return isinstance(key, int | np.integer) and int(key) in self._row

    def keys(self) -> np.ndarray:
        """The live keys (int64), in no particular order."""
        with self._lock:
            return np.fromiter(self._row, dtype=np.int64, count=len(self._row))

    def get_vectors(self, keys: Iterable[int]) -> np.ndarray:
        """float32 ``(n, dim)`` vectors of these keys, in the order given (KeyError for a key not in the index)."""
        with self._lock:
            rows = [self._row[int(k)] for k in keys]
            return np.array(self._vecs[rows], dtype=np.float32).reshape(len(rows), self.dim)

    def _reserve(self, extra: int) -> None:
        """Make ``self._vecs`` writable (a reader's copy is memory-mapped) with room for ``extra`` more rows."""
        need = self._used + extra
        if self._vecs.flags.writeable and need <= len(self._vecs):
            return
        grown = np.empty((max(need, 2 * len(self._vecs), self.MIN_CAPACITY), self.dim), dtype=np.float32)
        grown[: self._used] = self._vecs[: self._used]
        self._vecs = grown

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
        _, last = np.unique(keys[::-1], return_index=True)  # one row per key, the last one wins
        pick = np.sort(len(keys) - 1 - last)
        keys, vectors = keys[pick], _normalize(vectors[pick])
        with self._lock:
            present = np.fromiter((int(k) in self._row for k in keys), dtype=bool, count=len(keys))
            in_graph = present.copy()
            if not present.all() and self._index.element_count > len(self._row):  # some slots hold removed keys
                for i in np.flatnonzero(~present):
                    with contextlib.suppress(RuntimeError):  # not a removed key of this index
                        self._index.unmark_deleted(int(keys[i]))
                        in_graph[i] = True  # its slot is live again; add_items below overwrites the vector
            new = ~in_graph
            needed = self._index.element_count + int(new.sum())
            if needed > self._index.get_max_elements():
                self._index.resize_index(max(needed, 2 * self._index.get_max_elements()))
            if in_graph.any():
                self._index.add_items(vectors[in_graph], keys[in_graph], num_threads=1)
            if new.any():
                self._index.add_items(vectors[new], keys[new], num_threads=os.cpu_count() or 1, replace_deleted=True)
            self._reserve(int((~present).sum()))
            for key, vec in zip(keys.tolist(), vectors, strict=True):
                row = self._row.get(key)
                if row is None:
                    row = self._row[key] = self._used
                    self._used += 1
                self._vecs[row] = vec

    def remove(self, keys: Iterable[int]) -> int:
        """Remove these keys (unknown ones are ignored); returns how many were removed."""
        removed = 0
        with self._lock:
            for key in {int(k) for k in keys}:
                if self._row.pop(key, None) is not None:  # its row stays unused until the next save compacts
                    self._index.mark_deleted(key)
                    removed += 1
        return removed

    # -- search ----------------------------------------------------------------------------------------------------
    def live(self, keys: Iterable[int]) -> frozenset[int]:
        """Those of ``keys`` that are in the index now: what :meth:`search` takes with ``live=True``."""
        with self._lock:
            row = self._row
            return frozenset(k for k in keys if k in row)  # not row.keys() & keys: that walks all 1M keys (~45 ms)

    def search(
        self, vector: np.ndarray, k: int, allowed: Collection[int] | None = None, *, live: bool = False
    ) -> list[tuple[int, float]]:
        """The ``k`` nearest keys as ``(key, cosine similarity)``, best first; only keys in ``allowed`` if given.

        ``live``: ``allowed`` came from :meth:`live`, so it is not intersected with the index's keys again (a key
        removed since is skipped)."""
        q = _normalize(np.asarray(vector, dtype=np.float32).reshape(1, -1))
        if q.shape[1] != self.dim:
            raise ValueError(f"expected a {self.dim}-d query vector, got {q.shape[1]}")
        with self._lock:
            if allowed is None:
                k = min(k, len(self._row))
                return self._hnsw_search(q, k, None) if k > 0 else []
            candidates = allowed if live else self.live(allowed)
            k = min(k, len(candidates))
            if k <= 0:
                return []
            if len(candidates) <= self.EXACT_MAX or len(candidates) < self.EXACT_FRACTION * len(self._row):
                return self._exact_search(q[0], k, candidates)
            try:
                hits = self._hnsw_search(q, k, candidates)
            except RuntimeError:  # hnswlib could not find k results that pass the filter
                hits = []
            return hits if len(hits) >= k else self._exact_search(q[0], k, candidates)

    def _hnsw_search(self, q: np.ndarray, k: int, allowed: Collection[int] | None) -> list[tuple[int, float]]:
        self._index.set_ef(max(self.EF_SEARCH, k))
        flt = allowed.__contains__ if allowed is not None else None
        labels, dists = self._index.knn_query(q, k=k, num_threads=1, filter=flt)
        return [(int(key), float(1.0 - d)) for key, d in zip(labels[0], dists[0], strict=True)]

    def _exact_search(self, q: np.ndarray, k: int, keys: Collection[int]) -> list[tuple[int, float]]:
        found = [(key, row) for key in keys if (row := self._row.get(key)) is not None]
        if not found:
            return []
        ids, rows = (np.array(column, dtype=np.int64) for column in zip(*found, strict=True))
        k = min(k, len(ids))
        order = np.argsort(rows)  # read the rows in memory order
        ids, sims = ids[order], self._vecs[rows[order]] @ q
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
