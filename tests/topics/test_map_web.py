"""The map and key phrases through the app: /map without JavaScript, /api/map's shape and highlights, the titles,
the paper page's "In one sentence", key-phrase pages, and ``ai_keywords`` / ``ai_summary`` in the Hugging Face API."""

from __future__ import annotations

import html

import pytest
from fastapi.testclient import TestClient

from dailypapers.library import Library

# The first test builds the session's demo map (embedding, t-SNE, key phrases): minutes on 2 shared cores.
pytestmark = pytest.mark.timeout(900)


def test_the_map_page_lists_its_topics_without_javascript(topics_client: TestClient, topics_library: Library) -> None:
    page = topics_client.get("/map")
    assert page.status_code == 200
    text = html.unescape(page.text)
    clusters = topics_library.topics.clusters()
    for cluster in clusters:  # every topic is a link to a search for its label
        assert ", ".join(cluster.terms) in text
    assert text.count('<li data-topic="') == len(clusters)
    assert 'href="/search?q=' in page.text and '<canvas id="topic-map"' in page.text
    assert '<a href="/map">Map</a>' in page.text  # in the menu


def test_api_map_sends_compact_parallel_arrays(topics_client: TestClient, topics_library: Library) -> None:
    body = topics_client.get("/api/map").json()
    points = body["points"]
    n = body["count"]
    assert n == topics_library.papers.count()
    assert {len(points[k]) for k in ("id", "x", "y", "topic", "day", "category")} == {n}
    assert all(0 <= v <= 10_000 for v in points["x"] + points["y"])
    assert set(points["topic"]) == {t["id"] for t in body["topics"]}
    assert body["days"] == sorted(body["days"]) and len(body["days"]) == 3  # the demo's three days
    assert {body["days"][d] for d in points["day"]} == set(body["days"])
    titles = topics_client.get(body["titles_url"]).json()
    assert titles["generation"] == body["generation"] and len(titles["titles"]) == n
    paper = topics_library.papers.get(points["id"][5])
    assert paper is not None and titles["titles"][5] == paper.title


def test_api_map_highlights_a_search(topics_client: TestClient) -> None:
    body = topics_client.get("/api/map", params={"q": "continual learning forgetting"}).json()
    assert body["query"] == "continual learning forgetting" and body["search"]
    titles = topics_client.get("/api/map/titles").json()["titles"]
    hits = [titles[i].lower() for i in body["search"][:5]]
    assert any("continual" in t or "forget" in t for t in hits)
    assert body["mine"] == []  # nobody is signed in


def test_paper_page_shows_its_key_sentence_and_phrases(topics_client: TestClient, topics_library: Library) -> None:
    paper = next(iter(topics_library.papers.by_pks([1])))
    phrases, sentence = topics_library.topics.phrases_of([paper.pk or 0])[paper.pk or 0]
    assert len(phrases) == 5 and sentence and sentence in paper.abstract.replace("\n", " ")
    page = html.unescape(topics_client.get(f"/papers/{paper.id}").text)
    assert "In one sentence:" in page and sentence in page
    assert f'href="/keyphrases/{phrases[0].replace(" ", "%20")}"' in page
    listed = topics_client.get(f"/api/keyphrases/{phrases[0]}").json()
    assert paper.id in [p["id"] for p in listed["papers"]]


def test_hf_api_returns_key_phrases_and_key_sentence(topics_client: TestClient, topics_library: Library) -> None:
    paper = next(iter(topics_library.papers.by_pks([2])))
    phrases, sentence = topics_library.topics.phrases_of([paper.pk or 0])[paper.pk or 0]
    info = topics_client.get(f"/api/papers/{paper.id}").json()
    assert info["ai_keywords"] == phrases and info["ai_summary"] == sentence
    without = next(iter(topics_library.papers.by_pks([290])))  # past the papers whose phrases were extracted
    assert topics_client.get(f"/api/papers/{without.id}").json()["ai_keywords"] is None
