"""update_index / rebuild_index against a real store and the real model: only new or changed papers are embedded."""

from __future__ import annotations

import dataclasses
import json
import shutil
from collections.abc import Sequence
from datetime import date
from pathlib import Path

import numpy as np
import pytest

from dailypapers.demo import DEMO_CORPUS
from dailypapers.papers.models import Paper, make_paper
from dailypapers.papers.store import Store
from dailypapers.search.vectors.embedder import MiniLMEmbedder
from dailypapers.search.vectors.hnsw import AnnIndex
from dailypapers.search.vectors.indexer import rebuild_index, update_index

CORPUS = DEMO_CORPUS
N = 12  # short abstracts and few papers: embedding on a small CPU is the slow part


class CountingEmbedder:
    """The real embedder, counting the texts it is asked to embed."""

    def __init__(self, inner: MiniLMEmbedder) -> None:
        self.inner, self.name, self.dim, self.texts = inner, inner.name, inner.dim, 0

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        self.texts += len(texts)
        return self.inner.embed(texts)


def papers() -> list[Paper]:
    lines = CORPUS.read_text(encoding="utf-8").splitlines()[:N]
    recs = [json.loads(line) for line in lines]
    return [
        make_paper(title=r["title"], abstract=r["abstract"][:300], source="jsonl", added_at=date(2026, 11, 18))
        for r in recs
    ]


@pytest.fixture
def counting(embedder: MiniLMEmbedder) -> CountingEmbedder:
    return CountingEmbedder(embedder)


def test_update_embeds_only_new_and_changed(
    store: Store, counting: CountingEmbedder, embedder: MiniLMEmbedder, tmp_path: Path
) -> None:
    store.upsert_papers(papers())
    ann = AnnIndex.open(tmp_path / "vectors", counting.dim) if store.backend == "sqlite" else None
    assert update_index(store, counting, ann, batch=5, progress=False) == N
    assert counting.texts == N and store.count_needing_embedding(counting.name) == 0
    if ann is not None:
        assert len(ann) == N and ann.generation == 1
        assert len(AnnIndex.open(tmp_path / "vectors", counting.dim)) == N  # saved

    assert update_index(store, counting, ann, batch=5, progress=False) == 0
    assert counting.texts == N

    first = store.find_by_title(papers()[0].title)
    assert first is not None and first.pk is not None
    before = store.get_embedding(counting.name, first.pk)
    changed = dataclasses.replace(first, abstract="We study reinforcement learning agents that play board games.")
    store.upsert_papers([changed])
    assert update_index(store, counting, ann, progress=False) == 1
    assert counting.texts == N + 1
    after = store.get_embedding(counting.name, first.pk)
    assert before is not None and after is not None and float(before @ after) < 0.95
    np.testing.assert_allclose(after, embedder.embed([changed.embedding_text()])[0], atol=1e-5)
    if ann is not None:
        assert len(ann) == N
        assert ann.search(after, 1)[0][0] == first.pk


def test_rebuild_and_recovery(store: Store, counting: CountingEmbedder, tmp_path: Path) -> None:
    if store.backend != "sqlite":
        pytest.skip("the on-disk ANN index is used with SQLite only")
    folder = tmp_path / "vectors"
    store.upsert_papers(papers())
    ann = AnnIndex.open(folder, counting.dim)
    update_index(store, counting, ann, progress=False)
    reader = AnnIndex.open(folder, counting.dim)

    fresh = rebuild_index(store, counting, folder)
    assert counting.texts == N  # nothing re-embedded
    assert len(fresh) == N and fresh.generation == ann.generation + 1
    assert reader.reload_if_changed() and len(reader) == N
    pk = int(fresh.keys()[0])
    vec = store.get_embedding(counting.name, pk)
    assert vec is not None and fresh.search(vec, 1)[0] == (pk, pytest.approx(1.0, abs=1e-5))

    # the index files are lost: the next update restores them from stored vectors without embedding anything
    shutil.rmtree(folder)
    lost = AnnIndex.open(folder, counting.dim)
    assert update_index(store, counting, lost, progress=False) == 0
    assert counting.texts == N and len(lost) == N and len(AnnIndex.open(folder, counting.dim)) == N


def test_nothing_to_embed_does_not_load_the_model(store: Store, tmp_path: Path) -> None:
    lazy = MiniLMEmbedder(precision="fp32")
    ann = AnnIndex.open(tmp_path / "vectors", lazy.dim) if store.backend == "sqlite" else None
    assert update_index(store, lazy, ann, progress=False) == 0
    assert not lazy.loaded
