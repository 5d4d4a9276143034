"""The on-disk approximate-nearest-neighbour index over paper embeddings (used when the store is SQLite).

Keys are paper pks (int64 >= 0), vectors are float32 unit vectors, similarity is cosine (= inner product).

Library: **faiss-cpu**, ``IndexHNSWSQ`` with 8-bit scalar quantization (one byte per dimension, each dimension's
range learnt from the vectors), inner product, M=16, ef_construction=200, ef_search=max(200, k); the scores of the
hits are then recomputed from the float32 vectors (exact cosine, and the order they give). Chosen with
``python -m bench.quantized`` (``bench/results/quantized.json``: hnswlib float32 against usearch and faiss in
float16 and int8 on 100k vectors shaped like the benchmarks' corpus; the table is in docs/search.md, "Vectors"):
the graph with int8 codes takes ~1/3 of hnswlib's float32 index, which is what brings the 1M serving worker under
1.5 GiB; faiss' trained per-dimension ranges keep recall@10 where hnswlib's is, while usearch's ``i8`` (a fixed
scale for every dimension) lost recall, and only faiss filters inside the graph search (``IDSelectorBitmap``:
usearch's Python API has no filter). faiss' HNSW cannot remove or replace a vector, so this index keeps that
itself: a removed or replaced key's row becomes a *dead row* that every search excludes (with a bitmap of the live
rows), a replaced key gets a new row, and :meth:`AnnIndex.save` rebuilds the graph without the dead rows once they
are :data:`AnnIndex.COMPACT_FRACTION` of it. The 8-bit quantizer learns its ranges from the vectors: until the
index holds :data:`AnnIndex.GRAPH_MIN` of them there is no graph (exact search over the rows costs well under a
millisecond there), then it is trained on them and the graph built.

Filtering: ``search(..., allowed=keys)`` runs an exact numpy search over the allowed keys' vectors when they are
few (at most ``EXACT_MAX``, or under ``EXACT_FRACTION`` of the index), otherwise the graph search restricted to
them (a bitmap of their rows), falling back to exact search if that returns fewer than ``k``. The row-aligned
float32 vectors (in memory for a writer, memory-mapped from ``vectors-<gen>.npy`` for a reader, shared via the page
cache) serve exact search, the hits' scores and :meth:`AnnIndex.vectors_of`.

Files (in ``folder``): ``CURRENT`` (JSON: format, generation, a token unique to each save, dim, parameters),
``graph-<gen>.faiss`` (the quantized graph; absent below ``GRAPH_MIN`` rows), ``keys-<gen>.npy`` (the key of each
row, -1 for a dead row) and ``vectors-<gen>.npy`` (each row's float32 vector). ``save()`` writes a generation under
temporary names, renames, then atomically replaces ``CURRENT``, keeping the previous generation for readers still
loading it. An index saved in an older format (hnswlib's, before issue 23) raises :class:`AnnStale` when loaded:
:class:`~dailypapers.search.vectors.index.HnswVectorIndex` then rebuilds it from the stored vectors. Another
process notices a save with ``reload_if_changed()`` (a ``stat`` of ``CURRENT``, then its token). Writers serialise
on ``.lock`` (``fcntl.flock``) inside ``with ann.writing():``, which first loads what another writer saved, so no
change is lost; readers never wait for a writer.
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
from typing import Any, BinaryIO

import faiss
import numpy as np

from dailypapers.search.vectors.ann_search import _FAISS, AnnSearch, _normalize

CURRENT = "CURRENT"
LOCK = ".lock"
FORMAT = 2  # 1: hnswlib float32 (no "format" in CURRENT); 2: faiss HNSW + SQ8 with row keys
_GEN_FILE = re.compile(r"^(hnsw|graph|keys|vectors)-(\d+)\.(bin|faiss|npy)(\.tmp)?$")
_FILES = (("graph", "faiss"), ("keys", "npy"), ("vectors", "npy"))


class AnnError(RuntimeError):
    """An index on disk that cannot be used as is (wrong dimension, unreadable); rebuilding it fixes it."""


class AnnStale(AnnError):
    """An index saved in an older format (hnswlib's float32 index): it is rebuilt from the stored vectors."""


class AnnIndex(AnnSearch):
    """Quantized HNSW index of ``(int64 key, float32 unit vector)`` pairs, saved in ``folder``. Thread-safe."""

    M = 16
    EF_CONSTRUCTION = 200
    MIN_CAPACITY = 1024
    GRAPH_MIN = 10_000  # rows before the quantizer is trained and the graph built (exact search below)
    COMPACT_FRACTION = 0.25  # dead rows (removed, replaced keys) that make save() rebuild the graph without them

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
        self._graph: Any = None  # faiss.IndexHNSWSQ over rows [0, _used), or None below GRAPH_MIN rows
        self._row: dict[int, int] = {}  # live key -> its row
        self._keys = np.zeros(0, dtype=np.int64)  # key of each row, -1 for a dead row
        self._vecs = np.zeros((0, dim), dtype=np.float32)  # rows [0, _used) hold vectors
        self._used = 0
        self._live_bits: np.ndarray | None = None  # bitmap of the live rows, while there are dead ones
        self._vec_file: BinaryIO | None = None  # a loaded generation's vectors file, for reading rows

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
                    graph, keys, vecs, file = self._read_generation(meta)
                except FileNotFoundError:  # a writer replaced this generation while we read it: look again
                    if attempt == 4:
                        raise
                    continue
                with self._lock:
                    if self._token != token:  # this instance saved meanwhile: what it holds is newer
                        continue
                    self._set_state(graph, keys, vecs, file)
                    self._stat, self.generation, self._token = stat, int(meta["generation"]), meta.get("token")
                return True
            return False  # pragma: no cover

    def _read_generation(self, meta: dict[str, Any]) -> tuple[Any, np.ndarray, np.ndarray, BinaryIO | None]:
        if meta.get("format") != FORMAT:
            raise AnnStale(f"{self.folder}: an index of an older format ({meta.get('library', '?')}); rebuild it")
        if int(meta["dim"]) != self.dim:
            raise AnnError(f"{self.folder}: index has dimension {meta['dim']}, expected {self.dim}; rebuild it")
        gen = int(meta["generation"])
        keys = np.load(self.folder / f"keys-{gen}.npy")
        vectors_path = self.folder / f"vectors-{gen}.npy"
        # memory-mapped: processes that only search share one copy in the page cache
        vecs = np.load(vectors_path, mmap_mode="r") if len(keys) else np.zeros((0, self.dim), dtype=np.float32)
        file = open(vectors_path, "rb", buffering=0) if len(keys) else None  # noqa: SIM115 (open while in use)
        if vecs.shape != (len(keys), self.dim):
            raise AnnError(f"{vectors_path}: shape {vecs.shape} does not match {len(keys)} keys; rebuild the index")
        graph = faiss.read_index(str(self.folder / f"graph-{gen}.faiss")) if meta.get("graph") else None
        if graph is not None and graph.ntotal != len(keys):
            raise AnnError(f"{self.folder}: graph of {graph.ntotal} rows for {len(keys)} keys; rebuild the index")
        return graph, keys, vecs, file

    def _set_state(self, graph: Any, keys: np.ndarray, vecs: np.ndarray, file: BinaryIO | None = None) -> None:
        live = np.flatnonzero(keys >= 0)
        self._graph, self._keys, self._vecs, self._used = graph, keys, vecs, len(keys)
        self._vec_file = file  # the one before is closed when the last search using it is done
        self._row = dict(zip(keys[live].tolist(), live.tolist(), strict=True))
        self._live_bits = None

    def save(self) -> None:
        """Write this index as a new generation and make it current atomically (temp files, then renames)."""
        with self._writer_lock(), self._lock:
            self.folder.mkdir(parents=True, exist_ok=True)
            meta = self._read_current()
            gen = max(self.generation, int(meta["generation"]) if meta else 0) + 1
            for name in os.listdir(self.folder):  # leftovers of a writer that crashed (we hold the lock)
                if name.endswith(".tmp"):
                    (self.folder / name).unlink(missing_ok=True)
            if self._used - len(self._row) > self.COMPACT_FRACTION * self._used or self._graph is None:
                self._compact()
            paths = [self.folder / f"{name}-{gen}.{ext}" for name, ext in _FILES]
            if self._graph is not None:
                faiss.write_index(self._graph, f"{paths[0]}.tmp")
            keys, vecs = self._keys[: self._used], self._vecs[: self._used]
            for path, array in zip(paths[1:], (keys, vecs), strict=True):
                with open(f"{path}.tmp", "wb") as fh:
                    np.save(fh, np.ascontiguousarray(array))
            for path in paths if self._graph is not None else paths[1:]:
                _fsync_path(Path(f"{path}.tmp"))
                os.replace(f"{path}.tmp", path)
            token = uuid.uuid4().hex
            new_meta = {"format": FORMAT, "generation": gen, "token": token, "dim": self.dim, "count": len(self._row)}
            new_meta |= {"library": "faiss", "quantizer": "sq8", "space": "ip", "graph": self._graph is not None}
            new_meta |= {"M": self.M, "ef_construction": self.EF_CONSTRUCTION, "rows": self._used}
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

    def _compact(self) -> None:
        """Drop the dead rows; rebuild the graph over the live ones (none below :data:`GRAPH_MIN`)."""
        live = np.flatnonzero(self._keys[: self._used] >= 0)
        keys, vecs = self._keys[live], np.array(self._vecs[live], dtype=np.float32)
        self._set_state(None, keys, vecs)
        self._build_graph()

    def _build_graph(self) -> None:
        """Train the quantizer on every row and build the graph, once there are :data:`GRAPH_MIN` rows."""
        if self._graph is not None or self._used < self.GRAPH_MIN:
            return
        graph = _FAISS.IndexHNSWSQ(self.dim, faiss.ScalarQuantizer.QT_8bit, self.M, faiss.METRIC_INNER_PRODUCT)
        graph.hnsw.efConstruction = self.EF_CONSTRUCTION
        rows = np.ascontiguousarray(self._vecs[: self._used], dtype=np.float32)
        graph.train(rows)
        self._graph = graph
        self._graph_add(rows)

    def _graph_add(self, rows: np.ndarray) -> None:
        threads = faiss.omp_get_max_threads()
        faiss.omp_set_num_threads(os.cpu_count() or 1)  # insertion in parallel; searches run on one thread
        try:
            self._graph.add(np.ascontiguousarray(rows, dtype=np.float32))
        finally:
            faiss.omp_set_num_threads(threads)

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

    def vectors_of(self, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``(those of keys in the index, their float32 rows)``, in the order given, in one read of the row
        store: the "For you" window's 100k vectors in tens of ms (memory-mapped in a reader)."""
        keys = np.asarray(keys, dtype=np.int64).reshape(-1)
        with self._lock:
            row = self._row
            rows = np.fromiter((row.get(k, -1) for k in keys.tolist()), np.int64, len(keys))
            have = rows >= 0
            if not have.all():
                keys, rows = keys[have], rows[have]
            out = np.empty((len(rows), self.dim), dtype=np.float32)
            order = np.argsort(rows, kind="stable")  # read the rows in file order: sequential, read ahead
            out[order] = self._vecs[rows[order]]
            return keys, out

    def _reserve(self, extra: int) -> None:
        """Make the row arrays writable (a reader's vectors are memory-mapped) with room for ``extra`` more rows."""
        need = self._used + extra
        if self._vecs.flags.writeable and need <= len(self._vecs) and need <= len(self._keys):
            return
        size = max(need, 2 * len(self._vecs), self.MIN_CAPACITY)
        grown = np.empty((size, self.dim), dtype=np.float32)
        grown[: self._used] = self._vecs[: self._used]
        keys = np.full(size, -1, dtype=np.int64)
        keys[: self._used] = self._keys[: self._used]
        self._vecs, self._keys = grown, keys

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
            self._forget(keys.tolist())  # a key present gets a new row: the graph cannot change a vector in place
            self._reserve(len(keys))
            first = self._used
            self._vecs[first : first + len(keys)] = vectors
            self._keys[first : first + len(keys)] = keys
            self._used += len(keys)
            self._row.update(zip(keys.tolist(), range(first, self._used), strict=True))
            if self._graph is not None:
                self._graph_add(vectors)
            else:
                self._build_graph()
            self._live_bits = None

    def remove(self, keys: Iterable[int]) -> int:
        """Remove these keys (unknown ones are ignored); returns how many were removed."""
        with self._lock:
            return self._forget({int(k) for k in keys})

    def _forget(self, keys: Iterable[int]) -> int:
        """Make the rows of these keys dead (the next compacting save drops them)."""
        removed = 0
        for key in keys:
            row = self._row.pop(key, None)
            if row is not None:
                if not self._keys.flags.writeable:
                    self._keys = self._keys.copy()
                self._keys[row] = -1
                removed += 1
        if removed:
            self._live_bits = None
        return removed


def _fsync_path(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
