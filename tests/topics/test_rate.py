"""The rating round of a first visit: one paper per topic first, answers stored as the signals "For you" reads,
and the next round leaves answered papers out; the chooser on its own (diverse first, then uncertain)."""

from __future__ import annotations

import numpy as np
from fastapi.testclient import TestClient

from dailypapers.library import Library
from dailypapers.topics.coldstart import choose
from dailypapers.web.app import create_app
from tests.web.small_library import sign_in, token_of


def test_a_round_covers_every_topic_before_anything_else() -> None:
    rng = np.random.default_rng(0)
    centres = rng.normal(size=(3, 8))
    clusters = np.repeat(np.arange(3), 10)
    vectors = centres[clusters] + 0.1 * rng.normal(size=(30, 8))
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    first = choose(vectors, clusters, {}, 3)
    assert sorted(clusters[first]) == [0, 1, 2]  # one per topic
    liked, refused = first[0], first[1]
    nxt = choose(vectors, clusters, {liked: True, refused: False, first[2]: False}, 4)
    assert not set(nxt) & set(first)
    # every topic is rated: next come papers near the liked one (its topic), not the refused topics
    assert set(clusters[nxt]) == {clusters[liked]}


def test_the_rating_round_page_learns_from_each_answer(small: Library) -> None:
    small.topics.update_map()
    client = sign_in(TestClient(create_app(small)), small)
    first = client.get("/api/for-you/rate").json()
    assert first["liked"] == 0 and len(first["papers"]) == 3  # the small library has three papers
    page = client.get("/for-you/rate")
    assert page.status_code == 200 and "More like this" in page.text
    liked = first["papers"][0]["id"]
    token = token_of(client, "/for-you/rate")
    done = client.post(f"/papers/{liked}/vote", data={"up": "true", "csrf_token": token, "next": "/for-you/rate"},
                       follow_redirects=False)  # fmt: skip
    assert done.status_code == 303 and done.headers["location"] == "/for-you/rate"
    again = client.get("/api/for-you/rate").json()
    assert again["liked"] == 1 and liked not in [p["id"] for p in again["papers"]]
    assert "Rate a round of papers" in client.get("/for-you").text  # one liked paper is too little


def test_visitors_are_sent_to_log_in(small: Library) -> None:
    client = TestClient(create_app(small))
    assert client.get("/api/for-you/rate").status_code == 401
    page = client.get("/for-you/rate", follow_redirects=False)
    assert page.status_code == 303 and page.headers["location"].startswith("/login?next=/for-you/rate")


def test_a_topic_picked_on_the_map_leads_the_round(small: Library) -> None:
    small.topics.update_map()
    client = sign_in(TestClient(create_app(small)), small)
    topic = small.topics.clusters()[0]
    assert "my topic: rate its papers" in client.get("/map").text
    body = client.get("/api/for-you/rate", params={"topic": topic.id}).json()
    first = small.papers.get(body["papers"][0]["id"])
    assert first is not None and small.topics.clusters_of([first.pk or 0]) == {first.pk: topic.id}
