"""`dailypapers init --demo` on a fresh data folder: the packaged corpus (or DAILYPAPERS_DEMO_CORPUS) spread over the
last 10 weekdays, one import per day, indexed once, and the home page showing the latest day with a way back."""

from __future__ import annotations

import html
import json
from datetime import date, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from fastapi.testclient import TestClient

from dailypapers.cli import main
from dailypapers.config import Config
from dailypapers.demo import DEMO_CORPUS, DEMO_WEEKDAYS, demo_days
from dailypapers.library import Library
from dailypapers.papers.models import author_slug, parse_arxiv_id
from dailypapers.papers.periods import day_period
from dailypapers.web.app import create_app
from tests.demo import backend_config

pytestmark = pytest.mark.slow  # embeds the corpus with the real model


def run_init(config: Config, corpus: str = "") -> Result:
    env = {
        "DAILYPAPERS_DATA_DIR": str(config.data_dir),
        "DAILYPAPERS_DATABASE_URL": config.database_url,
        "DAILYPAPERS_DEMO_CORPUS": corpus,
    }
    return CliRunner().invoke(main, ["init", "--demo"], env=env)


def papers_per_day(lib: Library) -> dict[date, int]:
    days: dict[date, int] = {}
    for paper in lib.store.iter_papers():
        assert paper.added_at is not None
        days[paper.added_at] = days.get(paper.added_at, 0) + 1
    return dict(sorted(days.items()))


def test_init_demo_spreads_the_packaged_corpus_over_ten_weekdays(
    request: pytest.FixtureRequest, backend: str, tmp_path: Path
) -> None:
    config = backend_config(request, backend, tmp_path / "data")
    result = run_init(config)
    assert result.exit_code == 0, result.output
    assert "added 298, updated 0, unchanged 0, rejected 0" in result.output

    today = date.today()
    days = demo_days(today)
    latest = today - timedelta(days=max(0, today.weekday() - 4))  # Saturday, Sunday: the Friday before
    assert len(days) == DEMO_WEEKDAYS and days[-1] == latest and all(d.weekday() < 5 for d in days)
    lib = Library(config)
    try:
        per_day = papers_per_day(lib)
        assert list(per_day) == days  # 10 distinct weekdays, the latest one <= today
        assert sum(per_day.values()) == 298 and set(per_day.values()) == {29, 30}  # as even as it gets
        assert lib.store.count_needing_embedding(lib.embedder.name) == 0 and lib.search.vectors.size() == 298

        page = TestClient(create_app(lib)).get("/")
        assert page.status_code == 200
        assert day_period(days[-1]).label in page.text
        assert f'data-step="prev" href="/papers/date/{days[-2].isoformat()}"' in page.text
        assert 'data-step="next"' not in page.text  # nothing after the latest day
        assert f"{per_day[days[-1]]} papers" in page.text
        check_arxiv_records(lib)

        again = run_init(config)  # the database is not empty any more: nothing is imported
        assert again.exit_code == 0, again.output
        assert "added" not in again.output and lib.papers.count() == 298
    finally:
        lib.close()


def check_arxiv_records(lib: Library) -> None:
    """The demo as a newcomer sees it (issue 21, item 23): arXiv ids with abs and PDF links, author pages, category
    filters that find papers, the real publication dates shown while the list days stay the spread."""
    papers = list(lib.store.iter_papers())
    assert sum(p.is_arxiv for p in papers) == 289 and sum(bool(p.authors) for p in papers) == 288
    assert sum(bool(p.categories) for p in papers) == 201 and sum(p.published is not None for p in papers) == 252
    paper = next(p for p in papers if p.id == "2403.03419")  # authors, a category, a publication date
    assert paper.published is not None and paper.added_at is not None and paper.published.date() < paper.added_at
    client = TestClient(create_app(lib))
    page = client.get(f"/papers/{paper.id}").text
    assert f'href="https://arxiv.org/abs/{paper.id}"' in page and f'href="https://arxiv.org/pdf/{paper.id}"' in page
    author = client.get(f"/authors/{author_slug(paper.authors[0])}")
    assert author.status_code == 200 and paper.title in html.unescape(author.text)
    assert f'href="/authors/{author_slug(paper.authors[-1])}"' in page
    found = client.get("/api/search", params={"q": "language models", "category": "cs.CL"}).json()
    assert found["total"] > 0 and all("cs.CL" in r["categories"] for r in found["results"])
    # "since" filters on the publication date (the day of the list where there is none)
    exact = {"q": paper.title}
    assert client.get("/api/search", params=exact).json()["results"][0]["id"] == paper.id
    later = client.get("/api/search", params={**exact, "since": "2025-01-01"}).json()["results"]
    assert later and paper.id not in [r["id"] for r in later]
    assert all((r["published"] or r["added_at"]) >= "2025-01-01" for r in later)


def test_the_packaged_corpus_carries_what_arxiv_says_and_no_evidence_column() -> None:
    rows = [json.loads(line) for line in DEMO_CORPUS.read_text(encoding="utf-8").splitlines()]
    assert len(rows) == 298 and all(
        set(r) == {"id", "title", "abstract", "authors", "categories", "published"} for r in rows
    )
    ids = [r["id"] for r in rows if r["id"]]
    assert len(ids) == len(set(ids)) == 289 and all(parse_arxiv_id(i) == (i, None) for i in ids)
    assert all(r["published"] is None or date.fromisoformat(r["published"]) < date(2026, 1, 1) for r in rows)


def test_an_explicit_corpus_file_is_spread_the_same_way(tmp_path: Path) -> None:
    lines = DEMO_CORPUS.read_text(encoding="utf-8").splitlines()[:30]
    corpus = tmp_path / "mine.jsonl"
    corpus.write_text("\n".join([*lines[:12], json.dumps({"title": "No abstract"}), *lines[12:]]) + "\n")
    config = Config(password_hash="cheapest", data_dir=tmp_path / "data")

    missing = run_init(config, str(tmp_path / "nowhere.jsonl"))
    assert missing.exit_code != 0 and "demo corpus not found" in missing.output

    result = run_init(config, str(corpus))
    assert result.exit_code == 0, result.output
    assert "added 30, updated 0, unchanged 0, rejected 1" in result.output
    assert "line 13" in result.output  # the malformed record, by its position in the file
    lib = Library(config)
    try:
        per_day = papers_per_day(lib)
        assert list(per_day) == demo_days(date.today())  # 31 records (one rejected): 3 or 4 a day
        assert lib.store.count_needing_embedding(lib.embedder.name) == 0
    finally:
        lib.close()
