"""Collections through the web, on each backend: the access matrix of every route that takes a collection id
(owner, another user, an admin, a visitor × private, public), the save page and "Save" links, reordering with the
plain forms, the JSON twins with API tokens, the Atom feed and BibTeX, hostile names and notes shown escaped in
every rendering, and the limits' messages.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import feedparser
import pytest
from fastapi.testclient import TestClient
from markupsafe import escape

from dailypapers.config import Config
from dailypapers.library import Library
from dailypapers.web.app import create_app
from tests.demo import demo_embedder
from tests.web.small_library import ADAM, LORA, PASSWORD, STRINGS, build_small, sign_in, token_of

XSS_NAME = "<script>alert('name')</script>&amp;\"q\""
XSS_DESCRIPTION = "<img src=x onerror=alert(1)> {\\} @misc{evil,"
XSS_NOTE = "</textarea><script>alert('note')</script>}"


@dataclass
class Site:
    lib: Library
    owner: TestClient  # ann, who owns the collections of the tests
    other: TestClient  # bob
    admin: TestClient  # root, the instance's admin
    anon: TestClient
    bearer: dict[str, dict[str, str]]  # Authorization headers of ann, bob and root

    def form(self, client: TestClient, path: str, **data: Any) -> Any:
        token = token_of(client, "/")
        return client.post(path, data={"csrf_token": token, **data}, follow_redirects=False)

    def api(self, who: str | None, method: str, path: str, body: Any = None) -> Any:
        # A visitor sends the CSRF token of its cookie, so that what answers is the sign-in check, not CSRF's.
        headers = self.bearer[who] if who else {"X-CSRF-Token": self.anon.get("/api/csrf").json()["csrf_token"]}
        return self.anon.request(method, path, json=body, headers=headers)

    def new(self, name: str = "Reading", public: bool = False, papers: tuple[str, ...] = (LORA,)) -> str:
        made = self.api("ann", "POST", "/api/collections", {"name": name, "public": public})
        assert made.status_code == 201, made.text
        for paper in papers:
            assert self.api("ann", "POST", f"/api/collections/{made.json()['id']}/items", {"paper": paper}).is_success
        return str(made.json()["id"])

    def order(self, cid: str) -> list[tuple[str, int, str]]:
        items = self.api("ann", "GET", f"/api/collections/{cid}").json()["items"]
        return [(i["paper"]["id"], i["position"], i["note"]) for i in items]


@pytest.fixture
def site(backend: str, request: pytest.FixtureRequest, tmp_path: Any) -> Iterator[Site]:
    url = request.getfixturevalue("db_config").database_url  # a copy of the migrated database
    lib = build_small(Config(password_hash="cheapest", data_dir=tmp_path, database_url=url), demo_embedder())
    users = {name: lib.accounts.create_user(name, f"{name}@example.org", PASSWORD) for name in ("root", "ann", "bob")}
    assert users["root"].is_admin and not users["ann"].is_admin
    bearer = {n: {"Authorization": f"Bearer {lib.accounts.create_token(u, 'tests')[0]}"} for n, u in users.items()}
    app = create_app(lib)
    ann, bob, root = (TestClient(app) for _ in range(3))
    for client, name in ((ann, "ann"), (bob, "bob"), (root, "root")):
        sign_in(client, lib, name)
    yield Site(lib, owner=ann, other=bob, admin=root, anon=TestClient(app), bearer=bearer)
    lib.close()


# -- who may do what ----------------------------------------------------------------------------------------------
READS = ("/collections/{cid}", "/api/collections/{cid}", "/collections/{cid}.bib")
FORMS: tuple[tuple[str, dict[str, str]], ...] = (
    ("/collections/{cid}/edit", {"name": "Taken over", "public": "true"}),
    ("/collections/{cid}/items", {"paper": ADAM, "note": "planted"}),
    (f"/collections/{{cid}}/items/{LORA}/note", {"note": "planted"}),
    (f"/collections/{{cid}}/items/{LORA}/move", {"direction": "down"}),
    (f"/collections/{{cid}}/items/{LORA}/remove", {}),
    ("/collections/{cid}/delete", {}),
)
API_CHANGES: tuple[tuple[str, str, Any], ...] = (
    ("PATCH", "/api/collections/{cid}", {"name": "Taken over"}),
    ("POST", "/api/collections/{cid}/items", {"paper": ADAM, "note": "planted"}),
    ("PATCH", f"/api/collections/{{cid}}/items/{LORA}", {"note": "planted", "position": 1}),
    ("DELETE", f"/api/collections/{{cid}}/items/{LORA}", None),
    ("DELETE", "/api/collections/{cid}", None),
)


def test_nobody_but_the_owner_reads_a_private_collection_or_changes_any(site: Site) -> None:
    private, public = site.new("Private", papers=(LORA, STRINGS)), site.new("Public", True, papers=(LORA, STRINGS))
    before = {cid: site.order(cid) for cid in (private, public)}
    for cid, is_public in ((private, False), (public, True)):
        for path in READS:
            assert site.owner.get(path.format(cid=cid)).status_code == 200, path
            for client in (site.other, site.admin, site.anon):  # admins read no private collection either
                assert client.get(path.format(cid=cid)).status_code == (200 if is_public else 404), (path, cid)
            for who in ("bob", "root", None):
                assert site.api(who, "GET", path.format(cid=cid)).status_code == (200 if is_public else 404)
        feed = f"/feeds/collections/{cid}.atom"
        for client in (site.owner, site.other, site.anon):  # a feed is for public collections only
            assert client.get(feed).status_code == (200 if is_public else 404)
        denied = 403 if is_public else 404  # 403 only where the collection's existence is public anyway
        for path, data in FORMS:
            for client in (site.other, site.admin):
                done = site.form(client, path.format(cid=cid), **data)
                assert done.status_code == denied, (path, done.text[:300])
                assert ("Only its owner" if is_public else "There is no collection") in done.text
            visitor = site.form(site.anon, path.format(cid=cid), **data)
            assert visitor.status_code == 303 and visitor.headers["location"].startswith("/login?next=/collections/")
        for method, path, body in API_CHANGES:
            for who in ("bob", "root"):
                r = site.api(who, method, path.format(cid=cid), body)
                assert r.status_code == denied and r.json()["status"] == denied, (method, path)
            assert site.api(None, method, path.format(cid=cid), body).status_code == 401
    assert {cid: site.order(cid) for cid in (private, public)} == before  # nothing was changed by them
    unknown = "0" * 26
    for path in (*READS, "/feeds/collections/{cid}.atom"):
        assert site.owner.get(path.format(cid=unknown)).status_code == 404  # the same answer as a private one


def test_the_owner_changes_everything_through_forms(site: Site) -> None:
    cid = site.new("Mine", papers=(LORA, STRINGS, ADAM))
    page = f"/collections/{cid}"
    done = site.form(site.owner, f"{page}/edit", name="Renamed", description="Why", public="true")
    assert done.status_code == 303 and done.headers["location"] == page
    shown = site.anon.get(page)
    assert shown.status_code == 200 and "<h1>Renamed</h1>" in shown.text and "Why" in shown.text
    assert f'<link rel="alternate" type="application/atom+xml" href="/feeds/collections/{cid}.atom"' in shown.text
    back = f"{page}#item-{STRINGS}"
    done = site.form(site.owner, f"{page}/items/{STRINGS}/note", note="read twice", next=back)
    assert done.status_code == 303 and done.headers["location"] == back
    moves = [
        (STRINGS, {"direction": "up"}, [STRINGS, LORA, ADAM]),
        (STRINGS, {"direction": "up"}, [STRINGS, LORA, ADAM]),  # already at the top
        (STRINGS, {"direction": "bottom"}, [LORA, ADAM, STRINGS]),
        (LORA, {"direction": "down"}, [ADAM, LORA, STRINGS]),
        (STRINGS, {"direction": "top"}, [STRINGS, ADAM, LORA]),
        (ADAM, {"position": "3"}, [STRINGS, LORA, ADAM]),
        (ADAM, {"position": "99"}, [STRINGS, LORA, ADAM]),
        (LORA, {"position": "1"}, [LORA, STRINGS, ADAM]),
    ]
    for paper, data, expected in moves:
        assert site.form(site.owner, f"{page}/items/{paper}/move", **data).status_code == 303
        order = site.order(cid)
        assert [(p, pos) for p, pos, _ in order] == [(p, i) for i, p in enumerate(expected)], (paper, data)
    assert dict((p, n) for p, _, n in site.order(cid))[STRINGS] == "read twice"
    assert "Say where to move the paper: &#39;direction&#39;" in site.form(site.owner, f"{page}/items/{LORA}/move").text
    assert site.form(site.owner, f"{page}/items/{LORA}/move", direction="sideways").status_code == 400
    assert site.form(site.owner, f"{page}/items/{STRINGS}/remove").status_code == 303
    assert [(p, pos) for p, pos, _ in site.order(cid)] == [(LORA, 0), (ADAM, 1)]  # the gap is closed
    assert site.form(site.owner, f"{page}/items/{STRINGS}/note", note="x").status_code == 404  # not in it now
    assert site.form(site.owner, f"{page}/items/9999.99999/remove").status_code == 404
    assert site.form(site.owner, f"{page}/items", paper="9999.99999").status_code == 404
    done = site.form(site.owner, f"{page}/delete")
    assert done.status_code == 303 and done.headers["location"] == "/collections"
    assert site.owner.get(page).status_code == 404


def test_a_form_with_a_mistake_shows_the_page_again_with_the_message(site: Site) -> None:
    cid = site.new("Limits")
    too_long = site.form(site.owner, f"/collections/{cid}/edit", name="n" * 101)
    assert too_long.status_code == 400
    assert "A collection&#39;s name can be at most 100 characters (this one has 101)." in too_long.text
    assert 'value="' + "n" * 101 + '"' in too_long.text  # what was typed is kept
    empty = site.form(site.owner, "/collections", name=" \t ")
    assert empty.status_code == 400 and "A collection needs a name (1 to 100 characters)." in empty.text
    nul = site.form(site.owner, "/collections", name=" \x00 ")  # refused before any feature sees it (issue 21)
    assert nul.status_code == 400 and "A NUL character (%00) is not allowed" in nul.text
    long_note = site.form(site.owner, f"/collections/{cid}/items/{LORA}/note", note="x" * 1001)
    assert (
        long_note.status_code == 400
        and "A note can be at most 1,000 characters (this one has 1,001)." in long_note.text
    )
    r = site.api("ann", "POST", "/api/collections", {"name": "ok", "description": "d" * 1001})
    assert r.status_code == 400
    assert r.json()["error"] == "A collection's description can be at most 1,000 characters (this one has 1,001)."
    assert site.api("ann", "POST", "/api/collections", {"name": "ok", "public": "yes"}).status_code == 400
    assert site.api("ann", "POST", "/api/collections", {"name": "ok", "owner": "bob"}).status_code == 400
    r = site.api("ann", "POST", f"/api/collections/{cid}/items", {"paper": LORA, "note": "y" * 1001})
    assert r.status_code == 400 and r.json()["error"].startswith("A note can be at most 1,000 characters")


def test_signing_in_is_needed_for_my_collections(site: Site) -> None:
    first = site.anon.get("/collections", follow_redirects=False)
    assert first.status_code == 303 and first.headers["location"] == "/login?next=/collections"
    assert site.api(None, "GET", "/api/collections").status_code == 401
    made = site.form(site.anon, "/collections", name="x")
    assert made.status_code == 303 and made.headers["location"] == "/login?next=/collections"
    cid = site.new("Visible")
    mine = site.owner.get("/collections")
    assert mine.status_code == 200 and f'href="/collections/{cid}"' in mine.text and "Visible" in mine.text
    assert '<a href="/collections">Collections</a>' in mine.text  # the header link, for signed-in users
    assert '<a href="/collections">Collections</a>' not in site.anon.get("/").text
    assert "Visible" not in site.other.get("/collections").text
    assert [c["id"] for c in site.api("ann", "GET", "/api/collections").json()["collections"]] == [cid]
    assert site.api("bob", "GET", "/api/collections").json()["collections"] == []


def test_the_save_link_and_page_work_without_javascript(site: Site) -> None:
    home = site.anon.get("/").text
    assert f'href="/collections/add?paper={LORA}&amp;next=/"' in home  # every card of every list
    assert f'href="/collections/add?paper={STRINGS}&amp;next=/"' in home  # an old id keeps its slash
    paper_page = site.anon.get(f"/papers/{ADAM}").text
    assert f'href="/collections/add?paper={ADAM}&amp;next=/papers/{ADAM}"' in paper_page
    asked = site.anon.get(f"/collections/add?paper={ADAM}&next=/")
    assert asked.status_code == 200 and "log in</a>" in asked.text and "Save here" not in asked.text
    assert site.anon.get("/collections/add?paper=9999.99999").status_code == 404
    add_page = f"/collections/add?paper={ADAM}&next=/"
    done = site.form(site.owner, "/collections", name="From the save page", paper=ADAM, next=add_page)
    assert done.status_code == 303 and done.headers["location"] == add_page
    shown = site.owner.get(add_page).text
    assert "Saved ✓" in shown and '<a href="/">← Back to where you were</a>' in shown
    other = site.new("Second", papers=())
    assert f'action="/collections/{other}/items"' in site.owner.get(add_page).text  # a "Save here" button
    assert site.form(site.owner, f"/collections/{other}/items", paper=ADAM, next=add_page).status_code == 303
    assert site.owner.get(add_page).text.count("Saved ✓") == 2
    assert site.form(site.owner, f"/collections/{other}/items/{ADAM}/remove", next=add_page).status_code == 303
    assert site.owner.get(add_page).text.count("Saved ✓") == 1
    evil = site.form(site.owner, f"/collections/{other}/items", paper=ADAM, next="//evil.example/")
    assert evil.status_code == 400 and "&#39;next&#39; must be a path on this site" in evil.text


def test_json_twins_with_api_tokens(site: Site) -> None:
    made = site.api("ann", "POST", "/api/collections", {"name": "API", "description": "d"})
    assert made.status_code == 201
    body = made.json()
    cid = body["id"]
    assert (body["name"], body["public"], body["owner"], body["size"], body["feed_url"]) == (
        "API",
        False,
        "ann",
        0,
        None,
    )
    first = site.api("ann", "POST", f"/api/collections/{cid}/items", {"paper": "2106.09685v2", "note": "n"})
    assert first.status_code == 201 and first.json()["added"] and first.json()["item"]["paper"]["id"] == LORA
    again = site.api("ann", "POST", f"/api/collections/{cid}/items", {"paper": LORA})
    assert again.status_code == 200 and again.json()["added"] is False and again.json()["item"]["note"] == "n"
    site.api("ann", "POST", f"/api/collections/{cid}/items", {"paper": STRINGS})
    moved = site.api("ann", "PATCH", f"/api/collections/{cid}/items/{STRINGS}", {"position": 0, "note": "top"})
    assert moved.status_code == 200 and moved.json()["item"]["position"] == 0
    assert site.order(cid) == [(STRINGS, 0, "top"), (LORA, 1, "n")]
    patched = site.api("ann", "PATCH", f"/api/collections/{cid}", {"public": True})
    assert patched.json()["public"] and patched.json()["feed_url"] == f"/feeds/collections/{cid}.atom"
    assert site.api(None, "GET", f"/api/collections/{cid}").json()["size"] == 2
    removed = site.api("ann", "DELETE", f"/api/collections/{cid}/items/{STRINGS}")
    assert removed.json() == {"ok": True, "removed": True}
    assert site.api("ann", "DELETE", f"/api/collections/{cid}/items/{STRINGS}").json()["removed"] is False
    assert site.api("ann", "PATCH", f"/api/collections/{cid}/items/{STRINGS}", {"note": "x"}).status_code == 404
    token = site.owner.get("/api/csrf").json()["csrf_token"]  # a session works too, with its CSRF token
    r = site.owner.patch(f"/api/collections/{cid}", json={"name": "By cookie"}, headers={"X-CSRF-Token": token})
    assert r.status_code == 200 and r.json()["name"] == "By cookie"
    assert site.owner.patch(f"/api/collections/{cid}", json={"name": "No token"}).status_code == 403
    assert site.api("ann", "DELETE", f"/api/collections/{cid}").json() == {"ok": True, "removed": None}
    assert site.api("ann", "GET", f"/api/collections/{cid}").status_code == 404


def test_hostile_names_and_notes_are_escaped_everywhere(site: Site) -> None:
    made = site.api("ann", "POST", "/api/collections", {"name": XSS_NAME, "description": XSS_DESCRIPTION})
    cid = made.json()["id"]
    site.api("ann", "PATCH", f"/api/collections/{cid}", {"public": True})
    site.api("ann", "POST", f"/api/collections/{cid}/items", {"paper": LORA, "note": XSS_NOTE})
    pages = [
        site.owner.get(f"/collections/{cid}").text,
        site.anon.get(f"/collections/{cid}").text,
        site.owner.get("/collections").text,
        site.owner.get(f"/collections/add?paper={LORA}").text,
    ]
    for text in pages:
        assert "<script>" not in text and "<img" not in text and "</textarea><" not in text
        assert escape(XSS_NAME) in text  # as Jinja writes it: &lt;script&gt;…
    assert escape(XSS_NOTE) in pages[1] and escape(XSS_DESCRIPTION) in pages[1]

    raw = site.anon.get(f"/api/collections/{cid}")
    assert raw.headers["content-type"].startswith("application/json") and raw.headers["x-content-type-options"]
    assert "<" not in raw.text and ">" not in raw.text and "\\u003cscript\\u003e" in raw.text
    data = json.loads(raw.text)
    assert (data["name"], data["description"], data["items"][0]["note"]) == (XSS_NAME, XSS_DESCRIPTION, XSS_NOTE)

    feed = site.anon.get(f"/feeds/collections/{cid}.atom")
    assert feed.status_code == 200 and feed.headers["content-type"].startswith("application/atom+xml")
    assert "<script" not in feed.text and "<img" not in feed.text and "&lt;script&gt;" in feed.text
    parsed = feedparser.parse(feed.text)
    assert not parsed.bozo, parsed.get("bozo_exception")
    assert XSS_NAME in parsed.feed.title and parsed.feed.subtitle == XSS_DESCRIPTION
    assert [e.link for e in parsed.entries] == [f"http://testserver/papers/{LORA}"]

    bib = site.anon.get(f"/collections/{cid}.bib")
    assert bib.status_code == 200 and bib.headers["content-type"].startswith("application/x-bibtex")
    assert "alert" not in bib.text and "evil" not in bib.text and 'eprint = "2106.09685"' in bib.text
    disposition = bib.headers["content-disposition"]
    assert disposition.startswith('inline; filename="') and "<" not in disposition and disposition.count('"') == 2


def test_feed_and_bibtex_follow_the_collection(site: Site) -> None:
    cid = site.new("Ordered", True, papers=(ADAM, STRINGS, LORA))
    bib = site.owner.get(f"/collections/{cid}.bib").text
    assert bib.index("1412.6980") < bib.index("hep-th/9901001") < bib.index("2106.09685")  # the owner's order
    parsed = feedparser.parse(site.anon.get(f"/feeds/collections/{cid}.atom").text)
    assert parsed.feed.title == "dailypapers: Ordered (a collection by ann)"
    assert [e.link.rsplit("/papers/", 1)[1] for e in parsed.entries] == [LORA, STRINGS, ADAM]  # newest saved first
    assert parsed.feed.link == f"http://testserver/collections/{cid}"
    assert site.api("ann", "PATCH", f"/api/collections/{cid}", {"public": False}).status_code == 200
    assert site.anon.get(f"/feeds/collections/{cid}.atom").status_code == 404  # private again: no feed
    assert 'type="application/atom+xml"' not in site.owner.get(f"/collections/{cid}").text
    empty = site.new("Empty", papers=())
    assert site.owner.get(f"/collections/{empty}.bib").text == ""


def test_a_long_collection_is_paged(site: Site, monkeypatch: pytest.MonkeyPatch) -> None:
    cid = site.new("Pages", papers=(LORA, STRINGS, ADAM))
    monkeypatch.setattr(site.lib, "config", dataclasses.replace(site.lib.config, page_size=2))
    first = site.owner.get(f"/collections/{cid}").text
    assert first.count('class="paper"') == 2 and 'rel="next"' in first
    second = site.owner.get(f"/collections/{cid}?p=2").text
    assert second.count('class="paper"') == 1 and '<span class="number">3.</span>' in second
    done = site.form(
        site.owner, f"/collections/{cid}/items/{ADAM}/move", direction="up", next=f"/collections/{cid}?p=2"
    )
    assert done.headers["location"] == f"/collections/{cid}?p=2"
    assert [p for p, _, _ in site.order(cid)] == [LORA, ADAM, STRINGS]
