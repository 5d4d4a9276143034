"""Who submitted a paper, in the Hugging Face compatible API, on each backend: a paper a user submitted through the
form names that user (``submittedBy``, ``paper.submittedOnDailyBy``, the flat paper and search results), the
importer stays the submitter of imported papers, and ``/api/daily_papers?submitter=`` lists exactly the papers of
that submitter, in the list's own order and pages, in both sorts (issue 21 item 7).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from huggingface_hub.hf_api import PaperInfo

from dailypapers.config import Config
from dailypapers.library import Library
from dailypapers.papers.models import make_paper
from dailypapers.web.app import create_app
from tests.demo import demo_embedder
from tests.fakes_arxiv import ArxivById, FakePaper, arxiv_by_id, days_ago
from tests.web.small_library import ADAM, LORA, PASSWORD, STRINGS, build_small, sign_in, token_of

ANNS, BOBS = "2611.01234", "2611.02345"
IMPORTED_TODAY = ("2611.07777", "2611.08888")  # imported after the submissions, on their day


@pytest.fixture
def fake() -> Iterator[ArxivById]:
    with arxiv_by_id() as server:
        server.add(FakePaper(ANNS, "Sparse Attention Submitted by Ann", days_ago(1)))
        server.add(FakePaper(BOBS, "Dense Retrieval Submitted by Bob", days_ago(2)))
        yield server


@pytest.fixture
def lib(backend: str, request: pytest.FixtureRequest, tmp_path: Any, fake: ArxivById) -> Iterator[Library]:
    """The small library; then ann and bob each submit a paper through the form, and two more papers are imported
    on that day (so that submitted papers sit between imported ones in both orders)."""
    url = request.getfixturevalue("db_config").database_url  # a copy of the migrated database
    config = Config(
        password_hash="cheapest",
        data_dir=tmp_path,
        database_url=url,
        arxiv_api_url=fake.url,
        arxiv_delay=0.01,
        arxiv_retries=1,
    )
    library = build_small(config, demo_embedder())
    for name in ("root", "ann", "bob"):
        library.accounts.create_user(name, f"{name}@example.org", PASSWORD)
    for name, paper_id in (("ann", ANNS), ("bob", BOBS)):
        with TestClient(create_app(library)) as browser:
            sign_in(browser, library, name)
            done = browser.post("/submit", data={"id": paper_id, "csrf_token": token_of(browser, "/submit")},
                                follow_redirects=False)  # fmt: skip
            assert done.status_code == 303, done.text[:300]
    imported = [make_paper(arxiv_id=i, title=f"Imported {i}", abstract="Imported.", upvotes=u, source="arxiv")
                for i, u in zip(IMPORTED_TODAY, (7, 0), strict=True)]  # fmt: skip
    library.ingest(imported, added_at=library.submissions.today(), progress=False, index=True)
    yield library
    library.close()


@pytest.fixture
def hf(lib: Library) -> Iterator[TestClient]:
    with TestClient(create_app(lib)) as client:
        yield client


def submitters(items: list[dict[str, Any]]) -> dict[str, str]:
    """``{paper id: submitter's username}``, checking that both places of a daily item name the same user."""
    for item in items:
        assert item["submittedBy"] == item["paper"]["submittedOnDailyBy"]
    return {item["paper"]["id"]: item["submittedBy"]["user"] for item in items}


def test_a_submitted_paper_names_its_submitter(hf: TestClient) -> None:
    items = hf.get("/api/daily_papers", params={"limit": 100}).json()
    assert submitters(items) == {ANNS: "ann", BOBS: "bob", LORA: "dailypapers", STRINGS: "dailypapers",
                                 ADAM: "dailypapers", **dict.fromkeys(IMPORTED_TODAY, "dailypapers")}  # fmt: skip
    ann = next(item for item in items if item["paper"]["id"] == ANNS)
    assert ann["submittedBy"]["fullname"] == "ann" and ann["submittedBy"]["avatarUrl"].startswith("/static/")
    assert hf.get(ann["submittedBy"]["avatarUrl"]).status_code == 200
    info = PaperInfo(**ann)  # what huggingface_hub builds from the item
    assert info.submitted_by is not None and info.submitted_by.username == "ann"
    flat = hf.get(f"/api/papers/{ANNS}").json()
    assert flat["submittedOnDailyBy"]["user"] == "ann"
    assert PaperInfo(**flat).submitted_by.username == "ann"  # type: ignore[union-attr]
    assert hf.get(f"/api/papers/{LORA}").json()["submittedOnDailyBy"]["user"] == "dailypapers"
    found = hf.get("/api/papers/search", params={"q": "Dense Retrieval Submitted by Bob"}).json()
    assert submitters(found)[BOBS] == "bob"


def _all_pages(hf: TestClient, limit: int, **params: str) -> list[str]:
    """The ids of every page of ``/api/daily_papers`` with ``params``, ``limit`` a page, following ``Link``."""
    ids: list[str] = []
    for p in range(20):
        r = hf.get("/api/daily_papers", params={**params, "limit": limit, "p": p})
        assert r.status_code == 200, r.text
        page = [item["paper"]["id"] for item in r.json()]
        assert len(page) <= limit
        ids += page
        if "link" not in r.headers:
            assert hf.get("/api/daily_papers", params={**params, "limit": limit, "p": p + 1}).json() == []
            return ids
        assert page, "a Link header after an empty page"
    raise AssertionError("more than 20 pages")


@pytest.mark.parametrize("sort", ["publishedAt", "trending"])
def test_submitter_filters_by_the_real_submitter(hf: TestClient, lib: Library, sort: str) -> None:
    today = lib.submissions.today()
    for period in ({}, {"date": today.isoformat()}, {"month": today.strftime("%Y-%m")}):
        params = {"sort": sort, **period}
        everything = submitters(hf.get("/api/daily_papers", params={**params, "limit": 100}).json())
        order = list(everything)
        assert {ANNS, BOBS, *IMPORTED_TODAY} <= set(order), params
        for who in ("ann", "bob", "dailypapers"):
            wanted = [i for i in order if everything[i] == who]
            for limit in (1, 2, 100):
                assert _all_pages(hf, limit, submitter=who, **params) == wanted, (who, limit, params)
        assert _all_pages(hf, 1, submitter="ANN", **params) == [ANNS]  # usernames ignore case
        assert _all_pages(hf, 1, submitter="nobody", **params) == []
