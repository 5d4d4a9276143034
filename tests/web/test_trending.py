"""The Trending page in its three renderings, the daily lists' trending order, and how hidden papers look on the
web: gone for everybody but admins, who see the page marked as hidden."""

from __future__ import annotations

from collections.abc import Iterator

import feedparser
import pytest
from fastapi.testclient import TestClient

from dailypapers.library import Library
from dailypapers.web.app import create_app
from tests.web.conftest import assert_error_json
from tests.web.small_library import ADAM, LORA, SMALL_DAY, STRINGS, api_vote, sign_in, token_of


@pytest.fixture
def client(small: Library) -> Iterator[TestClient]:
    with TestClient(create_app(small)) as c:
        yield c


def test_the_trending_page_json_and_feed_agree(client: TestClient) -> None:
    page = client.get("/trending")
    assert page.status_code == 200
    assert page.text.index(LORA) < page.text.index(STRINGS) < page.text.index(ADAM)  # one day: by upvotes
    assert '<link rel="alternate" type="application/atom+xml" href="/feeds/trending.atom"' in page.text
    assert '<a href="/trending">Trending</a>' in page.text  # the nav entry
    data = client.get("/api/trending").json()
    assert data["window"] == "week" and data["end"] == SMALL_DAY.isoformat() and data["total"] == 3
    assert [p["id"] for p in data["papers"]] == [LORA, STRINGS, ADAM]
    scores = [p["score"] for p in data["papers"]]
    assert scores == sorted(scores, reverse=True) and scores[-1] == 0
    feed = feedparser.parse(client.get("/feeds/trending.atom?window=month").content)
    assert not feed.bozo and [e.link.rsplit("/papers/", 1)[1] for e in feed.entries] == [LORA, STRINGS, ADAM]
    assert client.get("/api/trending?window=day").json()["start"] == SMALL_DAY.isoformat()
    assert_error_json(client.get("/api/trending?window=year"), 400, "window")


def test_a_vote_moves_a_paper_up_the_trending_list_and_the_days_trending_order(
    small: Library, client: TestClient
) -> None:
    sign_in(client, small)
    token = token_of(client)
    for name in ("bob", "cy", "dee", "eve", "fay", "gus"):
        small.accounts.create_user(name, f"{name}@example.org", "correct horse battery")
        small.votes.cast(ADAM, small.accounts.get(name).voter, True)
    assert api_vote(client, ADAM, True, token).json()["upvotes"] == 7
    assert [p["id"] for p in client.get("/api/trending").json()["papers"]] == [ADAM, LORA, STRINGS]
    day = client.get(f"/api/days/{SMALL_DAY.isoformat()}?sort=trending").json()
    assert day["sort"] == "trending" and [p["id"] for p in day["papers"]] == [ADAM, LORA, STRINGS]
    html = client.get(f"/papers/date/{SMALL_DAY.isoformat()}?sort=trending").text
    assert "<b>trending</b>" in html and html.index(ADAM) < html.index(LORA)


def test_a_hidden_paper_is_gone_for_visitors_and_marked_for_admins(small: Library, client: TestClient) -> None:
    small.papers.hide(STRINGS, None, "off topic")
    assert_error_json(client.get(f"/api/papers/{STRINGS}"), 404, STRINGS)
    assert client.get(f"/papers/{STRINGS}").status_code == 404
    assert STRINGS not in client.get("/").text and STRINGS not in client.get("/trending").text
    assert client.get("/api/trending").json()["total"] == 2
    assert client.get(f"/papers/{STRINGS}.bib").status_code == 404
    sign_in(client, small, "root")  # the first user is the admin
    assert small.accounts.get("root").is_admin
    page = client.get(f"/papers/{STRINGS}")
    assert page.status_code == 200 and "Hidden by a moderator" in page.text
    assert "Hidden by a moderator" not in client.get(f"/papers/{LORA}").text


def test_lists_carry_each_papers_comment_count(small: Library, client: TestClient) -> None:
    sign_in(client, small)
    ann = small.accounts.get("ann")
    lora = small.papers.get(LORA)
    assert lora is not None and lora.pk is not None
    first = small.comments.add(lora.pk, ann.id, "Nice **work**")
    small.comments.add(lora.pk, ann.id, "A reply", parent_id=first.id)
    gone = small.comments.add(lora.pk, ann.id, "spam")
    small.comments.hide(gone.id, ann.id, "spam")  # hidden comments are not counted
    counts = {p["id"]: p["comments"] for p in client.get("/api/trending").json()["papers"]}
    assert counts == {LORA: 2, STRINGS: 0, ADAM: 0}
    day = client.get(f"/api/days/{SMALL_DAY.isoformat()}").json()["papers"]
    assert {p["id"]: p["comments"] for p in day} == counts
    found = client.get("/api/search", params={"q": "LoRA low-rank adaptation"}).json()["results"]
    assert found[0]["id"] == LORA and found[0]["comments"] == 2
    assert client.get(f"/api/similar/{LORA}").json()["paper"]["comments"] is None  # not a list: not counted
