"""Search over real HTTP: ranking, exact-match pinning, highlighting, paging, filters, messages, the CLI's JSON."""

from __future__ import annotations

import json
import re

import httpx
from click.testing import CliRunner
from fastapi.testclient import TestClient

from dailypapers.cli import main
from dailypapers.config import Config
from dailypapers.library import Library
from dailypapers.web.app import create_app
from tests.demo import DROPOUT_TITLE
from tests.web.conftest import titles
from tests.web.small_library import ADAM, LORA

DROPOUT_QUERY = "dropout regularization for neural networks"


def test_dropout_query_finds_the_dropout_paper(http: httpx.Client) -> None:
    page = http.get("/search", params={"q": DROPOUT_QUERY})
    assert page.status_code == 200
    assert DROPOUT_TITLE in [t for _, t in titles(page.text)][:3]
    data = http.get("/api/search", params={"q": DROPOUT_QUERY}).json()
    assert DROPOUT_TITLE in [r["title"] for r in data["results"][:3]]
    assert data["query"] == DROPOUT_QUERY and data["mode"] == "hybrid" and data["page"] == 1
    first = data["results"][0]
    assert {"id", "title", "abstract", "score", "pinned", "keyword_rank", "vector_rank", "title_html"} <= set(first)
    assert [r["score"] for r in data["results"]] == sorted((r["score"] for r in data["results"]), reverse=True)


def test_exact_title_is_pinned_first(http: httpx.Client, library: Library) -> None:
    title = next(p.title for p in library.store.iter_papers() if p.title != DROPOUT_TITLE and len(p.title) > 30)
    data = http.get("/api/search", params={"q": title.lower()}).json()
    assert data["results"][0]["title"] == title and data["results"][0]["pinned"] is True
    assert not any(r["pinned"] for r in data["results"][1:])
    page = http.get("/search", params={"q": title})
    assert titles(page.text)[0][1] == title
    assert page.text.count("exact match</span>") == 1
    plain = http.get("/search", params={"q": DROPOUT_QUERY})
    assert "exact match</span>" not in plain.text


def test_matched_words_are_highlighted(http: httpx.Client) -> None:
    data = http.get("/api/search", params={"q": "dropout", "mode": "keyword"}).json()
    hit = next(r for r in data["results"] if r["title"] == DROPOUT_TITLE)
    assert "<mark>Dropout</mark>" in hit["title_html"]
    assert "<mark>" in hit["abstract_html"]
    page = http.get("/search", params={"q": "dropout", "mode": "keyword"})
    assert re.search(r'<h2 class="title">\s*<a href="[^"]+">[^<]*<mark>Dropout</mark>', page.text)


def test_paging(http: httpx.Client) -> None:
    one = http.get("/api/search", params={"q": "language models"}).json()
    two = http.get("/api/search", params={"q": "language models", "p": 2}).json()
    assert one["has_next"] is True and two["page"] == 2 and one["total"] == two["total"] > 20
    ids_one, ids_two = [r["id"] for r in one["results"]], [r["id"] for r in two["results"]]
    assert len(ids_one) == 20 and ids_two and not set(ids_one) & set(ids_two)
    page = http.get("/search", params={"q": "language models", "p": 2})
    assert [h for h, _ in titles(page.text)] == [f"/papers/{i}" for i in ids_two]
    assert 'href="/search?q=language+models&amp;p=3"' in page.text
    assert 'href="/search?q=language+models"' in page.text  # back to page 1
    beyond = http.get("/api/search", params={"q": "language models", "p": 500}).json()
    assert beyond["results"] == [] and beyond["has_next"] is False


def test_modes(http: httpx.Client) -> None:
    keyword = http.get("/api/search", params={"q": DROPOUT_QUERY, "mode": "keyword"}).json()
    semantic = http.get("/api/search", params={"q": DROPOUT_QUERY, "mode": "semantic"}).json()
    assert keyword["mode"] == "keyword" and all(r["vector_rank"] is None for r in keyword["results"])
    assert semantic["mode"] == "semantic" and all(r["keyword_rank"] is None for r in semantic["results"])
    assert DROPOUT_TITLE in [r["title"] for r in semantic["results"][:3]]
    page = http.get("/search", params={"q": "x", "mode": "semantic"})
    assert '<option value="semantic" selected>' in page.text


def test_messages_for_empty_query_and_no_results(http: httpx.Client) -> None:
    empty = http.get("/search")
    assert empty.status_code == 200 and "Type a few words" in empty.text and titles(empty.text) == []
    none = http.get("/search", params={"q": "zzyzxqwv", "mode": "keyword"})
    assert none.status_code == 200 and "No papers match “zzyzxqwv”" in none.text
    data = http.get("/api/search", params={"q": ""}).json()
    assert data["results"] == [] and data["total"] == 0


def test_hostile_query_is_escaped(http: httpx.Client) -> None:
    hostile = "<script>alert(1)</script>"
    page = http.get("/search", params={"q": hostile})
    assert page.status_code == 200
    assert hostile not in page.text and "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text
    attr = http.get("/search", params={"q": '"><img src=x onerror=alert(1)>'})
    assert "<img src=x" not in attr.text
    data = http.get("/api/search", params={"q": hostile}).json()
    assert all("<script>" not in r["title_html"] + r["abstract_html"] for r in data["results"])


