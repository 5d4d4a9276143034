"""The paper page and ``/api/similar``: the full record, similar papers, ids with slashes and versions, 404s."""

from __future__ import annotations

import re

import httpx
from fastapi import FastAPI
from fastapi.testclient import TestClient

from dailypapers.library import Library
from dailypapers.web.routes import pages, papers
from tests.demo import DROPOUT_TITLE
from tests.web.conftest import assert_error_json


def _similar_links(page: str) -> list[str]:
    section = page.split('<section class="similar">', 1)[1]
    return re.findall(r'<li><a href="([^"]+)">', section)


def test_paper_page_shows_similar_papers_not_itself(http: httpx.Client, library: Library) -> None:
    paper = library.store.find_by_title(DROPOUT_TITLE)
    assert paper is not None
    r = http.get(f"/papers/{paper.id}")
    assert r.status_code == 200
    assert f"<h1>{DROPOUT_TITLE}</h1>" in r.text and paper.abstract[:80] in r.text
    links = _similar_links(r.text)
    assert len(links) == 10 and f"/papers/{paper.id}" not in links
    data = http.get(f"/api/similar/{paper.id}").json()
    assert data["paper"]["id"] == paper.id
    assert [f"/papers/{s['id']}" for s in data["similar"]] == links
    assert all(-1.0 <= s["score"] <= 1.0 for s in data["similar"])
    assert len(http.get(f"/api/similar/{paper.id}", params={"k": 3}).json()["similar"]) == 3


def test_full_record(extra_http: httpx.Client) -> None:
    r = extra_http.get("/papers/2106.09685")
    assert r.status_code == 200
    text = r.text
    for expected in (
        "LoRA: Low-Rank Adaptation of Large Language Models",
        'Edward J. Hu <span class="aff">(Microsoft)</span>',
        "Yelong Shen</span>",
        'Weizhu Chen <span class="aff">(Microsoft Research)</span>',
        '<span class="cat primary">cs.CL</span>',
        '<span class="cat">cs.LG</span>',
        "(primary: cs.CL)",
        '<time datetime="2021-06-17T12:00:00+00:00">17 Jun 2021</time>',
        '<time datetime="2021-10-16T12:00:00+00:00">16 Oct 2021</time>',
        "Draft V2 includes better baselines",
        '<a class="pill" href="https://arxiv.org/abs/2106.09685"',
        '<a class="pill" href="https://arxiv.org/pdf/2106.09685"',
        '<a class="pill" href="https://github.com/microsoft/LoRA"',
        "(v2)",
        "▲ 42",
        '<a href="/papers/date/2026-01-15">',
    ):
        assert expected in text, expected
    old = extra_http.get("/papers/hep-th/9901001")
    assert old.status_code == 200 and "Dualities of Strings on Curved Backgrounds" in old.text
    assert "Nucl. Phys. B 999 (1999) 1-20" in old.text
    assert 'href="https://doi.org/10.1016/S0550-3213(99)00001-1"' in old.text
    assert "/papers/hep-th/9901001" not in _similar_links(old.text) and len(_similar_links(old.text)) == 5


def test_paper_json_fields(extra_http: httpx.Client) -> None:
    data = extra_http.get("/api/similar/hep-th/9901001").json()["paper"]
    assert data["id"] == "hep-th/9901001" and data["published"] == "1999-01-04T12:00:00Z"
    assert data["doi"] == "10.1016/S0550-3213(99)00001-1" and data["categories"] == ["hep-th"]
    lora = extra_http.get("/api/similar/2106.09685v2").json()["paper"]
    assert lora["updated"] == "2021-10-16T12:00:00Z" and lora["added_at"] == "2026-01-15"
    assert lora["version"] == 2 and lora["affiliations"] == ["Microsoft", None, "Microsoft Research"]
    assert lora["code_url"] == "https://github.com/microsoft/LoRA" and lora["upvotes"] == 42


def test_version_suffix_resolves(extra_http: httpx.Client) -> None:
    r = extra_http.get("/papers/2106.09685v2")
    assert r.status_code == 200 and "LoRA: Low-Rank Adaptation" in r.text
    assert '<link rel="canonical" href="/papers/2106.09685">' in r.text


def test_unknown_paper_is_404_in_html_and_json(http: httpx.Client) -> None:
    page = http.get("/papers/2401.99999")
    assert page.status_code == 404 and page.headers["content-type"].startswith("text/html")
    assert "No paper has the id &#39;2401.99999&#39;." in page.text
    assert_error_json(http.get("/api/similar/2401.99999"), 404, "2401.99999")
    hostile = http.get("/papers/<script>alert(1)</script>")
    assert hostile.status_code == 404 and "<script>alert(1)" not in hostile.text


def test_markdown_paths_are_left_to_the_hf_router(library: Library) -> None:
    """``/papers/{id}.md`` belongs to another router, even one included after ours."""
    app = FastAPI()
    app.state.library = library
    app.include_router(pages.router)
    app.include_router(papers.router)

    @app.get("/papers/{paper_id:path}.md")
    def markdown(paper_id: str) -> dict[str, str]:
        return {"markdown": paper_id}

    client = TestClient(app)
    assert client.get("/papers/2106.09685.md").json() == {"markdown": "2106.09685"}
    assert client.get("/papers/hep-th/9901001.md").json() == {"markdown": "hep-th/9901001"}
    assert client.get("/papers/date/2026-11-18").status_code == 200
