"""The map job on the demo corpus: every paper placed, labels that name the topics, deterministic for a seed, new
papers placed by their neighbours without moving the others."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest

from dailypapers.jobs.registry import get_job
from dailypapers.library import Library
from dailypapers.topics import layout

# The first test builds the session's demo map (embedding, t-SNE, key phrases): minutes on 2 shared cores.
pytestmark = pytest.mark.timeout(900)


def _cluster_of_titles(lib: Library, word: str) -> tuple[list[str], int]:
    """The label terms of the topic most of the papers with ``word`` in their title fall in, and how many do."""
    points = lib.topics.points()
    clusters = [c for t, c in zip(points.titles, points.cluster, strict=True) if word in t.lower()]
    assert len(clusters) >= 3, f"the demo has papers about {word}"
    best, count = Counter(clusters).most_common(1)[0]
    terms = {c.id: c.terms for c in lib.topics.clusters()}[best]
    return terms, count


def test_every_demo_paper_is_placed_in_the_unit_square(topics_library: Library) -> None:
    points = topics_library.topics.points()
    assert len(points.ids) == topics_library.papers.count() == 298
    xy = np.array([points.x, points.y])
    assert xy.min() >= 0 and xy.max() <= 1 and xy.std(axis=1).min() > 0.1
    clusters = topics_library.topics.clusters()
    assert len(clusters) == layout.cluster_count(298) and sum(c.size for c in clusters) == 298


def test_labels_name_the_topics_of_the_demo(topics_library: Library) -> None:
    for title_word, label_words in (
        ("continual", ("continual", "forgetting")),
        ("guidance", ("diffusion", "guidance")),
        ("quantiz", ("quantization", "quantized")),
    ):
        terms, count = _cluster_of_titles(topics_library, title_word)
        assert any(w in term for term in terms for w in label_words), (title_word, terms)
        assert count >= 3


@pytest.mark.slow  # two t-SNE runs: ~3 s each on 2 idle cores
def test_the_layout_is_deterministic_for_a_seed(topics_library: Library) -> None:
    _, vectors = topics_library.topics._embeddings()
    first, again = layout.layout(vectors, seed=7), layout.layout(vectors, seed=7)
    assert np.array_equal(first, again)
    assert np.array_equal(layout.clusters(vectors, seed=7), layout.clusters(vectors, seed=7))


def test_new_papers_are_placed_by_their_neighbours() -> None:
    rng = np.random.default_rng(0)
    known = rng.normal(size=(50, 16)).astype(np.float32)
    known /= np.linalg.norm(known, axis=1, keepdims=True)
    xy = rng.random((50, 2)).astype(np.float32)
    cluster = (np.arange(50) % 3).astype(np.int32)
    new = known[[4, 9]] + 0.01 * rng.normal(size=(2, 16)).astype(np.float32)
    new /= np.linalg.norm(new, axis=1, keepdims=True)
    placed, topics = layout.place_near(known, xy, cluster, new, k=5)
    # a near-copy of a paper lands next to it (its own weight dominates) and joins its cluster
    assert np.linalg.norm(placed - xy[[4, 9]], axis=1).max() < 0.1
    assert list(topics) == [cluster[4], cluster[9]]


def test_the_map_job_places_only_new_papers(small: Library) -> None:
    job = get_job("map")
    first = job.fn(small)
    assert first["recomputed"] == "yes" and first["placed"] == 3
    before = small.topics.points()
    assert job.fn(small) == {"placed": 0, "generation": first["generation"]}
    assert small.topics.points() == before  # nothing moves when nothing is new
    full = get_job("map.full").fn(small)
    assert full["generation"] == first["generation"] + 1


def test_the_keyphrases_job_extracts_each_paper_once(small: Library) -> None:
    job = get_job("keyphrases")
    first = job.fn(small)
    assert first["extracted"] == 3 and first["left"] == 0
    assert job.fn(small)["extracted"] == 0  # nothing new, nothing changed
    phrases = small.topics.phrases_of([p.pk or 0 for p in small.papers.by_pks([1, 2, 3])])
    assert len(phrases) == 3 and all(sentence for _, sentence in phrases.values())
