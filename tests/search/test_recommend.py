"""Recommendations (``lib.recommend``, ``lib.feedback``, ``lib.interests``) on the real demo corpus with its MiniLM
embeddings, on each backend: what a dropout reader is shown, what "not for me" does, the reasons, the model kept
by each action equal to a rebuild from the signals, and the cold start.

The library is a copy of the session's demo library (``db copy``: papers, embeddings), made once per backend, so
votes and users made here never change the demo other tests read; every test signs up users of its own.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from datetime import timedelta

import numpy as np
import pytest

from dailypapers.accounts.models import User
from dailypapers.config import Config
from dailypapers.errors import BadInput, NotFound
from dailypapers.library import Library
from dailypapers.papers.models import Paper, make_paper
from dailypapers.search.recommend import Pick
from dailypapers.search.taste import Taste
from tests.demo import DROPOUT_TITLE, build_demo, built_once, demo_embedder

DROPOUT = [DROPOUT_TITLE, "Hallucination Detox: Sensitive Neuron Dropout (SeND) for Large Language Model Training"]
REGULARISATION = [
    "Dropout is NOT All You Need to Prevent Gradient Leakage",
    "Sparse MoE as the New Dropout: Scaling Dense and Self-Slimmable Transformers",
]
UNRELATED = [
    "Transparent Image Layer Diffusion using Latent Transparency",
    "Diffusion Model for Dense Matching",
    "Realistic and Efficient Face Swapping: A Unified Approach with Diffusion Models",
    "EMDM: Efficient Motion Diffusion Model for Fast and High-Quality Motion Generation",
]
DIFFUSION_WORD = "diffusion"
_users = itertools.count(1)


def recommend_config(request: pytest.FixtureRequest, backend: str) -> Config:
    """A copy of the demo library on ``backend`` (built once per session)."""

    def build(config: Config) -> None:
        demo = built_once(request, "demo", backend, lambda c: build_demo(c, embedder=demo_embedder()).close())
        src = Library(demo, embedder=demo_embedder())
        dst = Library(config, embedder=demo_embedder())
        try:
            dst.init()
            src.copy_to(dst.store)
            dst.search.rebuild_index()
        finally:
            src.close()
            dst.close()

    return built_once(request, "recommend", backend, build)


@pytest.fixture
def lib(request: pytest.FixtureRequest, backend: str) -> Iterator[Library]:
    library = Library(recommend_config(request, backend), embedder=demo_embedder())
    yield library
    library.close()


def new_user(lib: Library) -> User:
    n = next(_users)
    return lib.accounts.create_user(f"reader{n}x{id(lib) % 9973}", f"reader{n}x{id(lib) % 9973}@example.org",
                                    "correct horse battery")  # fmt: skip


def paper(lib: Library, title: str) -> Paper:
    found = lib.store.find_by_title(title)
    assert found is not None and found.pk is not None, title
    return found


def upvote(lib: Library, user: User, *titles: str) -> None:
    for title in titles:
        assert lib.votes.cast(paper(lib, title).id, user.voter, True) is not None


def ranks(picks: list[Pick]) -> dict[str, int]:
    return {p.paper.title: i for i, p in enumerate(picks)}


def test_a_dropout_reader_gets_regularisation_papers_above_unrelated_ones(lib: Library) -> None:
    user = new_user(lib)
    upvote(lib, user, *DROPOUT)
    picks = lib.recommend.picks(user.id, limit=200)
    got = ranks(picks)
    assert not set(DROPOUT) & set(got)  # what the user upvoted is never recommended back
    for title in REGULARISATION:
        assert got[title] < 20, (title, got[title])
        for other in UNRELATED:
            assert got[title] < got.get(other, len(picks)), (title, other)  # past 200: below them all
    assert [p.score for p in picks] == sorted((p.score for p in picks), reverse=True)
    top = picks[0]
    assert top.reason_kind == "similar" and top.reason_paper_id in {paper(lib, t).id for t in DROPOUT}
    assert "which you upvoted" in top.reason and any(t in top.reason for t in DROPOUT)
    assert top.label in ("must read", "related")
    assert picks[-1].label == ""  # the tail is neither (thresholds: docs/recommendations.md)


def test_not_for_me_pushes_a_topic_down(lib: Library) -> None:
    user = new_user(lib)
    upvote(lib, user, DROPOUT_TITLE, "Self-Rectifying Diffusion Sampling with Perturbed-Attention Guidance")

    def diffusion_in_top(n: int) -> int:
        return sum(DIFFUSION_WORD in p.paper.title.lower() for p in lib.recommend.picks(user.id, limit=n))

    before = diffusion_in_top(20)
    refused = [p.paper for p in lib.recommend.picks(user.id, limit=40) if DIFFUSION_WORD in p.paper.title.lower()]
    for p in refused[:6]:
        assert lib.feedback.mark(user.id, p.id, True) is True
    after = diffusion_in_top(20)
    assert before >= 8 and after <= before - 4, (before, after)
    assert not {p.id for p in refused[:6]} & {p.paper.id for p in lib.recommend.picks(user.id, limit=200)}
    for p in refused[:6]:  # taken back: the topic returns
        assert lib.feedback.mark(user.id, p.id, False) is False
    assert diffusion_in_top(20) == before
    with pytest.raises(NotFound):
        lib.feedback.mark(user.id, "no-such-paper", True)


def assert_same(a: Taste, b: Taste) -> None:
    assert sorted(a.positives) == sorted(b.positives) and sorted(a.negatives) == sorted(b.negatives)
    np.testing.assert_allclose(a.pos_sum, b.pos_sum, atol=1e-4)
    np.testing.assert_allclose(a.neg_sum, b.neg_sum, atol=1e-4)


def test_each_action_folds_in_and_equals_a_rebuild(lib: Library) -> None:
    user = new_user(lib)
    admin = next(u for u in lib.accounts.list_users() if u.is_admin)  # the library's first account
    a, b, c, d = (paper(lib, t) for t in [*DROPOUT, *REGULARISATION])
    assert lib.tastes.get(user.id).empty
    upvote(lib, user, a.title, b.title)
    assert sorted(lib.tastes.get(user.id).positives) == sorted([a.pk, b.pk])
    saved = lib.collections.create(user.id, "To read")
    lib.collections.add(saved.id, user.id, int(c.pk or 0))
    lib.collections.add(saved.id, user.id, int(a.pk or 0))  # upvoted and saved: one positive
    lib.votes.cast(b.id, user.voter, False)  # unvote
    lib.feedback.mark(user.id, d.id, True)
    incremental = lib.tastes.get(user.id)
    assert sorted(incremental.positives) == sorted([a.pk, c.pk]) and incremental.negatives == [d.pk]
    assert_same(incremental, lib.tastes.rebuild(user.id))
    lib.collections.remove(saved.id, user.id, int(c.pk or 0))
    lib.interests.set(user.id, paper_ids=[c.id])  # a seed paper: a positive again
    assert sorted(lib.tastes.get(user.id).positives) == sorted([a.pk, c.pk])
    lib.collections.delete(saved.id, user.id)  # a stays upvoted
    mine = make_paper(
        title=f"Dropout as a Bayesian Approximation, revisited ({user.id})",
        source="jsonl",
        abstract="Dropout training as approximate inference in deep networks.",
        authors=["Ada Tester"],
    )
    lib.ingest([mine], added_at=lib.papers.latest_day(), progress=False)  # embedded now: the demo has no authors
    own = paper(lib, mine.title)
    claim = lib.claims.claim(int(own.pk or 0), user.id, "Ada Tester")
    assert own.pk not in lib.tastes.get(user.id).positives  # pending: not a signal yet
    lib.claims.approve(claim.id, admin.id)
    incremental = lib.tastes.get(user.id)
    assert incremental.kind_of(int(own.pk or 0)) == "authored"
    expected = {a.pk, c.pk, own.pk}
    assert set(incremental.positives) == expected
    assert_same(incremental, lib.tastes.rebuild(user.id))
    # A stored state that is not ours, or for another model, is rebuilt from the signals
    lib.tastes.delete(user.id)
    assert set(lib.tastes.get(user.id).positives) == expected


def test_cold_start_follows_interests_then_trending(lib: Library) -> None:
    user = new_user(lib)
    plain = lib.recommend.picks(user.id, limit=10)
    assert len(plain) == 10 and {p.reason for p in plain} == {"trending this week"}
    lib.interests.set(user.id, categories=["cs.CL"], keywords=["Diffusion Distillation", "dropout"])
    got = lib.interests.get(user.id)
    assert got.keywords == ("Diffusion Distillation", "dropout") and got.categories == ("cs.CL",)
    picks = lib.recommend.picks(user.id, limit=15)
    kinds = [p.reason_kind for p in picks]
    assert kinds[0] == "keyword" and "matches your interest ‘Diffusion Distillation’" in {p.reason for p in picks}
    for p in picks:
        if p.reason_kind == "keyword":
            word = p.reason.split("‘")[1].rstrip("’").split()[0].lower()
            assert word in (p.paper.title + " " + p.paper.abstract).lower()
    assert "dropout" in {p.reason.split("‘")[1].rstrip("’") for p in picks if p.reason_kind == "keyword"}
    # a seed paper ends the cold start: picks become "similar to" it
    lib.interests.set(user.id, keywords=["dropout"], paper_ids=[paper(lib, DROPOUT_TITLE).id])
    seeded = lib.recommend.picks(user.id, limit=5)
    assert seeded[0].reason_kind == "similar" and "which you picked" in seeded[0].reason
    assert seeded[0].reason_paper_id == paper(lib, DROPOUT_TITLE).id


def test_since_and_bad_interests(lib: Library) -> None:
    user = new_user(lib)
    upvote(lib, user, DROPOUT_TITLE)
    newest = lib.papers.latest_day()
    assert newest is not None
    recent = lib.recommend.picks(user.id, limit=200, since=newest)
    assert recent and all(p.paper.added_at == newest for p in recent)
    older = lib.recommend.picks(user.id, limit=200, since=newest - timedelta(days=60))
    assert len(older) >= len(recent)
    for bad, match in [
        (dict(categories=["<script>"]), "not an arXiv category"),
        (dict(keywords=["a, b"]), "cannot hold a comma"),
        (dict(keywords=["x" * 101]), "at most 100"),
        (dict(paper_ids=["no-such-paper"]), "No paper has the id"),
        (dict(categories="cs.CL"), "are lists"),
    ]:
        with pytest.raises(BadInput, match=match):
            lib.interests.set(user.id, **bad)  # type: ignore[arg-type]
