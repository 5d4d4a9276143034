"""Search in :class:`~dailypapers.search.vectors.hnsw.AnnIndex` (a mixin): the quantized graph, restricted to the
live rows or to the rows of an allowed set by a bitmap, its ``RESCORE * k`` nearest rescored with the float32 rows;
exact numpy search over the rows for small allowed sets, small indexes, and when the graph finds fewer than ``k``.
See :mod:`dailypapers.search.vectors.hnsw` for the layout of the rows.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Collection, Iterable
from typing import Any, BinaryIO

import faiss
import numpy as np

_FAISS: Any = faiss  # faiss' bundled type hints lack SearchParametersHNSW


class AnnSearch:
    """The queries of :class:`~dailypapers.search.vectors.hnsw.AnnIndex` over the state it keeps."""

    EF_SEARCH = 200
    EXACT_MAX = 10_000
    EXACT_FRACTION = 0.01
    RESCORE = 2  # the graph's k * RESCORE nearest by their codes are scored with float32, the best k kept

    dim: int
    _lock: threading.RLock
    _graph: Any
    _row: dict[int, int]
    _keys: np.ndarray
    _vecs: np.ndarray
    _used: int
    _live_bits: np.ndarray | None
    _vec_file: BinaryIO | None  # the open vectors file of a loaded generation (read by _rows_of)

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
                if k <= 0:
                    return []
                if self._graph is not None and len(hits := self._graph_search(q, k, self._live_bitmap())) >= k:
                    return hits
                return self._exact_all(q[0], k)
            candidates = allowed if live else self.live(allowed)
            k = min(k, len(candidates))
            if k <= 0:
                return []
            small = len(candidates) <= self.EXACT_MAX or len(candidates) < self.EXACT_FRACTION * len(self._row)
            if small or self._graph is None:
                return self._exact_search(q[0], k, candidates)
            hits = self._graph_search(q, k, self._bitmap_of(candidates))
            return hits if len(hits) >= k else self._exact_search(q[0], k, candidates)

    def _live_bitmap(self) -> np.ndarray | None:
        """The bitmap of live rows for the graph search, None when every row is live."""
        if len(self._row) == self._used:
            return None
        if self._live_bits is None:
            self._live_bits = np.packbits(self._keys[: self._used] >= 0, bitorder="little")
        return self._live_bits

    def _bitmap_of(self, keys: Collection[int]) -> np.ndarray:
        rows = np.fromiter((r for k in keys if (r := self._row.get(k)) is not None), np.int64)
        mask = np.zeros(self._used, dtype=bool)
        mask[rows] = True
        return np.packbits(mask, bitorder="little")

    def _graph_search(self, q: np.ndarray, k: int, bitmap: np.ndarray | None) -> list[tuple[int, float]]:
        """The graph's ``k`` nearest rows among those set in ``bitmap`` (all rows: None), scored exactly."""
        fetch = k * self.RESCORE
        params = _FAISS.SearchParametersHNSW(efSearch=max(self.EF_SEARCH, fetch))
        if bitmap is not None:
            selector = faiss.IDSelectorBitmap(self._used, faiss.swig_ptr(bitmap))
            params.sel = selector  # ``selector`` and ``bitmap`` stay referenced until the search returns
        _, found = self._graph.search(q, fetch, params=params)
        rows = found[0][found[0] >= 0]
        return self._scored(q[0], rows)[:k]

    def _scored(self, q: np.ndarray, rows: np.ndarray) -> list[tuple[int, float]]:
        """``rows`` scored with their float32 vectors (the codes' scores are approximate), best first."""
        if len(rows) == 0:
            return []
        sims = self._rows_of(rows) @ q
        order = np.argsort(-sims, kind="stable")
        return [(int(self._keys[rows[i]]), float(sims[i])) for i in order]

    def _rows_of(self, rows: np.ndarray) -> np.ndarray:
        """The float32 vectors of ``rows``. A reader's rows are memory-mapped, and are read here with ``pread``
        instead: every page fault on the mapping makes 16 neighbouring pages resident too, so the 2k rows each search
        rescores soon made the whole file part of the worker's RSS (220 MiB of a 100k index, 1.5 GiB at 1M). Read
        this way they stay in the page cache, shared by every worker, and out of the process."""
        file, vecs = self._vec_file, self._vecs
        if file is None or not isinstance(vecs, np.memmap):
            return np.asarray(vecs[rows], dtype=np.float32)
        size, fd = self.dim * 4, file.fileno()
        data = b"".join(os.pread(fd, size, int(vecs.offset) + size * int(r)) for r in rows.tolist())
        return np.frombuffer(data, dtype="<f4").reshape(len(rows), self.dim)

    def _exact_all(self, q: np.ndarray, k: int) -> list[tuple[int, float]]:
        """The exact ``k`` nearest of every live row (``k`` <= live rows)."""
        sims = self._vecs[: self._used] @ q
        sims[self._keys[: self._used] < 0] = -np.inf
        top = np.argpartition(-sims, k - 1)[:k] if k < len(sims) else np.arange(len(sims))
        top = top[np.argsort(-sims[top], kind="stable")]
        return [(int(self._keys[i]), float(sims[i])) for i in top]

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
