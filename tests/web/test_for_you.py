"""The "For you" page through HTTP, on each backend: the page (signed in and not), its JSON twin with an API token, the
"Not for me" form and JSON routes (CSRF required), the interests form and the cold start it drives, and the
private Atom feed (a secret token that works, a revoked or unknown one that is 404, hostile titles escaped).

The library is the copy of the demo that ``tests/search/test_recommend.py`` uses (real MiniLM embeddings), served
by the real app in-process; each test signs up users of its own.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator
from dataclasses import dataclass

import feedparser
import pytest
from fastapi.testclient import TestClient

from dailypapers.library import Library
from dailypapers.papers.models import make_paper
from dailypapers.web.app import create_app
from tests.demo import DROPOUT_TITLE, demo_embedder
from tests.search.test_recommend import DROPOUT, REGULARISATION, recommend_config
from tests.web.small_library import PASSWORD, sign_in, token_of

_names = itertools.count(1)
XSS_TITLE = "<script>alert('pick')</script> Dropout & regularisation of deep networks"
_FEED_URL = re.compile(r'value="(https?://[^"]*/feeds/for-you/[^"]+\.atom|/feeds/for-you/[^"]+\.atom)"')


@dataclass
class Site:
    lib: Library
    web: TestClient  # signed in
    anon: TestClient
    bearer: dict[str, str]
    user_id: str

    def form(self, path: str, **data: str) -> object:
        return self.web.post(path, data={"csrf_token": token_of(self.web, "/for-you"), **data}, follow_redirects=False)


@pytest.fixture
def site(request: pytest.FixtureRequest, backend: str) -> Iterator[Site]:
    lib = Library(recommend_config(request, backend), embedder=demo_embedder())
    name = f"web{next(_names)}x{id(lib) % 9973}"
    user = lib.accounts.create_user(name, f"{name}@example.org", PASSWORD)
    bearer = {"Authorization": f"Bearer {lib.accounts.create_token(user, 'tests')[0]}"}
    app = create_app(lib)
    with TestClient(app) as web, TestClient(app) as anon:
        sign_in(web, lib, name)
        yield Site(lib, web, anon, bearer, user.id)
    lib.close()


def paper_id(lib: Library, title: str) -> str:
    found = lib.store.find_by_title(title)
    assert found is not None
    return found.id


def test_visitors_are_asked_to_log_in(site: Site) -> None:
    page = site.anon.get("/for-you")
    assert page.status_code == 200 and 'href="/login?next=/for-you"' in page.text
    assert site.anon.get("/api/for-you").status_code == 401
    pid = paper_id(site.lib, DROPOUT_TITLE)
    token = token_of(site.anon, "/login")
    back = site.anon.post(f"/papers/{pid}/not-for-me", data={"csrf_token": token}, follow_redirects=False)
    assert back.status_code == 303 and back.headers["location"].startswith("/login?next=")
    assert site.anon.get("/account/interests", follow_redirects=False).status_code == 303


def test_picks_with_reasons_json_and_not_for_me(site: Site) -> None:
    for title in DROPOUT:
        assert site.lib.votes.cast(paper_id(site.lib, title), f"user:{site.user_id}", True)
    page = site.web.get("/for-you")
    assert page.status_code == 200 and "which you upvoted" in page.text and 'href="/for-you"' in page.text
    got = site.anon.get("/api/for-you?limit=30", headers=site.bearer).json()
    assert got["ok"] and not got["cold_start"] and len(got["picks"]) == 30
    titles = [p["paper"]["title"] for p in got["picks"]]
    assert all(t in titles[:20] for t in REGULARISATION)
    first = got["picks"][0]
    assert first["reason_kind"] == "similar" and first["reason_paper"] in {paper_id(site.lib, t) for t in DROPOUT}
    assert first["label"] in ("must read", "related") and first["reason_url"].startswith("/papers/")
    assert site.anon.get("/api/for-you?limit=0", headers=site.bearer).status_code in (400, 422)
    # "Not for me": the form needs its CSRF token, then goes back and the paper leaves the picks
    target = got["picks"][0]["paper"]["id"]
    refused = site.web.post(f"/papers/{target}/not-for-me", data={"value": "true"}, follow_redirects=False)
    assert refused.status_code == 403
    done = site.form(f"/papers/{target}/not-for-me", value="true", next="/for-you")
    assert done.status_code == 303 and done.headers["location"] == "/for-you"  # type: ignore[attr-defined]
    after = site.anon.get("/api/for-you?limit=100", headers=site.bearer).json()
    assert target not in [p["paper"]["id"] for p in after["picks"]]
    paper_page = site.web.get(f"/papers/{target}").text  # the paper page has the same button
    assert f'action="/papers/{target}/not-for-me"' in paper_page
    assert "/not-for-me" not in site.anon.get(f"/papers/{target}").text  # ... for signed-in readers
    undo = site.anon.delete(f"/api/feedback/{target}", headers=site.bearer)
    assert undo.status_code == 200 and undo.json()["not_for_me"] is False
    assert target in [p["paper"]["id"] for p in site.anon.get("/api/for-you", headers=site.bearer).json()["picks"]]
    assert site.anon.post(f"/api/feedback/{target}", headers=site.bearer).json()["not_for_me"] is True
    assert site.anon.post("/api/feedback/no-such-paper", headers=site.bearer).status_code == 404
    cookie_only = site.web.post(f"/api/feedback/{target}")  # a session without its CSRF header
    assert cookie_only.status_code == 403


def test_interests_form_drives_the_cold_start(site: Site) -> None:
    page = site.web.get("/account/interests")
    assert page.status_code == 200 and 'name="keywords"' in page.text
    bad = site.form("/account/interests", categories="<b>x</b>", keywords="", papers="")
    assert bad.status_code == 400 and "not an arXiv category" in bad.text  # type: ignore[attr-defined]
    assert "<b>x</b>" not in bad.text and "&lt;b&gt;x&lt;/b&gt;" in bad.text  # type: ignore[attr-defined]
    ok = site.form("/account/interests", categories="cs.CL", keywords="one-step diffusion\nquantization", papers="")
    assert ok.status_code == 200 and "Saved." in ok.text  # type: ignore[attr-defined]
    got = site.anon.get("/api/for-you", headers=site.bearer).json()
    assert got["cold_start"] and got["interests"]["keywords"] == ["one-step diffusion", "quantization"]
    reasons = {p["reason"] for p in got["picks"]}
    assert "matches your interest ‘one-step diffusion’" in reasons and "matches your interest ‘quantization’" in reasons
    assert "matches your interest" in site.web.get("/for-you").text


def test_private_feed_token_works_revokes_and_escapes(site: Site) -> None:
    lib = site.lib
    newest = lib.papers.latest_day()
    hostile = make_paper(title=XSS_TITLE, abstract="Dropout regularises deep networks <img src=x onerror=alert(1)>.",
                         source="jsonl")  # fmt: skip
    lib.ingest([hostile], added_at=newest, progress=False)  # embedded and indexed: a candidate like any other
    lib.votes.cast(paper_id(lib, DROPOUT_TITLE), f"user:{site.user_id}", True)
    page = site.form("/for-you/feed", action="create")
    found = _FEED_URL.search(page.text)  # type: ignore[attr-defined]
    assert page.status_code == 200 and found, page.text[-2000:]  # type: ignore[attr-defined]
    path = "/feeds/for-you/" + found.group(1).rsplit("/feeds/for-you/", 1)[1]
    feed = site.anon.get(path)
    assert feed.status_code == 200 and feed.headers["content-type"].startswith("application/atom+xml")
    assert "private" in feed.headers["cache-control"]
    parsed = feedparser.parse(feed.content)
    assert parsed.entries and XSS_TITLE in [e.title for e in parsed.entries]
    assert b"<script>" not in feed.content and b"<img" not in feed.content
    html = site.web.get("/for-you").text
    assert "<script>alert('pick')" not in html and "&lt;script&gt;alert(" in html
    api = site.anon.get("/api/for-you?limit=50", headers=site.bearer)
    assert b"<script>" not in api.content and XSS_TITLE in [p["paper"]["title"] for p in api.json()["picks"]]
    again = site.form("/for-you/feed", action="create")  # a new address replaces the old one
    assert again.status_code == 200 and site.anon.get(path).status_code == 404  # type: ignore[attr-defined]
    newer = "/feeds/for-you/" + _FEED_URL.search(again.text).group(1).rsplit("/feeds/for-you/", 1)[1]  # type: ignore
    assert site.anon.get(newer).status_code == 200
    revoked = site.form("/for-you/feed", action="revoke")
    assert revoked.status_code == 303  # type: ignore[attr-defined]
    assert site.anon.get(newer).status_code == 404
    assert site.anon.get("/feeds/for-you/" + "x" * 43 + ".atom").status_code == 404
    assert site.form("/for-you/feed", action="explode").status_code == 400  # type: ignore[attr-defined]
