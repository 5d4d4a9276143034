"""The daily list over real HTTP: home, day/week/month pages, navigation, paging, sorting and their JSON twins."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
from fastapi.testclient import TestClient

from dailypapers.config import Config
from dailypapers.library import Library
from dailypapers.papers.periods import day_period
from dailypapers.web.app import create_app
from tests.demo import DEMO_DAYS
from tests.web.conftest import EXTRA_DAY, titles


def _step(page: str, which: str) -> str | None:
    m = re.search(rf'<a class="step" data-step="{which}" href="([^"]+)"', page)
    return m.group(1) if m else None


def _next_page(page: str) -> str | None:
    m = re.search(r'<a rel="next" class="pager-next" href="([^"]+)"', page)
    return m.group(1).replace("&amp;", "&") if m else None


def _walk(http: httpx.Client, url: str) -> list[str]:
    """Every paper link of a paged list, following the 'Next page' links."""
    hrefs: list[str] = []
    next_url: str | None = url
    while next_url:
        r = http.get(next_url)
        assert r.status_code == 200
        hrefs += [href for href, _ in titles(r.text)]
        next_url = _next_page(r.text)
    return hrefs


def test_home_shows_latest_day_with_working_previous_link(http: httpx.Client, library: Library) -> None:
    r = http.get("/")
    assert r.status_code == 200
    latest = DEMO_DAYS[-1]
    assert latest.strftime("%A, %d %B %Y") in r.text
    expected = [p.title for p in library.papers.in_period(day_period(latest), limit=20)]
    assert [t for _, t in titles(r.text)] == expected
    prev = _step(r.text, "prev")
    assert prev == f"/papers/date/{DEMO_DAYS[1].isoformat()}"
    assert _step(r.text, "next") is None  # nothing after the latest day
    day = http.get(prev)
    assert day.status_code == 200
    assert DEMO_DAYS[1].strftime("%A, %d %B %Y") in day.text
    expected = library.papers.in_period(day_period(DEMO_DAYS[1]), limit=20)
    assert [t for _, t in titles(day.text)] == [p.title for p in expected]
    assert _step(day.text, "prev") == f"/papers/date/{DEMO_DAYS[0].isoformat()}"
    assert _step(day.text, "next") == f"/papers/date/{DEMO_DAYS[2].isoformat()}"


def test_day_navigation_skips_days_without_papers(http: httpx.Client) -> None:
    r = http.get("/papers/date/2026-11-25")  # after the demo days: empty, but 'previous' finds the last one
    assert r.status_code == 200
    assert "No papers were added on this day" in r.text
    assert _step(r.text, "prev") == f"/papers/date/{DEMO_DAYS[-1].isoformat()}"
    assert _step(r.text, "next") is None


def test_week_and_month_list_all_demo_papers(http: httpx.Client, library: Library) -> None:
    all_ids = {f"/papers/{p.id}" for p in library.store.iter_papers()}
    assert len(all_ids) == 298
    week = http.get("/papers/week/2026-W47")
    assert "298 papers" in week.text
    assert _step(week.text, "prev") == "/papers/week/2026-W46"
    assert _step(week.text, "next") == "/papers/week/2026-W48"
    assert 'href="/papers/month/2026-11"' in week.text and 'href="/papers/date/2026-11-18"' in week.text
    hrefs = _walk(http, "/papers/week/2026-W47")
    assert len(hrefs) == 298 and set(hrefs) == all_ids
    month = http.get("/papers/month/2026-11")
    assert "298 papers" in month.text and "November 2026" in month.text
    assert _step(month.text, "prev") == "/papers/month/2026-10"
    assert _step(month.text, "next") == "/papers/month/2026-12"
    assert 'href="/papers/week/2026-W47"' in month.text
    assert set(_walk(http, "/papers/month/2026-11")) == all_ids


def test_day_page_links_to_its_week_and_month(http: httpx.Client) -> None:
    r = http.get(f"/papers/date/{DEMO_DAYS[0].isoformat()}")
    assert 'href="/papers/week/2026-W47"' in r.text and 'href="/papers/month/2026-11"' in r.text


def test_paging_of_a_day(http: httpx.Client) -> None:
    first = http.get("/papers/date/2026-11-18")
    second = http.get("/papers/date/2026-11-18?p=2")
    assert second.status_code == 200
    a, b = titles(first.text), titles(second.text)
    assert len(a) == len(b) == 20 and not set(a) & set(b)
    assert 'start="21"' in second.text and "Page 2 of 5" in second.text
    past = http.get("/papers/date/2026-11-18?p=50")
    assert past.status_code == 200 and titles(past.text) == [] and "past the end" in past.text


def test_html_and_json_twin_show_the_same_papers(http: httpx.Client) -> None:
    page = http.get("/papers/week/2026-W47?p=3")
    data = http.get("/api/weeks/2026-W47?p=3").json()
    assert [href for href, _ in titles(page.text)] == [p["url"] for p in data["papers"]]
    assert '<link rel="alternate" type="application/json" href="/api/weeks/2026-W47?p=3">' in page.text
    assert data["key"] == "2026-W47" and data["total"] == 298 and data["page"] == 3 and data["has_next"] is True
    assert (data["start"], data["end"], data["prev"], data["next"]) == (
        "2026-11-16",
        "2026-11-22",
        "2026-W46",
        "2026-W48",
    )
    latest = http.get("/api/latest").json()
    assert latest["key"] == DEMO_DAYS[-1].isoformat() and latest["prev"] == DEMO_DAYS[1].isoformat()
    assert latest["next"] is None and latest["total"] == 98
    assert [p["url"] for p in latest["papers"]] == [href for href, _ in titles(http.get("/").text)]
    month = http.get("/api/months/2026-11").json()
    assert month["label"] == "November 2026" and month["total"] == 298
    day = http.get(f"/api/days/{DEMO_DAYS[0].isoformat()}").json()
    assert day["total"] == 100 and day["prev"] is None and day["next"] == DEMO_DAYS[1].isoformat()


def test_sort_by_upvotes(extra_http: httpx.Client) -> None:
    day = EXTRA_DAY.isoformat()
    by_votes = titles(extra_http.get(f"/papers/date/{day}?sort=upvotes").text)
    assert [t for _, t in by_votes][:3] == [
        "LoRA: Low-Rank Adaptation of Large Language Models",
        "Attention Is All You Need",
        "Deep Residual Learning for Image Recognition",
    ]
    data = extra_http.get(f"/api/days/{day}", params={"sort": "upvotes"}).json()
    assert [p["upvotes"] for p in data["papers"]] == [42, 30, 20, 10, 5, 1] and data["sort"] == "upvotes"
    assert extra_http.get(f"/papers/date/{day}?sort=votes").status_code == 400


def test_home_of_an_empty_library_says_how_to_import(tmp_path: Path) -> None:
    lib = Library(Config(password_hash="cheapest", data_dir=tmp_path))
    lib.init()
    try:
        client = TestClient(create_app(lib))
        r = client.get("/")
        assert r.status_code == 200 and "No papers yet" in r.text and "dailypapers ingest" in r.text
        latest = client.get("/api/latest")
        assert latest.status_code == 404 and "dailypapers ingest" in latest.json()["error"]
    finally:
        lib.close()
