"""The web site with hostile input, over HTTP: a 1 MB abstract, HEAD requests, and a forged ``Host`` header.

The server is ``dailypapers serve`` on a small library of its own (SQLite; this is about the app, not storage).
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from dailypapers.config import Config
from dailypapers.library import Library
from dailypapers.papers.models import title_id
from dailypapers.papers.sources import read_jsonl
from dailypapers.web.app import create_app
from tests.demo import demo_embedder, running_server

DAY = date(2026, 11, 20)
HUGE_TITLE = "A paper with an enormous abstract"
HUGE_ABSTRACT = " ".join(f"lorem{i % 97} ipsum" for i in range(80_000))  # about 1 MB
HUGE_ID = title_id(HUGE_TITLE)
SMALL_ID = "2106.09685"
EVIL = "evil.example"


def _build(config: Config, tmp: Path) -> None:
    path = tmp / "papers.jsonl"
    rows = [
        {"title": HUGE_TITLE, "abstract": HUGE_ABSTRACT},
        {"id": SMALL_ID, "title": "LoRA", "abstract": "Low-rank adaptation of lorem3 models."},
    ]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    library = Library(config, embedder=demo_embedder())
    library.init()
    report = library.ingest(read_jsonl(path), added_at=DAY, progress=False)
    assert (report.added, report.rejected) == (2, [])
    library.close()


@pytest.fixture(scope="module")
def config(tmp_path_factory: pytest.TempPathFactory) -> Config:
    tmp = tmp_path_factory.mktemp("hostile-web")
    config = Config(password_hash="cheapest", data_dir=tmp / "data")
    _build(config, tmp)
    return config


@pytest.fixture(scope="module")
def http(config: Config) -> Iterator[httpx.Client]:
    with running_server(config) as base, httpx.Client(base_url=base, timeout=60) as client:
        yield client


# -- a 1 MB abstract (item 6) -------------------------------------------------------------------------------------


def test_list_pages_show_an_excerpt_of_a_huge_abstract(http: httpx.Client) -> None:
    for path, params in (("/", {}), (f"/papers/date/{DAY}", {}), ("/search", {"q": "lorem5 ipsum", "mode": "keyword"})):
        r = http.get(path, params=params)
        assert r.status_code == 200, (path, r.text[:500])
        assert len(r.content) < 200_000, (path, len(r.content))
        assert HUGE_TITLE in r.text and "\N{HORIZONTAL ELLIPSIS}" in r.text, path
    page = http.get(f"/papers/{HUGE_ID}")
    assert page.status_code == 200 and HUGE_ABSTRACT in page.text


# -- HEAD (item 8) --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "/",
        f"/papers/date/{DAY}",
        "/papers/week/2026-W47",
        "/papers/month/2026-11",
        "/search?q=lorem",
        f"/papers/{SMALL_ID}",
        "/healthz",
        "/api/latest",
        "/api/daily_papers",
        f"/papers/{SMALL_ID}.md",
    ],
)
def test_head_answers_like_get_without_a_body(http: httpx.Client, path: str) -> None:
    get = http.get(path)
    head = http.head(path)
    assert head.status_code == get.status_code == 200, (path, head.status_code, head.text)
    assert head.content == b""
    assert head.headers["content-type"] == get.headers["content-type"]


# -- a forged Host header (item 9) ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "/",
        f"/papers/date/{DAY}",
        "/search?q=lorem",
        f"/papers/{SMALL_ID}",
        f"/papers/{SMALL_ID}.md",
        f"/api/papers/{SMALL_ID}",
        "/api/daily_papers?limit=1",
        "/api/papers/search?q=lorem",
        "/api/latest",
    ],
)
def test_a_forged_host_appears_nowhere(http: httpx.Client, path: str) -> None:
    r = http.get(path, headers={"Host": EVIL})
    assert r.status_code == 200, (path, r.status_code)
    assert EVIL not in r.text, path
    assert not [(k, v) for k, v in r.headers.items() if EVIL in v], (path, r.headers)


def test_links_that_must_be_absolute(http: httpx.Client, config: Config) -> None:
    # The server's own address is trusted: huggingface_hub follows this Link as it is.
    own = http.get("/api/daily_papers", params={"limit": 1})
    assert own.headers["link"] == f'<{str(http.base_url).rstrip("/")}/api/daily_papers?limit=1&p=1>; rel="next"'
    # Any other host gets a relative link.
    forged = http.get("/api/daily_papers", params={"limit": 1}, headers={"Host": EVIL})
    assert forged.headers["link"] == '</api/daily_papers?limit=1&p=1>; rel="next"'
    md = http.get(f"/papers/{SMALL_ID}.md", headers={"Host": EVIL}).text
    assert f"- dailypapers: [/papers/{SMALL_ID}](/papers/{SMALL_ID})" in md
    # A configured public URL wins over every Host header.
    public = Library(dataclasses.replace(config, public_url="https://papers.example.org"), embedder=demo_embedder())
    try:
        client = TestClient(create_app(public))
        for host in (EVIL, "testserver"):
            r = client.get("/api/daily_papers", params={"limit": 1}, headers={"Host": host})
            assert r.headers["link"] == '<https://papers.example.org/api/daily_papers?limit=1&p=1>; rel="next"'
            md = client.get(f"/papers/{SMALL_ID}.md", headers={"Host": host}).text
            assert f"- dailypapers: <https://papers.example.org/papers/{SMALL_ID}>" in md
    finally:
        public.close()
