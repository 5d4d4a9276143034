"""The on-disk ANN index: add, search (with recall against exact search), replace, remove, filters, persistence."""

from __future__ import annotations

import shutil
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest

from dailypapers.search.vectors.hnsw import AnnError, AnnIndex

DIM = 32
FILES = (("graph", "faiss"), ("keys", "npy"), ("vectors", "npy"))


def unit(rng: np.random.Generator, n: int, dim: int = DIM) -> np.ndarray:
    x = rng.standard_normal((n, dim)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def exact(keys: np.ndarray, vecs: np.ndarray, q: np.ndarray, k: int) -> list[int]:
    sims = vecs @ q
    return [int(keys[i]) for i in np.argsort(-sims)[:k]]


@pytest.fixture
def data() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(7)
    return np.arange(1, 2001, dtype=np.int64) * 3, unit(rng, 2000)  # sparse, non-contiguous keys


def test_search_recall_and_scores(tmp_path: Path, data: tuple[np.ndarray, np.ndarray]) -> None:
    keys, vecs = data
    ann = AnnIndex.open(tmp_path, DIM)
    assert len(ann) == 0 and ann.search(vecs[0], 5) == []
    ann.add(keys, vecs)
    assert len(ann) == 2000 and int(keys[5]) in ann and 1 not in ann
    queries = unit(np.random.default_rng(1), 50)
    found = 0
    for q in queries:
        hits = ann.search(q, 10)
        assert len(hits) == 10
        sims = [s for _, s in hits]
        assert sims == sorted(sims, reverse=True)
        found += len({k for k, _ in hits} & set(exact(keys, vecs, q, 10)))
        key, sim = hits[0]
        assert sim == pytest.approx(float(vecs[np.flatnonzero(keys == key)[0]] @ q), abs=1e-5)
    assert found / 500 >= 0.95
    top = ann.search(vecs[10], 1)
    assert top[0][0] == keys[10] and top[0][1] == pytest.approx(1.0, abs=1e-5)
    assert len(ann.search(vecs[0], 5000)) == 2000  # k larger than the index


def test_replace_and_remove(tmp_path: Path, data: tuple[np.ndarray, np.ndarray]) -> None:
    keys, vecs = data
    ann = AnnIndex(tmp_path, DIM)
    ann.add(keys, vecs)
    new = unit(np.random.default_rng(99), 1)
    ann.add(keys[:1], new)  # replace
    assert len(ann) == 2000
    assert ann.search(new[0], 1)[0][0] == keys[0]
    np.testing.assert_allclose(ann.get_vectors([int(keys[0])])[0], new[0], atol=1e-6)

    assert ann.remove([int(keys[1]), int(keys[2]), 123456]) == 2
    assert len(ann) == 1998 and int(keys[1]) not in ann
    assert all(k != keys[1] for k, _ in ann.search(vecs[1], 20))
    ann.add(keys[1:2], vecs[1:2])  # re-add a removed key
    assert int(keys[1]) in ann and ann.search(vecs[1], 1)[0][0] == keys[1]
    ann.add(np.array([999_999], dtype=np.int64), vecs[2:3])  # new key reuses the removed slot
    assert ann.search(vecs[2], 1)[0][0] == 999_999 and len(ann) == 2000
    # duplicate keys in one call: the last vector wins
    ann.add(np.array([5, 5]), np.vstack([vecs[3], vecs[4]]))
    np.testing.assert_allclose(ann.get_vectors([5])[0], vecs[4], atol=1e-6)


@pytest.mark.parametrize("n_allowed", [3, 15, 300, 1900])
def test_filtered_search(tmp_path: Path, data: tuple[np.ndarray, np.ndarray], n_allowed: int) -> None:
    keys, vecs = data
    ann = AnnIndex(tmp_path, DIM)
    ann.EXACT_MAX = 100  # exercise both the exact path and the filtered graph search on small data
    ann.add(keys, vecs)
    rng = np.random.default_rng(n_allowed)
    pick = rng.choice(len(keys), n_allowed, replace=False)
    allowed = {int(k) for k in keys[pick]} | {10**9}  # plus a key that is not in the index
    q = unit(rng, 1)[0]
    hits = ann.search(q, 10, allowed)
    assert len(hits) == min(10, n_allowed)
    assert {k for k, _ in hits} <= allowed
    truth = exact(keys[pick], vecs[pick], q, 10)
    assert len({k for k, _ in hits} & set(truth)) >= 0.9 * len(truth)
    assert ann.search(q, 10, set()) == []


def test_save_reload_and_change_detection(tmp_path: Path, data: tuple[np.ndarray, np.ndarray]) -> None:
    keys, vecs = data
    writer = AnnIndex.open(tmp_path, DIM)
    with writer.writing():
        writer.add(keys[:1000], vecs[:1000])
        writer.save()
    reader = AnnIndex.open(tmp_path, DIM)
    assert len(reader) == 1000 and reader.generation == writer.generation == 1
    assert reader.search(vecs[3], 1)[0][0] == keys[3]
    assert reader.reload_if_changed() is False

    with writer.writing():
        writer.add(keys[1000:], vecs[1000:])
        writer.remove([int(keys[0])])
        writer.save()
    assert reader.reload_if_changed() is True
    assert len(reader) == 1999 and int(keys[0]) not in reader and reader.generation == 2
    assert reader.search(vecs[1500], 1)[0][0] == keys[1500]

    # a third save keeps only the current and the previous generation on disk
    writer.save()
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == [".lock", "CURRENT", *(f"{n}-{g}.{e}" for n, e in FILES for g in (2, 3))]

    # a second writer that starts from the saved state does not lose the first writer's changes
    other = AnnIndex.open(tmp_path, DIM)
    with writer.writing():
        writer.add(np.array([7]), vecs[:1])
        writer.save()
    with other.writing():
        assert 7 in other
        other.add(np.array([8]), vecs[1:2])
        other.save()
    assert reader.reload_if_changed() and 7 in reader and 8 in reader

    with pytest.raises(AnnError):
        AnnIndex.open(tmp_path, DIM + 1)


def test_fresh_index_replaces_saved_one(tmp_path: Path, data: tuple[np.ndarray, np.ndarray]) -> None:
    keys, vecs = data
    old = AnnIndex(tmp_path, DIM)
    old.add(keys, vecs)
    old.save()
    fresh = AnnIndex(tmp_path, DIM)  # e.g. a rebuild: does not load the old one
    with fresh.writing(reload=False):
        fresh.add(keys[:10], vecs[:10])
        fresh.save()
    assert fresh.generation == 2
    assert old.reload_if_changed() and len(old) == 10


def test_bad_input(tmp_path: Path) -> None:
    ann = AnnIndex(tmp_path, DIM)
    with pytest.raises(ValueError):
        ann.add(np.array([1, 2]), np.zeros((2, DIM + 1), dtype=np.float32))
    with pytest.raises(ValueError):
        ann.add(np.array([-1]), np.ones((1, DIM), dtype=np.float32))
    with pytest.raises(ValueError):
        ann.search(np.ones(DIM + 1), 3)
    ann.add(np.array([], dtype=np.int64), np.zeros((0, DIM), dtype=np.float32))
    assert len(ann) == 0
    ann.save()  # an empty index saves and loads
    assert len(AnnIndex.open(tmp_path, DIM)) == 0


def test_other_process_save_and_recreated_folder(tmp_path: Path, data: tuple[np.ndarray, np.ndarray]) -> None:
    keys, vecs = data
    writer = AnnIndex(tmp_path, DIM)
    writer.add(keys[:100], vecs[:100])
    writer.save()
    reader = AnnIndex.open(tmp_path, DIM)
    code = (
        "import sys, numpy as np; from pathlib import Path; from dailypapers.search.vectors.hnsw import AnnIndex\n"
        f"ann = AnnIndex.open(Path(sys.argv[1]), {DIM})\n"
        "with ann.writing():\n"
        f"    ann.add(np.array([424242]), np.ones((1, {DIM}), dtype=np.float32)); ann.save()\n"
    )
    root = Path(__file__).resolve().parents[3]
    subprocess.run([sys.executable, "-c", code, str(tmp_path)], check=True, cwd=root)
    assert reader.reload_if_changed() and 424242 in reader and len(reader) == 101

    shutil.rmtree(tmp_path)  # the index is deleted and started again: generations restart, tokens differ
    again = AnnIndex.open(tmp_path, DIM)
    again.add(keys[:5], vecs[:5])
    again.save()
    assert again.generation == 1
    assert reader.reload_if_changed() and len(reader) == 5


def test_readers_do_not_wait_for_a_writer(tmp_path: Path, data: tuple[np.ndarray, np.ndarray]) -> None:
    keys, vecs = data
    ann = AnnIndex(tmp_path, DIM)
    ann.add(keys, vecs)
    entered, release = threading.Event(), threading.Event()

    def long_writer() -> None:
        with ann.writing(reload=False):
            entered.set()
            release.wait(10)

    t = threading.Thread(target=long_writer)
    t.start()
    try:
        assert entered.wait(10)
        assert ann.search(vecs[0], 1)[0][0] == keys[0]  # would hang if searches waited for the writer
        assert ann.reload_if_changed() is False
    finally:
        release.set()
        t.join()


def test_saved_copy_matches(tmp_path: Path, data: tuple[np.ndarray, np.ndarray]) -> None:
    keys, vecs = data
    ann = AnnIndex(tmp_path, DIM)
    ann.add(keys, vecs)
    ann.remove(keys[:500].tolist())
    ann.add(keys[600:601], vecs[0:1])
    ann.save()  # compacts: removed rows are dropped
    loaded = AnnIndex.open(tmp_path, DIM)
    assert len(loaded) == 1500 and int(keys[0]) not in loaded
    np.testing.assert_allclose(loaded.get_vectors(keys[500:]), ann.get_vectors(keys[500:]))
    np.testing.assert_allclose(loaded.get_vectors([int(keys[600])])[0], vecs[0], atol=1e-6)
    q = unit(np.random.default_rng(3), 1)[0]
    allowed = {int(k) for k in keys[::7]}
    assert loaded.search(q, 10) == ann.search(q, 10)
    assert loaded.search(q, 10, allowed) == ann.search(q, 10, allowed)
    loaded.add(np.array([1]), vecs[1:2])  # a loaded (memory-mapped) index can still be written to
    assert 1 in loaded and int(keys[600]) in loaded
