"""update_index / rebuild_index against a real store, its VectorIndex and the real model: only new or changed papers
are embedded, and an index lost or left behind by a crash is repaired from the stored vectors."""

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
from dailypapers.search.vectors.base import VectorIndex
from dailypapers.search.vectors.embedder import MiniLMEmbedder
from dailypapers.search.vectors.hnsw import AnnIndex
from dailypapers.search.vectors.index import HnswVectorIndex, open_vector_index
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


def _index(store: Store, folder: Path, embedder: CountingEmbedder | MiniLMEmbedder) -> VectorIndex:
    return open_vector_index(store, folder, embedder.name, embedder.dim)


def test_update_embeds_only_new_and_changed(
    store: Store, counting: CountingEmbedder, embedder: MiniLMEmbedder, tmp_path: Path
) -> None:
    store.upsert_papers(papers())
    index = _index(store, tmp_path / "vectors", counting)
    assert update_index(store, counting, index, batch=5, progress=False) == N
    assert counting.texts == N and store.count_needing_embedding(counting.name) == 0
    assert index.size() == N
    if isinstance(index, HnswVectorIndex):
        assert index.ann.generation == 1
        assert len(AnnIndex.open(tmp_path / "vectors", counting.dim)) == N  # saved

    assert update_index(store, counting, index, batch=5, progress=False) == 0
    assert counting.texts == N

    first = store.find_by_title(papers()[0].title)
    assert first is not None and first.pk is not None
    before = store.get_embedding(counting.name, first.pk)
    changed = dataclasses.replace(first, abstract="We study reinforcement learning agents that play board games.")
    store.upsert_papers([changed])
    assert update_index(store, counting, index, progress=False) == 1
    assert counting.texts == N + 1
    after = store.get_embedding(counting.name, first.pk)
    assert before is not None and after is not None and float(before @ after) < 0.95
    np.testing.assert_allclose(after, embedder.embed([changed.embedding_text()])[0], atol=1e-5)
    assert index.size() == N
    assert index.search(after, 1)[0].pk == first.pk


def test_rebuild_and_recovery(store: Store, counting: CountingEmbedder, tmp_path: Path) -> None:
    folder = tmp_path / "vectors"
    store.upsert_papers(papers())
    index = _index(store, folder, counting)
    update_index(store, counting, index, progress=False)
    reader = _index(store, folder, counting)  # another process serving searches
    assert reader.size() == N

    assert rebuild_index(store, counting, index) == N
    assert counting.texts == N  # nothing re-embedded
    pk = first_pk(store)
    vec = store.get_embedding(counting.name, pk)
    assert vec is not None and index.search(vec, 1)[0].pk == pk
    assert index.search(vec, 1)[0].score == pytest.approx(1.0, abs=1e-5)
    if not isinstance(index, HnswVectorIndex) or not isinstance(reader, HnswVectorIndex):
        return  # PostgreSQL: the database keeps its index in step with the vectors; nothing can be lost
    assert index.ann.generation == 2
    assert reader.reload_if_changed() and reader.ann.generation == 2 and reader.size() == N

    # the index files are lost: the next update restores them from stored vectors without embedding anything
    shutil.rmtree(folder)
    lost = _index(store, folder, counting)
    assert update_index(store, counting, lost, progress=False) == 0
    assert counting.texts == N and lost.size() == N and len(AnnIndex.open(folder, counting.dim)) == N


def test_an_interrupted_update_is_repaired_by_the_next(
    store: Store, counting: CountingEmbedder, tmp_path: Path
) -> None:
    """Vectors stored but never added to the saved index (a crash between the two): the next update adds them."""
    store.upsert_papers(papers())
    index = _index(store, tmp_path / "vectors", counting)
    update_index(store, counting, index, progress=False)
    extra = make_paper(title="A Late Paper", abstract="It arrived after the others.", source="jsonl",
                       added_at=date(2026, 11, 19))  # fmt: skip
    store.upsert_papers([extra])
    late = store.get_paper(extra.id)
    assert late is not None and late.pk is not None
    with index.writing():  # what update_index does, up to a crash just after storing the vectors
        index.begin_update()
        store.save_embeddings(counting.name, [(late, counting.embed([late.embedding_text()])[0])])
    after_crash = _index(store, tmp_path / "vectors", counting)
    assert update_index(store, counting, after_crash, progress=False) == 0  # nothing left to embed...
    assert after_crash.size() == N + 1  # ...but the stored vector is in the index now
    vec = store.get_embedding(counting.name, late.pk)
    assert vec is not None and after_crash.search(vec, 1)[0].pk == late.pk


def first_pk(store: Store) -> int:
    paper = store.find_by_title(papers()[0].title)
    assert paper is not None and paper.pk is not None
    return paper.pk


def test_nothing_to_embed_does_not_load_the_model(store: Store, tmp_path: Path) -> None:
    lazy = MiniLMEmbedder(precision="fp32")
    assert update_index(store, lazy, _index(store, tmp_path / "vectors", lazy), progress=False) == 0
    assert not lazy.loaded
