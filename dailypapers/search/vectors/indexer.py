"""Keeping embeddings and the vector index up to date with the papers in the store.

:func:`update_index` embeds only papers that are new or whose title/abstract changed (the store tracks the hash of
the text each embedding came from), stores the vectors and adds them to the on-disk ANN index. :func:`rebuild_index`
rebuilds that index from the stored vectors and swaps it in atomically; no embedding is recomputed.

Crash safety: vectors reach the store batch by batch, the ANN file only at checkpoints and at the end. A store meta
flag (``ann_pending:<model>``) is set while the two may disagree; the next :func:`update_index` that finds it set
(or finds no saved index at all) first adds every stored vector the index lacks.
"""

from __future__ import annotations

import contextlib
import logging
import sys
import time
from pathlib import Path

import numpy as np
from tqdm import tqdm

from dailypapers.papers.store.base import Store
from dailypapers.search.vectors.embedder import Embedder
from dailypapers.search.vectors.hnsw import AnnIndex

log = logging.getLogger(__name__)

CHECKPOINT_S = 300.0  # save the ANN index at least this often during a long run, so the web app sees progress


def _pending_key(model: str) -> str:
    return f"ann_pending:{model}"


def _reconcile(store: Store, model: str, ann: AnnIndex) -> int:
    """Add to ``ann`` every stored vector of ``model`` it lacks; return how many were added."""
    added = 0
    for pks, vectors in store.iter_embeddings(model):
        missing = np.fromiter((int(k) not in ann for k in pks), dtype=bool, count=len(pks))
        if missing.any():
            ann.add(pks[missing], vectors[missing])
            added += int(missing.sum())
    if added:
        log.info("added %d stored vectors missing from the vector index", added)
    return added


def update_index(
    store: Store, embedder: Embedder, ann: AnnIndex | None, *, batch: int = 64, progress: bool | None = None
) -> int:
    """Embed new and changed papers, store their vectors, add them to ``ann``; return how many were embedded.

    ``ann`` is None when the database indexes vectors itself (PostgreSQL). ``progress``: a tqdm bar on stderr
    (None: only when stderr is a terminal). The model is not loaded when there is nothing to embed.
    """
    model = embedder.name
    guard = ann.writing() if ann is not None else contextlib.nullcontext()
    with guard:
        dirty = False
        if ann is not None and (ann.generation == 0 or store.get_meta(_pending_key(model)) == "1"):
            dirty = _reconcile(store, model, ann) > 0 or ann.generation == 0
        total = store.count_needing_embedding(model)
        if total == 0:
            if ann is not None and dirty:
                ann.save()
                store.set_meta(_pending_key(model), "0")
            return 0
        if ann is not None:
            store.set_meta(_pending_key(model), "1")
        done = 0
        last_save = time.monotonic()
        disable = None if progress is None else not progress
        with tqdm(total=total, desc="embedding", unit="paper", file=sys.stderr, disable=disable) as bar:
            for papers in store.papers_needing_embedding(model, batch):
                vectors = embedder.embed([p.embedding_text() for p in papers])
                store.save_embeddings(model, list(zip(papers, vectors, strict=True)))
                if ann is not None:
                    ann.add(np.array([p.pk for p in papers], dtype=np.int64), vectors)
                    if time.monotonic() - last_save > CHECKPOINT_S:
                        ann.save()
                        last_save = time.monotonic()
                done += len(papers)
                bar.update(len(papers))
        if ann is not None:
            ann.save()
            store.set_meta(_pending_key(model), "0")
    log.info("embedded %d papers with %s", done, model)
    return done


def rebuild_index(store: Store, embedder: Embedder, ann_folder: Path, *, progress: bool | None = None) -> AnnIndex:
    """Build a fresh ANN index in ``ann_folder`` from the stored vectors (embedding missing ones first).

    The new index replaces the old one atomically: readers keep the old one until they reload.
    """
    update_index(store, embedder, None, progress=progress)
    fresh = AnnIndex(ann_folder, embedder.dim)
    with fresh.writing(reload=False):
        for pks, vectors in store.iter_embeddings(embedder.name):
            fresh.add(pks, vectors)
        fresh.save()
        store.set_meta(_pending_key(embedder.name), "0")
    log.info("rebuilt the vector index in %s: %d vectors", ann_folder, len(fresh))
    return fresh
