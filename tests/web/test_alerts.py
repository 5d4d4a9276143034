"""Saved searches and alerts through the web, on each backend: the "Save this search" form of ``/search`` (CSRF,
no JavaScript, redirect to ``/alerts``), ``/alerts`` with each saved search's new papers and its delete button, the
JSON twin ``/api/alerts`` and ``/api/saved-searches`` with API tokens, another user's ids, anonymous visitors,
bad input as 4xx sentences, and hostile names escaped in the page and the JSON.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from dailypapers.community.saved_searches import MAX_SAVED
from dailypapers.config import Config
from dailypapers.library import Library
from dailypapers.web.app import create_app
from tests.search.test_added_since import HINTON, MULTI, NEW_DAY, OLD_DAY, PASSWORD, QCD, two_day_library
from tests.web.small_library import sign_in, token_of

XSS = "<script>alert('alert')</script>&amp;\"q\""
_SAVED_ID = re.compile(r'<article class="saved-search" id="saved-([^"]+)">')


@dataclass
class Site:
    lib: Library
    ann: TestClient  # signed in
    bob: TestClient  # signed in
    anon: TestClient
    bearer: dict[str, dict[str, str]]

    def form(self, client: TestClient, path: str, **data: Any) -> Any:
        return client.post(path, data={"csrf_token": token_of(client, "/"), **data}, follow_redirects=False)

    def api(self, who: str, method: str, path: str, body: Any = None) -> Any:
        return self.anon.request(method, path, json=body, headers=self.bearer[who])


@pytest.fixture
def site(db_config: Config) -> Iterator[Site]:
    lib = two_day_library(db_config)
    users = {name: lib.accounts.create_user(name, f"{name}@example.org", PASSWORD) for name in ("ann", "bob")}
    bearer = {n: {"Authorization": f"Bearer {lib.accounts.create_token(u, 'tests')[0]}"} for n, u in users.items()}
    app = create_app(lib)
    ann, bob = TestClient(app), TestClient(app)
    sign_in(ann, lib, "ann")
    sign_in(bob, lib, "bob")
    yield Site(lib, ann, bob, TestClient(app), bearer)
    lib.close()


def test_save_from_the_search_page_then_see_and_delete_its_alerts(site: Site) -> None:
    page = site.ann.get("/search", params={"q": "dropout", "added_since": OLD_DAY.isoformat()})
    assert 'action="/saved-searches"' in page.text and "Save and get alerts" in page.text
    assert '<a href="/alerts">Alerts</a>' in page.text  # the nav link of a signed-in user
    assert 'name="added_since" value="2026-11-16"' in page.text
    fields = dict(
        re.findall(r'<input type="hidden" name="([a-z_]+)" value="([^"]*)">', page.text.split("save-search")[1])
    )
    assert fields["q"] == "dropout" and fields["added_since"] == OLD_DAY.isoformat()
    saved = site.form(site.ann, "/saved-searches", **{**fields, "name": "Dropout news"})
    assert saved.status_code == 303 and saved.headers["location"] == "/alerts"
    alerts = site.ann.get("/alerts", params={"since": NEW_DAY.isoformat()})
    assert alerts.status_code == 200 and "Dropout news" in alerts.text
    assert "Accelerated Training" in alerts.text and "preventing co-adaptation" not in alerts.text  # added earlier
    assert "Lattice Quantum" not in alerts.text and "has every word" in alerts.text
    default = site.ann.get("/alerts").text  # 7 days before the newest day: both days
    assert "Accelerated Training" in default and "preventing co-adaptation" in default
    assert (
        site.ann.get("/alerts", params={"since": (NEW_DAY + timedelta(days=1)).isoformat()}).text.count(
            "No new papers match it"
        )
        == 1
    )
    (sid,) = _SAVED_ID.findall(alerts.text)
    assert site.bob.get("/alerts").text.count("saved-search") == 0  # bob sees none of ann's
    gone = site.form(site.bob, f"/saved-searches/{sid}/delete")
    assert gone.status_code == 404 and "You have no saved search" in gone.text
    done = site.form(site.ann, f"/saved-searches/{sid}/delete")
    assert done.status_code == 303 and done.headers["location"] == "/alerts"
    assert "No saved searches yet" in site.ann.get("/alerts").text


def test_anonymous_visitors_are_told_to_log_in(site: Site) -> None:
    page = site.anon.get("/alerts")
    assert (
        page.status_code == 200 and "Log in to save searches" in page.text and 'href="/login?next=/alerts"' in page.text
    )
    search = site.anon.get("/search", params={"q": "dropout"}).text
    assert 'action="/saved-searches"' not in search and "to save this search" in search
    assert '<a href="/alerts">' not in search
    for path in ("/api/alerts", "/api/saved-searches"):
        r = site.anon.get(path)
        assert r.status_code == 401 and "Sign in first" in r.json()["error"]
    visitor = site.form(site.anon, "/saved-searches", q="dropout")
    assert visitor.status_code == 303 and visitor.headers["location"].startswith("/login?next=/alerts")
    csrf = site.anon.get("/api/csrf").json()["csrf_token"]
    r = site.anon.post("/api/saved-searches", json={"q": "dropout"}, headers={"X-CSRF-Token": csrf})
    assert r.status_code == 401
    assert site.ann.post("/saved-searches", data={"q": "dropout"}, follow_redirects=False).status_code == 403  # CSRF


def test_the_json_api_with_tokens(site: Site) -> None:
    made = site.api("ann", "POST", "/api/saved-searches", {"q": "dropout", "name": "D", "category": None})
    assert made.status_code == 201, made.text
    body = made.json()
    assert body["name"] == "D" and body["query"] == "dropout" and body["search_url"] == "/search?q=dropout"
    assert body["filters"] == {"since": None, "until": None, "category": None, "author": None,
                               "added_since": None, "added_until": None}  # fmt: skip
    assert site.api("ann", "POST", "/api/saved-searches", {"q": "dropout", "name": "D"}).json()["id"] == body["id"]
    listed = site.api("ann", "GET", "/api/saved-searches").json()
    assert [s["id"] for s in listed["saved_searches"]] == [body["id"]]
    alerts = site.api("ann", "GET", f"/api/alerts?since={NEW_DAY.isoformat()}").json()
    assert alerts["since"] == NEW_DAY.isoformat() and alerts["newest_day"] == NEW_DAY.isoformat()
    (entry,) = alerts["saved_searches"]
    assert [m["id"] for m in entry["matches"]] == [MULTI]
    assert entry["matches"][0]["reason"] == "matches your saved search 'D'" and entry["matches"][0]["keyword"]
    everything = site.api("ann", "GET", "/api/alerts").json()  # default: 7 days before the newest day
    assert everything["since"] == (NEW_DAY - timedelta(days=7)).isoformat()
    assert {m["id"] for m in everything["saved_searches"][0]["matches"]} == {HINTON, MULTI}
    assert QCD not in str(everything)
    assert site.api("bob", "GET", "/api/saved-searches").json()["saved_searches"] == []
    assert site.api("bob", "DELETE", f"/api/saved-searches/{body['id']}").status_code == 404
    deleted = site.api("ann", "DELETE", f"/api/saved-searches/{body['id']}")
    assert deleted.status_code == 200 and deleted.json() == {"ok": True, "deleted": body["id"]}
    assert site.api("ann", "DELETE", f"/api/saved-searches/{body['id']}").status_code == 404
    # A session works too, with its CSRF token.
    csrf = site.ann.get("/api/csrf").json()["csrf_token"]
    assert site.ann.post("/api/saved-searches", json={"q": "adam"}, headers={"X-CSRF-Token": csrf}).status_code == 201


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        ({"q": ""}, 400, "A saved search needs a query."),
        ({"q": "dropout", "name": "n" * 101}, 400, "at most 100 characters"),
        ({"q": "dropout", "added_since": "2026-13-01"}, 400, "'added_since' must be a date (YYYY-MM-DD)."),
        ({"q": "dropout", "since": "2026-11-18", "until": "2026-11-17"}, 400, "'since' must not be later"),
        ({"q": "dropout", "mode": "keyword"}, 400, "mode"),  # a field it does not know is an error
        ({"q": "x" * 10_001}, 400, "'q'"),
    ],
)
def test_bad_input_is_a_400_sentence(site: Site, body: dict[str, Any], status: int, message: str) -> None:
    r = site.api("ann", "POST", "/api/saved-searches", body)
    assert r.status_code == status and message in r.json()["error"], r.text
    assert site.api("ann", "GET", "/api/alerts?since=soon").status_code == 400
    assert site.api("ann", "GET", "/api/alerts?limit=51").status_code == 400


def test_the_limit_shows_its_message_on_the_page(site: Site) -> None:
    for n in range(MAX_SAVED):
        assert site.api("ann", "POST", "/api/saved-searches", {"q": f"topic {n}"}).status_code == 201
    r = site.api("ann", "POST", "/api/saved-searches", {"q": "one more"})
    assert r.status_code == 409 and f"You have {MAX_SAVED} saved searches" in r.json()["error"]
    page = site.form(site.ann, "/saved-searches", q="one more")
    assert page.status_code == 409 and f"You have {MAX_SAVED} saved searches" in html.unescape(page.text)


def test_hostile_names_and_queries_are_escaped_in_the_page_and_the_json(site: Site) -> None:
    made = site.api("ann", "POST", "/api/saved-searches", {"q": "dropout <img src=x onerror=alert(1)>", "name": XSS})
    assert made.status_code == 201 and made.json()["name"] == XSS
    for raw in (
        made.text,
        site.api("ann", "GET", "/api/alerts").text,
        site.api("ann", "GET", "/api/saved-searches").text,
    ):
        assert "<script>" not in raw and "<img" not in raw and "\\u003cscript\\u003e" in raw
    page = site.ann.get("/alerts").text
    assert "<script>alert" not in page and "<img src=x" not in page
    assert html.escape(XSS, quote=False) in page or "&lt;script&gt;alert(&#39;alert&#39;)&lt;/script&gt;" in page
