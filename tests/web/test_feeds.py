"""Atom feeds through the real server, on both backends, parsed back with feedparser: the latest day, a day, a
week, a month and a search; the final flag and its caching; escaping; the feed links of the pages."""

from __future__ import annotations

from datetime import date, timedelta

import feedparser
import httpx

from dailypapers.config import Config
from dailypapers.library import Library
from dailypapers.papers.models import make_paper
from tests.demo import running_server
from tests.web.conftest import EXTRA_DAY, titles


def parse(response: httpx.Response) -> feedparser.FeedParserDict:
    assert response.status_code == 200, response.text[:300]
    assert response.headers["content-type"].startswith("application/atom+xml")
    feed = feedparser.parse(response.text)
    assert not feed.bozo, feed.bozo_exception  # well-formed Atom
    assert feed.version == "atom10"
    return feed


def test_a_final_day_as_atom(extra_http: httpx.Client) -> None:
    day = extra_http.get(f"/papers/date/{EXTRA_DAY}")
    feed_link = f'<link rel="alternate" type="application/atom+xml" href="/feeds/days/{EXTRA_DAY}.atom"'
    assert feed_link in day.text
    r = extra_http.get(f"/feeds/days/{EXTRA_DAY}.atom")
    feed = parse(r)
    assert [e.title for e in feed.entries] == [t for _, t in titles(day.text)]  # the page's papers, in order
    assert [t.term for t in feed.feed.tags] == ["final"] and feed.feed.subtitle.lower().startswith("final")
    assert r.headers["cache-control"] == "max-age=86400"
    lora = next(e for e in feed.entries if e.title.startswith("LoRA"))
    assert lora.link.endswith("/papers/2106.09685") and lora.link.startswith("http://127.0.0.1:")
    assert [a.name for a in lora.authors] == ["Edward J. Hu", "Yelong Shen", "Weizhu Chen"]
    assert {t.term for t in lora.tags} == {"cs.CL", "cs.LG"}
    assert "low-rank adaptation" in lora.summary
    assert [link.href for link in lora.links] == [lora.link]  # one link: the page, which links to arXiv
    week, month = EXTRA_DAY.isocalendar(), EXTRA_DAY.strftime("%Y-%m")
    assert len(parse(extra_http.get(f"/feeds/weeks/{week[0]}-W{week[1]:02d}.atom")).entries) == 6
    assert len(parse(extra_http.get(f"/feeds/months/{month}.atom")).entries) == 6
    assert parse(extra_http.get("/feeds/latest.atom")).feed.title.endswith(EXTRA_DAY.strftime("%A, %d %B %Y"))
    assert extra_http.get("/feeds/days/2026-02-30.atom").status_code == 400


def test_a_search_as_atom(extra_http: httpx.Client) -> None:
    params = {"q": "neural networks learning", "category": "cs.LG"}
    page = extra_http.get("/search", params=params)
    assert '<link rel="alternate" type="application/atom+xml" href="/feeds/search.atom?q=neural' in page.text
    feed = parse(extra_http.get("/feeds/search.atom", params=params))
    assert [e.title for e in feed.entries] == [t for _, t in titles(page.text)]
    assert "Dualities of Strings on Curved Backgrounds" not in [e.title for e in feed.entries]  # the filter holds
    assert not feed.feed.get("tags")  # a search has no period: neither final nor in progress


def test_todays_list_is_in_progress_and_text_is_escaped(db_config: Config) -> None:
    today = date.today()  # the configured time zone is UTC; the test runs in it
    hostile = "<script>alert(1)</script> & </title><entry>"
    lib = Library(db_config)
    lib.ingest([make_paper(source="jsonl", arxiv_id="2401.00001", title=hostile, abstract="A <b>bold</b> claim.",
                           added_at=today)], index=False)  # fmt: skip
    lib.close()
    with running_server(db_config, env={"DAILYPAPERS_TIME_ZONE": "UTC"}) as base:
        r = httpx.get(f"{base}/feeds/days/{today}.atom")
        feed = parse(r)
        assert [t.term for t in feed.feed.tags] == ["in-progress"] and r.headers["cache-control"] == "max-age=300"
        (entry,) = feed.entries
        assert entry.title == hostile  # text, not markup: the feed holds one entry whatever the title says
        assert "<script>" not in r.text and "&lt;script&gt;" in r.text
        yesterday = (today - timedelta(days=1)).isoformat()
        assert parse(httpx.get(f"{base}/feeds/days/{yesterday}.atom")).entries == []
        forged = httpx.get(f"{base}/feeds/latest.atom", headers={"Host": "evil.example"})
        assert "evil.example" not in forged.text


def collect(start: str) -> tuple[list[str], list[feedparser.FeedParserDict]]:
    """Every entry id of a paged feed (RFC 5005 §3), read the way a feed reader does: from ``start``, following
    ``rel="next"`` until a page has none; and each page's feed-level data."""
    ids: list[str] = []
    pages: list[feedparser.FeedParserDict] = []
    url: str | None = start
    while url is not None and len(pages) < 10:
        feed = parse(httpx.get(url))
        pages.append(feed.feed)
        ids += [e.id for e in feed.entries]
        url = next((link.href for link in feed.feed.links if link.rel == "next"), None)
    return ids, pages


def rels(feed: feedparser.FeedParserDict) -> dict[str, str]:
    return {link.rel: link.href for link in feed.links if link.rel in ("first", "last", "next", "previous")}


def test_a_reader_gets_every_paper_of_a_period_by_following_the_paging_links(db_config: Config) -> None:
    day = date(2026, 11, 18)  # a Wednesday long past: the day, its week and its month hold these 38 papers only
    lib = Library(db_config)
    lib.ingest([make_paper(source="jsonl", arxiv_id=f"2611.{40000 + i}", title=f"Paged Paper {i:02d}",
                           abstract="One of 38 papers of a day.") for i in range(38)],
               added_at=day, progress=False, index=False)  # fmt: skip
    lib.close()
    with running_server(db_config) as base:
        for path in (f"/feeds/days/{day}.atom", "/feeds/weeks/2026-W47.atom", "/feeds/months/2026-11.atom",
                     "/feeds/latest.atom"):  # fmt: skip
            ids, pages = collect(base + path)
            assert len(pages) == 2 and len(ids) == 38 == len(set(ids)), (path, len(pages), len(ids))
            assert {i.rsplit("/", 1)[1] for i in ids} == {f"2611.{40000 + i}" for i in range(38)}
            first, second = rels(pages[0]), rels(pages[1])
            assert first == {"first": base + path, "last": f"{base}{path}?p=2", "next": f"{base}{path}?p=2"}, first
            assert second == {"first": base + path, "last": f"{base}{path}?p=2", "previous": base + path}, second
            assert pages[0].id == pages[1].id == base + path  # one feed, two documents
        sorted_ids, _ = collect(f"{base}/feeds/days/{day}.atom?sort=upvotes")  # the page's other parameters stay
        assert sorted(sorted_ids) == sorted(ids)
