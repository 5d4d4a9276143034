"""The "For you" window read from the vector index (issue 23, item 4), on each backend and the real demo corpus:
the picks equal those of the window as it was built before (every candidate's paper and embedding read from the
store one by one), with and without ``since``; a hidden paper leaves the window; ``VectorIndex.vectors`` returns
the stored vectors in the order asked, skipping keys it lacks.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta

import numpy as np
import pytest

from dailypapers.library import Library
from dailypapers.search.recommend import Pick, Recommender, Window, centred
from tests.demo import DROPOUT_TITLE, demo_embedder
from tests.search.test_recommend import REGULARISATION, new_user, paper, recommend_config, upvote


class StoreWindowRecommender(Recommender):
    """The recommender with the window built as before item 4: papers listed, then one embedding query each."""

    def _matrix_of(self, key: tuple[str, date | None, int], start: date, newest: date) -> Window:
        rows, pks = [], []
        for p in self.store.papers_added_between(start, newest):
            vector = self.store.get_embedding(key[0], int(p.pk or 0))
            if vector is not None:
                rows.append(vector)
                pks.append(int(p.pk or 0))
        raw = np.vstack(rows).astype(np.float32)
        centre = raw.mean(axis=0)
        return Window(key, start, np.asarray(pks, np.int64), centred(raw, centre), centre)


@pytest.fixture
def lib(request: pytest.FixtureRequest, backend: str) -> Iterator[Library]:
    library = Library(recommend_config(request, backend), embedder=demo_embedder())
    yield library
    library.close()


def before(lib: Library) -> StoreWindowRecommender:
    return StoreWindowRecommender(lib.store, lib.papers, lib.tastes, lambda: lib.search.vectors,
                                  days=lib.config.recommend_days)  # fmt: skip


def same(new: list[Pick], old: list[Pick]) -> None:
    assert [p.paper.id for p in new] == [p.paper.id for p in old]
    assert [(p.label, p.reason, p.reason_paper_id) for p in new] == [
        (p.label, p.reason, p.reason_paper_id) for p in old
    ]
    assert np.allclose([p.score for p in new], [p.score for p in old], atol=1e-5)


def test_picks_equal_the_store_built_window(lib: Library) -> None:
    user = new_user(lib)
    upvote(lib, user, DROPOUT_TITLE, *REGULARISATION)
    old = before(lib)
    new_window, old_window = lib.recommend.window(), old.window()
    assert new_window.pks.size > 50
    assert sorted(new_window.pks.tolist()) == sorted(old_window.pks.tolist())
    order = {pk: i for i, pk in enumerate(old_window.pks.tolist())}
    rows = [order[pk] for pk in new_window.pks.tolist()]
    assert np.allclose(new_window.matrix, old_window.matrix[rows], atol=1e-5)
    same(lib.recommend.picks(user.id, limit=50), old.picks(user.id, limit=50))
    newest = lib.papers.latest_day()
    assert newest is not None
    for since in (newest, newest - timedelta(days=1), newest - timedelta(days=400)):
        new, was = lib.recommend.picks(user.id, limit=50, since=since), old.picks(user.id, limit=50, since=since)
        assert new, since
        same(new, was)


def test_a_hidden_paper_leaves_the_window(lib: Library) -> None:
    user = new_user(lib)
    upvote(lib, user, DROPOUT_TITLE)
    top = lib.recommend.picks(user.id, limit=5)[0].paper
    lib.papers.hide(top.id, None, "test")
    try:
        fresh = Recommender(lib.store, lib.papers, lib.tastes, lambda: lib.search.vectors,
                            days=lib.config.recommend_days)  # fmt: skip
        assert top.pk not in fresh.window().pks.tolist()
        assert top.id not in [p.paper.id for p in fresh.picks(user.id, limit=50)]
    finally:
        lib.papers.unhide(top.id)


def test_vectors_are_the_stored_ones_in_the_order_asked(lib: Library) -> None:
    model = lib.tastes.model()
    a, b = paper(lib, DROPOUT_TITLE), paper(lib, REGULARISATION[0])
    assert a.pk is not None and b.pk is not None
    found, rows = lib.search.vectors.vectors(np.array([b.pk, 10**9, a.pk], np.int64))
    assert found.tolist() == [b.pk, a.pk]
    for pk, row in zip(found.tolist(), rows, strict=True):
        stored = lib.store.get_embedding(model, pk)
        assert stored is not None and np.allclose(row, stored / np.linalg.norm(stored), atol=1e-6)
    empty, none = lib.search.vectors.vectors(np.array([10**9], np.int64))
    assert empty.size == 0 and none.shape[0] == 0
