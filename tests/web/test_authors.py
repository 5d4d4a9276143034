"""Author pages through the web, on each backend: ``/authors/{slug}`` lists the papers newest first, paged, with
every spelling and the co-authors; its JSON twin and Atom feed (parsed back with feedparser); every author name on
the pages links there; unicode names; hostile names escaped in page, feed and JSON; and the same URL after
``db copy`` to the other backend.

:func:`build_authored` is the small library the claim tests use too.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from urllib.parse import quote

import feedparser
import pytest
from fastapi.testclient import TestClient

from dailypapers.config import Config
from dailypapers.library import Library
from dailypapers.papers.models import Paper, make_paper
from dailypapers.papers.store import open_store
from dailypapers.web.app import create_app
from tests.demo import backend_config, demo_embedder
from tests.web.conftest import assert_error_json, titles

DAY = date(2026, 3, 2)
XSS = "<script>alert(1)</script> Mallory"
XSS_SLUG = "script-alert-1-script-mallory"
ADA = "/authors/ada-lovelace"


def _utc(y: int, m: int, d: int, h: int = 12) -> datetime:
    return datetime(y, m, d, h, tzinfo=UTC)


def authored_papers() -> list[Paper]:
    """Ada wrote five papers (one as "Ada Lovelace."), with Charles on two; Zoë Müller, 李明 and a hostile name."""
    rows: list[tuple[str, str, list[str], datetime | None]] = [
        ("2401.00001", "Oldest Engine", ["Ada Lovelace", "Charles Babbage"], _utc(2020, 1, 1)),
        ("2401.00002", "Newest Engine", ["Charles Babbage", "Ada Lovelace", "Zoë Müller"], _utc(2024, 5, 1, 9)),
        ("2401.00003", "Later the Same Day", ["Ada Lovelace."], _utc(2024, 5, 1, 18)),
        ("2401.00004", "Notes Never Published", ["Ada Lovelace", "李明"], None),  # dated the day it was added
        ("2401.00005", "Hostile Coauthor", [XSS, "Ada Lovelace", "?!"], _utc(2019, 6, 1)),
    ]
    return [
        make_paper(arxiv_id=i, title=t, abstract=f"About {t}.", authors=a, published=p, source="arxiv")
        for i, t, a, p in rows
    ]


ADA_NEWEST_FIRST = [
    "Notes Never Published",  # 2026-03-02, the day it was added
    "Later the Same Day",
    "Newest Engine",
    "Oldest Engine",
    "Hostile Coauthor",
]


def build_authored(config: Config) -> Library:
    lib = Library(config, embedder=demo_embedder())
    lib.init()
    lib.ingest(authored_papers(), added_at=DAY, progress=False, index=True)
    return lib


@pytest.fixture
def authored(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Library]:
    """A library of :func:`authored_papers` on ``backend``, pages of 2 papers."""
    config = backend_config(request, backend, tmp_path)
    lib = build_authored(
        Config(password_hash="cheapest", data_dir=config.data_dir, database_url=config.database_url, page_size=2)
    )
    yield lib
    lib.close()


@pytest.fixture
def client(authored: Library) -> Iterator[TestClient]:
    with TestClient(create_app(authored)) as c:
        yield c


def parse(response: object) -> feedparser.FeedParserDict:
    assert response.status_code == 200, response.text[:300]  # type: ignore[attr-defined]
    assert response.headers["content-type"].startswith("application/atom+xml")  # type: ignore[attr-defined]
    feed = feedparser.parse(response.text)  # type: ignore[attr-defined]
    assert not feed.bozo, feed.bozo_exception
    return feed


def all_titles(client: TestClient, path: str) -> list[str]:
    """The paper titles of every page of a paged list, following the "next page" links."""
    found: list[str] = []
    while path:
        page = client.get(path)
        assert page.status_code == 200, page.text[:300]
        found += [t for _, t in titles(page.text)]
        more = re.search(r'<a rel="next" class="pager-next" href="([^"]+)"', page.text)
        path = html.unescape(more.group(1)) if more else ""
    return found


def test_the_author_page_lists_papers_newest_first_with_names_and_coauthors(client: TestClient) -> None:
    page = client.get(ADA)
    assert page.status_code == 200
    assert [t for _, t in titles(page.text)] == ADA_NEWEST_FIRST[:2]  # a page of 2
    assert all_titles(client, ADA) == ADA_NEWEST_FIRST
    text = page.text
    assert '<h1><span class="kicker">Author</span>Ada Lovelace</h1>' in text
    assert 'Also written as: <span class="name">Ada Lovelace.</span>' in text  # the spellings that share a slug
    assert "<strong>5 papers</strong>" in text
    assert '<a href="/authors/charles-babbage">Charles Babbage</a> <span class="meta">2 papers</span>' in text
    assert f'<a href="/authors/{quote("李明")}">李明</a> <span class="meta">1 paper</span>' in text
    assert '<link rel="alternate" type="application/atom+xml" href="/feeds/authors/ada-lovelace.atom"' in text
    assert '<link rel="alternate" type="application/json" href="/api/authors/ada-lovelace"' in text
    assert client.get(ADA, params={"p": 9}).text.count("past the end") == 1
    assert client.get("/authors/nobody-at-all").status_code == 404
    assert client.head(ADA).status_code == 200


def test_an_author_as_json(client: TestClient) -> None:
    data = client.get(f"/api{ADA}").json()
    assert (data["slug"], data["names"], data["total"], data["page_size"]) == (
        "ada-lovelace", ["Ada Lovelace", "Ada Lovelace."], 5, 2
    )  # fmt: skip
    assert [p["title"] for p in data["papers"]] == ADA_NEWEST_FIRST[:2] and data["has_next"]
    assert [p["title"] for p in client.get(f"/api{ADA}", params={"p": 3}).json()["papers"]] == ADA_NEWEST_FIRST[4:]
    assert data["coauthors"][0] == {"name": "Charles Babbage", "slug": "charles-babbage", "papers": 2,
                                    "url": "/authors/charles-babbage"}  # fmt: skip
    assert "?!" not in {c["name"] for c in data["coauthors"]}  # a name without letters has no page
    assert_error_json(client.get("/api/authors/nobody-at-all"), 404, "no author")
    moved = client.get("/api/authors/Ada-Lovelace", follow_redirects=False)  # not the canonical form
    assert moved.status_code == 308 and moved.headers["location"] == f"/api{ADA}"
    assert client.get("/authors/Ada_Lovelace", follow_redirects=False).headers["location"] == ADA


def test_an_authors_feed(client: TestClient) -> None:
    feed = parse(client.get("/feeds/authors/ada-lovelace.atom"))
    assert [e.title for e in feed.entries] == ADA_NEWEST_FIRST[:2]  # the page's papers, in its order
    assert feed.feed.title == "dailypapers: papers by Ada Lovelace / Ada Lovelace."
    alternate = [link.href for link in feed.feed.links if link.rel == "alternate"]
    assert len(alternate) == 1 and alternate[0].endswith(ADA)
    assert client.get("/feeds/authors/nobody-at-all.atom").status_code == 404


def test_a_non_canonical_spelling_of_a_feed_redirects_to_the_canonical_feed(client: TestClient) -> None:
    """A feed reader given another spelling of the slug (as the page is redirected, issue 21 item 21) follows a
    permanent redirect (308, RFC 9110 §15.4.9) to the canonical feed and gets its papers; it was a 404."""
    for spelling in ("Ada-Lovelace", "Ada_Lovelace", quote("ADA LOVELACE")):
        moved = client.get(f"/feeds/authors/{spelling}.atom", follow_redirects=False)
        assert moved.status_code == 308, (spelling, moved.status_code)
        assert moved.headers["location"] == f"/feeds{ADA}.atom"
        followed = client.get(f"/feeds/authors/{spelling}.atom")
        assert str(followed.url).endswith(f"/feeds{ADA}.atom")
        feed = parse(followed)
        assert [e.title for e in feed.entries] == ADA_NEWEST_FIRST[:2]
        assert feed.feed.title == "dailypapers: papers by Ada Lovelace / Ada Lovelace."
    assert client.get("/feeds/authors/Nobody-At-All.atom", follow_redirects=False).status_code == 404


def test_every_author_name_links_to_its_page(client: TestClient) -> None:
    paper = client.get("/papers/2401.00005").text
    assert f'<a class="author-link" href="/authors/{XSS_SLUG}"><span class="author">' in paper
    assert '<a class="author-link" href="/authors/ada-lovelace"><span class="author">Ada Lovelace</span></a>' in paper
    assert '<span class="author">?!</span>' in paper and 'href="/authors/"' not in paper  # no page, no link
    day = "".join(client.get(f"/papers/date/{DAY}", params={"p": p}).text for p in (1, 2, 3))  # the list's cards
    assert '<a href="/authors/charles-babbage">Charles Babbage</a>, <a href="/authors/ada-lovelace">' in day
    assert f'<a href="/authors/{XSS_SLUG}">&lt;script&gt;alert(1)&lt;/script&gt; Mallory</a>' in day
    for link in re.findall(r'<a class="author-link" href="([^"]+)"', client.get("/papers/2401.00004").text):
        assert client.get(link).status_code == 200, link  # 李明's link is percent-encoded, and works


def test_unicode_names(client: TestClient) -> None:
    zoe = client.get("/authors/zoe-muller")
    assert zoe.status_code == 200 and "Zoë Müller</h1>" in zoe.text
    assert [t for _, t in titles(zoe.text)] == ["Newest Engine"]
    li = client.get(f"/authors/{quote('李明')}")
    assert li.status_code == 200 and "李明</h1>" in li.text
    assert client.get(f"/api/authors/{quote('李明')}").json()["names"] == ["李明"]
    feed = parse(client.get(f"/feeds/authors/{quote('李明')}.atom"))
    assert feed.feed.title.endswith("李明") and [e.title for e in feed.entries] == ["Notes Never Published"]
    assert client.get("/authors/Zoë-Müller", follow_redirects=False).headers["location"] == "/authors/zoe-muller"


def test_a_hostile_name_is_escaped_in_page_feed_and_json(client: TestClient) -> None:
    page = client.get(f"/authors/{XSS_SLUG}")
    assert page.status_code == 200 and "<script>" not in page.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt; Mallory</h1>" in page.text
    r = client.get(f"/feeds/authors/{XSS_SLUG}.atom")
    feed = parse(r)
    assert "<script>" not in r.text and feed.feed.title.endswith(XSS)  # text, not markup
    assert feed.entries[0].authors[0].name == XSS
    data = client.get(f"/api/authors/{XSS_SLUG}")
    assert data.headers["content-type"].startswith("application/json") and data.json()["names"] == [XSS]
    ada = client.get(ADA).text
    assert "<script>" not in ada and f'<a href="/authors/{XSS_SLUG}">&lt;script&gt;' in ada  # as a co-author


def test_the_url_is_the_same_after_db_copy(
    authored: Library, backend: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    if request.config.getoption("--backend") != "all":
        pytest.skip("a copy to the other backend needs both backends")
    other = backend_config(request, "postgres" if backend == "sqlite" else "sqlite", tmp_path / "copy")
    target = open_store(other)
    target.migrate()
    authored.copy_to(target)
    target.close()
    config = Config(password_hash="cheapest", data_dir=other.data_dir, database_url=other.database_url, page_size=2)
    copied = Library(config, embedder=demo_embedder())
    try:
        with TestClient(create_app(copied)) as there, TestClient(create_app(authored)) as here:
            for path in (f"/api{ADA}", f"/api/authors/{quote('李明')}", f"/api/authors/{XSS_SLUG}"):
                assert there.get(path).json() == here.get(path).json(), path
            assert all_titles(there, ADA) == ADA_NEWEST_FIRST
    finally:
        copied.close()
