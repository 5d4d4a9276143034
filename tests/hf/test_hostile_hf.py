"""The Hugging Face compatible API with awkward data: our own export re-imported, papers before the year 1000, and
a paper that does not fit the shapes (a server error, never the client's 400)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from dailypapers.config import Config
from dailypapers.library import Library
from dailypapers.papers.sources import read_hf_daily, read_jsonl
from dailypapers.web import hf_format
from dailypapers.web.app import create_app
from tests.demo import demo_embedder
from tests.hf.papers import HfDemo

OLD_PAPER = {
    "id": "2301.00001",
    "title": "Sundials of the Tenth Century",
    "abstract": "A survey of sundials made before the year one thousand.",
    "published": "0999-06-01T10:20:30Z",
}
UNDATED = {"title": "A paper dated by its list day only", "abstract": "No publication date at all."}


def export_daily_papers(base_url: str) -> list[dict[str, Any]]:
    """Every page of ``/api/daily_papers`` of the server at ``base_url``."""
    items: list[dict[str, Any]] = []
    with httpx.Client(base_url=base_url, timeout=60) as http:
        for page in range(100):
            r = http.get("/api/daily_papers", params={"p": page, "limit": 100})
            assert r.status_code == 200, r.text
            if not r.json():
                break
            items += r.json()
    return items


def test_our_daily_papers_export_reimports_on_the_same_days(hf_demo: HfDemo, tmp_path: Path) -> None:
    items = export_daily_papers(hf_demo.base_url)
    assert len(items) == hf_demo.library.papers.count()
    assert any(item["paper"]["id"].startswith("dp-") for item in items)
    path = tmp_path / "daily_papers.json"
    path.write_text(json.dumps(items))
    fresh = Library(Config(password_hash="cheapest", data_dir=tmp_path / "fresh"), embedder=demo_embedder())
    fresh.init()
    try:
        # An explicit day for the import: each item's own list day must still win.
        report = fresh.ingest(read_hf_daily(str(path)), added_at=date(2030, 1, 1), progress=False, index=False)
        assert (report.added, report.rejected) == (len(items), [])
        for item in items:
            paper_id = item["paper"]["id"]
            original, copy = hf_demo.paper(paper_id), fresh.papers.get(paper_id)
            assert copy is not None, paper_id
            assert copy.added_at == original.added_at, paper_id
            assert copy.title == original.title and copy.upvotes == original.upvotes
    finally:
        fresh.close()


@pytest.fixture
def small_library(tmp_path: Path) -> Iterator[Library]:
    """A library of a paper published in 999, and one without any publication date."""
    path = tmp_path / "old.jsonl"
    path.write_text(json.dumps(OLD_PAPER) + "\n" + json.dumps(UNDATED) + "\n")
    library = Library(Config(password_hash="cheapest", data_dir=tmp_path / "data"), embedder=demo_embedder())
    library.init()
    report = library.ingest(read_jsonl(path), added_at=date(2026, 11, 20), progress=False)
    assert (report.added, report.rejected) == (2, [])
    yield library
    library.close()


def test_papers_before_the_year_1000_serialize(small_library: Library) -> None:
    client = TestClient(create_app(small_library))
    daily = client.get("/api/daily_papers")
    assert daily.status_code == 200, daily.text
    old = next(item for item in daily.json() if item["paper"]["id"] == OLD_PAPER["id"])
    assert old["paper"]["publishedAt"] == "0999-06-01T10:20:30.000Z"
    assert old["publishedAt"] == "2026-11-20T00:00:00.000Z"
    found = client.get("/api/papers/search", params={"q": "sundials tenth century"})
    assert found.status_code == 200, found.text
    assert found.json()[0]["paper"]["publishedAt"] == "0999-06-01T10:20:30.000Z"
    flat = client.get(f"/api/papers/{OLD_PAPER['id']}")
    assert flat.status_code == 200 and flat.json()["publishedAt"] == "0999-06-01T10:20:30.000Z"
    assert hf_format.hf_datetime(datetime(9, 1, 2, 3, 4, 5)) == "0009-01-02T03:04:05.000Z"


def test_a_paper_that_does_not_fit_the_shapes_is_a_server_error(
    small_library: Library, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(hf_format, "hf_datetime", lambda value: "not a date")  # a bug in our serialization
    client = TestClient(create_app(small_library), raise_server_exceptions=False)
    for path in ("/api/daily_papers", "/api/papers/search", f"/api/papers/{OLD_PAPER['id']}"):
        r = client.get(path)
        assert r.status_code == 500, (path, r.status_code, r.text)
        assert r.json()["ok"] is False and "validation error" not in r.text.lower()
