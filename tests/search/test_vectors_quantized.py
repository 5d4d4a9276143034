"""The compact vector index (issue 23, item 3) through the public search service, on a real library: the quantized
graph answers what exact search over the stored embeddings answers, filtered or not, hidden papers left out; a
changed abstract replaces its vector; removed keys stay out after a save and a reload; and an index saved in the
format before it (hnswlib's) is rebuilt from the stored vectors when a process opens it, after which ``check``
finds it in step. The graph is built from :data:`GRAPH_MIN` rows on, so these small libraries use it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from datetime import date

import numpy as np
import pytest

from dailypapers.config import Config
from dailypapers.library import Library
from dailypapers.ops.check import check_vector_index
from dailypapers.papers.models import Filters, Paper, make_paper
from dailypapers.search.vectors.hnsw import CURRENT, AnnIndex
from dailypapers.search.vectors.index import HnswVectorIndex, model_folder
from tests.demo import demo_embedder

GRAPH_MIN = 8
TOPICS = ["sparse attention", "protein folding", "robot grasping", "speech recognition", "graph neural networks",
          "diffusion models for images", "reinforcement learning", "causal inference"]  # fmt: skip
DAY = date(2026, 11, 30)


def paper(n: int) -> Paper:
    topic = TOPICS[n % len(TOPICS)]
    return make_paper(
        title=f"A study of {topic}, part {n}",
        abstract=f"We look at {topic} from angle {n}; our method improves the state of the art on benchmark {n % 5}.",
        arxiv_id=f"2611.{n:05d}",
        source="jsonl",
        added_at=date(2026, 11, 1 + n % 30),
        categories=["cs.LG" if n % 2 else "cs.CL"],
    )


@pytest.fixture
def lib(db_config: Config, monkeypatch: pytest.MonkeyPatch) -> Iterator[Library]:
    monkeypatch.setattr(AnnIndex, "GRAPH_MIN", GRAPH_MIN)
    library = Library(db_config, embedder=demo_embedder())
    library.init()
    library.ingest([paper(n) for n in range(1, 49)], progress=False)  # stored, embedded and indexed
    yield library
    library.close()


def stored(lib: Library) -> dict[int, np.ndarray]:
    out: dict[int, np.ndarray] = {}
    for pks, vectors in lib.store.iter_embeddings(lib.search.vectors.model):
        out.update(zip(pks.tolist(), vectors / np.linalg.norm(vectors, axis=1, keepdims=True), strict=True))
    return out


def exact(lib: Library, query: np.ndarray, k: int, filters: Filters = Filters()) -> list[int]:
    vectors = stored(lib)
    allowed = lib.store.filter_pks(filters)
    keys = [pk for pk in vectors if pk in allowed]
    if not keys:
        return []
    sims = np.stack([vectors[pk] for pk in keys]) @ query
    return [keys[i] for i in np.argsort(-sims)[:k]]


def test_the_graph_answers_as_exact_search_does(lib: Library, backend: str) -> None:
    if backend == "sqlite":
        index = lib.search.vectors
        assert isinstance(index, HnswVectorIndex) and index.ann._graph is not None  # the quantized graph is used
    query = lib.search.embed_query("attention over long documents")
    hits = lib.search.vectors.search(query, 10)
    assert [h.pk for h in hits] == exact(lib, query, 10)
    vectors = stored(lib)
    assert all(h.score == pytest.approx(float(vectors[h.pk] @ query), abs=1e-4) for h in hits)  # exact cosines
    for filters in (Filters(category="cs.CL"), Filters(added_since=date(2026, 11, 20)), Filters(author="nobody")):
        assert [h.pk for h in lib.search.vectors.search(query, 5, filters)] == exact(lib, query, 5, filters)
    top = lib.store.get_papers_by_pk([hits[0].pk])[0]
    lib.papers.hide(top.id, None, "test")
    assert top.pk not in [h.pk for h in lib.search.vectors.search(query, 10)]
    assert top.pk not in [h.pk for h in lib.search.vectors.search(query, 10, Filters(category=top.categories[0]))]
    assert top.id not in [r.paper.id for r in lib.search.query("attention over long documents").results]
    lib.papers.unhide(top.id)
    assert lib.search.vectors.search(query, 1)[0].pk == top.pk


def test_a_changed_abstract_replaces_its_vector(lib: Library) -> None:
    before = lib.search.vectors.size()
    old = lib.store.get_paper("2611.00003")
    assert old is not None and old.pk is not None
    changed = replace(old, abstract="Quantum error correction with surface codes and lattice surgery.")
    lib.ingest([changed], progress=False)
    query = lib.search.embed_query("quantum error correction surface codes")
    assert lib.search.vectors.size() == before
    assert lib.search.vectors.search(query, 1)[0].pk == old.pk
    assert [h.pk for h in lib.search.vectors.search(query, 10)] == exact(lib, query, 10)


def test_removed_keys_stay_out_after_save_and_reload(lib: Library, backend: str) -> None:
    if backend != "sqlite":
        pytest.skip("pgvector's index goes with the rows of the embeddings table")
    index = lib.search.vectors
    assert isinstance(index, HnswVectorIndex)
    gone = [int(k) for k in index.ann.keys()[:3]]
    query = lib.store.get_embedding(index.model, gone[0])
    assert query is not None
    with index.ann.writing():
        assert index.ann.remove(gone) == 3
        index.ann.save()
    reader = AnnIndex.open(index.folder, index.dim)
    for ann in (index.ann, reader):
        assert len(ann) == 45 and not set(gone) & {k for k, _ in ann.search(query, 45)}
        assert not set(gone) & {k for k, _ in ann.search(query, 10, set(range(1000)))}


def test_an_index_of_the_old_format_is_rebuilt_when_opened(lib: Library, backend: str) -> None:
    if backend != "sqlite":
        pytest.skip("PostgreSQL keeps pgvector")
    model, folder = lib.search.vectors.model, lib.search.vector_dir
    path = model_folder(folder, model)
    for file in path.iterdir():
        if file.is_file() and file.name != ".lock":
            file.unlink()
    old = {"generation": 1, "token": "hnswlib", "dim": 384, "count": 48, "library": "hnswlib", "space": "ip"}
    (path / CURRENT).write_text(json.dumps(old) + "\n")  # what hnswlib's index wrote (and its files)
    for name in ("hnsw-1.bin", "keys-1.npy", "vectors-1.npy"):
        (path / name).write_bytes(b"\x93NUMPY old")
    fresh = Library(lib.config, embedder=demo_embedder())
    try:
        assert fresh.search.vectors.size() == 48
        meta = json.loads((path / CURRENT).read_text())
        assert meta["format"] == 2 and meta["library"] == "faiss" and meta["generation"] == 2
        finding = check_vector_index(fresh)
        assert finding.ok, finding.detail
        query = fresh.search.embed_query("protein folding")
        assert [h.pk for h in fresh.search.vectors.search(query, 5)] == exact(fresh, query, 5)
    finally:
        fresh.close()
