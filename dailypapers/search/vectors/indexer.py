"""Keeping embeddings and the vector index up to date with the papers in the store.

:func:`update_index` embeds only papers that are new or whose title/abstract changed (the store tracks the hash of
the text each embedding came from), stores the vectors and hands them to the
:class:`~dailypapers.search.vectors.base.VectorIndex`. :func:`rebuild_index` rebuilds that index from the stored
vectors and swaps it in atomically; no embedding is recomputed.

Crash safety: the index's update hooks (``recover``, ``begin_update``, ``commit``) are called in the order their
protocol describes, so an index kept apart from the store (the SQLite backend's HNSW files, with their
``ann_pending:<model>`` meta flag) can repair itself after an interrupted update; see
:mod:`dailypapers.search.vectors.index`.
"""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Callable

import numpy as np
from tqdm import tqdm

from dailypapers.papers.store.base import Store
from dailypapers.search import timing
from dailypapers.search.vectors.base import VectorIndex
from dailypapers.search.vectors.embedder import Embedder

log = logging.getLogger(__name__)


def update_index(
    store: Store, embedder: Embedder, index: VectorIndex, *, batch: int = 64, progress: bool | None = None
) -> int:
    """Embed new and changed papers, store their vectors, add them to ``index``; return how many were embedded.

    ``progress``: a tqdm bar on stderr (None: only when stderr is a terminal). The model is not loaded when there
    is nothing to embed.
    """
    with index.writing():
        index.recover()
        total = store.count_needing_embedding(embedder.name)
        if total == 0:
            index.commit()  # saves what recover() repaired, if anything
            return 0
        index.begin_update()  # before the first vector is stored: the index may lag the store until commit()
        done = _embed_changed(store, embedder, total, batch, progress, index.add)
        index.commit()
    return done


def rebuild_index(store: Store, embedder: Embedder, index: VectorIndex, *, progress: bool | None = None) -> int:
    """Embed the papers that need it, then build ``index`` afresh from the stored vectors; return its size.

    The new index replaces the old one atomically: readers keep the old one until they reload.
    """
    if total := store.count_needing_embedding(embedder.name):
        _embed_changed(store, embedder, total, 64, progress, None)  # the rebuild below indexes these too
    return index.rebuild()


def _embed_changed(
    store: Store,
    embedder: Embedder,
    total: int,
    batch: int,
    progress: bool | None,
    on_stored: Callable[[np.ndarray, np.ndarray], None] | None,
) -> int:
    """Embed every paper that needs it (``total`` of them, for the progress bar), batch by batch, storing each
    batch's vectors and then passing them to ``on_stored``; return how many were embedded."""
    model = embedder.name
    done = 0
    disable = None if progress is None else not progress
    with tqdm(total=total, desc="embedding", unit="paper", file=sys.stderr, disable=disable) as bar:
        for papers in store.papers_needing_embedding(model, batch):
            start = time.perf_counter()
            vectors = embedder.embed([p.embedding_text() for p in papers])
            timing.embedded(len(papers), time.perf_counter() - start)  # throughput for /metrics
            store.save_embeddings(model, list(zip(papers, vectors, strict=True)))
            if on_stored is not None:
                on_stored(np.array([p.pk for p in papers], dtype=np.int64), vectors)
            done += len(papers)
            bar.update(len(papers))
    log.info("embedded %d papers with %s", done, model)
    return done