def test_filters(extra_http: httpx.Client) -> None:
    def ids(**params: str) -> set[str]:
        r = extra_http.get("/api/search", params={"q": "learning networks", **params})
        assert r.status_code == 200, r.text
        return {x["id"] for x in r.json()["results"]}

    everything = ids()
    assert everything == {"2106.09685", "hep-th/9901001", "1706.03762", "1512.03385", "1207.0580", "1412.6980"}
    assert ids(author="hinton") == {"1207.0580"}
    assert ids(category="cs.CV") == {"1512.03385"}
    assert ids(category="cs") == everything - {"hep-th/9901001"}
    assert ids(since="2016-01-01") == {"2106.09685", "1706.03762"}
    assert ids(until="2013-01-01") == {"1207.0580", "hep-th/9901001"}
    assert ids(since="2014-01-01", until="2016-01-01", category="cs") == {"1512.03385", "1412.6980"}
    data = extra_http.get("/api/search", params={"q": "learning", "author": "Kingma", "since": "2014-01-01"}).json()
    assert data["filters"] == {"since": "2014-01-01", "until": None, "category": None, "author": "Kingma",
                               "added_since": None, "added_until": None}  # fmt: skip
    page = extra_http.get("/search", params={"q": "learning networks", "author": "hinton", "since": "", "until": ""})
    assert [t for _, t in titles(page.text)] == [
        "Improving neural networks by preventing co-adaptation of feature detectors"
    ]
    assert 'name="author" value="hinton"' in page.text and "Filters (active)" in page.text


def test_exact_arxiv_id_and_url_are_pinned(extra_http: httpx.Client) -> None:
    for q in ("1706.03762", "arXiv:1706.03762v5", "https://arxiv.org/abs/1706.03762"):
        first = extra_http.get("/api/search", params={"q": q}).json()["results"][0]
        assert first["id"] == "1706.03762" and first["pinned"] is True


def test_cli_search_json(demo_config: Config) -> None:
    env = {"DAILYPAPERS_DATA_DIR": str(demo_config.data_dir), "DAILYPAPERS_DATABASE_URL": demo_config.database_url}
    result = CliRunner().invoke(main, ["search", "--json", "--limit", "5", DROPOUT_QUERY], env=env)
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)  # stderr may carry the model loader's progress bar
    assert data["query"] == DROPOUT_QUERY and data["page_size"] == 5 and len(data["results"]) == 5
    assert DROPOUT_TITLE in [r["title"] for r in data["results"][:3]]
    assert all(r["added_at"] and r["url"] == f"/papers/{r['id']}" for r in data["results"])


def test_an_arxiv_id_not_stored_says_so_first_with_related_papers_below(small: Library) -> None:
    """Searching an arXiv id that is not here (issue 21 item 5): the page says "not in this library" before anything
    else, with a link to submit it, and labels the papers it still finds as related; the JSON says it in
    ``not_in_library``. A stored paper, even one the filters leave out, is not "missing"."""
    with TestClient(create_app(small)) as client:
        for q in ("2501.01234", "arXiv:2501.01234v2", "https://arxiv.org/abs/2501.01234"):
            page = client.get("/search", params={"q": q})
            assert page.status_code == 200
            text = page.text
            notice = text.index("is not in this library")
            assert "<strong>2501.01234</strong> is not in this library" in text
            assert '<a href="/submit?id=2501.01234">Submit it</a>' in text  # the form filled in
            assert notice < text.index('<ol class="papers"') and "Related papers" in text
            assert text.index("Related papers") < text.index('<ol class="papers"')
            assert "exact match</span>" not in text and titles(text)  # the related papers are still listed
            data = client.get("/api/search", params={"q": q}).json()
            assert data["not_in_library"] == {"id": "2501.01234", "submit_url": "/submit?id=2501.01234"}, q
            assert data["results"] and not any(r["pinned"] for r in data["results"])
        posted = client.post("/api/search", json={"q": "2501.01234"}, headers={"X-CSRF-Token": _csrf(client)})
        assert posted.status_code == 200 and posted.json()["not_in_library"]["id"] == "2501.01234"
        old_style = client.get("/api/search", params={"q": "hep-th/9912345"}).json()
        assert old_style["not_in_library"] == {"id": "hep-th/9912345", "submit_url": "/submit?id=hep-th%2F9912345"}

        here = client.get("/api/search", params={"q": LORA}).json()
        assert here["not_in_library"] is None and here["results"][0]["pinned"] is True
        filtered_out = client.get("/api/search", params={"q": ADAM, "category": "hep-th"}).json()
        assert filtered_out["not_in_library"] is None
        words = client.get("/api/search", params={"q": "low-rank adaptation"}).json()
        assert words["not_in_library"] is None
        page = client.get("/search", params={"q": LORA}).text
        assert "not in this library" not in page and "Related papers" not in page


def _csrf(client: TestClient) -> str:
    token = client.get("/api/csrf").json()["csrf_token"]
    assert isinstance(token, str)
    return token
