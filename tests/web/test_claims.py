"""Authorship claims and public profiles through the web, on each backend: the claim form of a paper's page, the
admins' review page, approve / reject / withdraw, and what each user may see and do — every route that takes a
claim id answers 404 to a user who may not act on it, whether the id exists or not.

Users: ``root`` (the first account: an admin), ``ann`` and ``bob`` (members), each in a browser of their own.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from dailypapers.library import Library
from dailypapers.web.app import create_app
from tests.web.conftest import assert_error_json
from tests.web.small_library import sign_in, token_of
from tests.web.test_authors import authored  # noqa: F401  (the fixture: a library of papers with authors)

PAPER = "2401.00002"  # by Charles Babbage, Ada Lovelace and Zoë Müller
_WITHDRAW = re.compile(r'action="/claims/([0-9a-f]+)/withdraw"')
_APPROVE = re.compile(r'action="/claims/([0-9a-f]+)/approve"')


@pytest.fixture
def browsers(authored: Library) -> Iterator[dict[str, TestClient]]:  # noqa: F811
    """A signed-in browser per user (root first: the first account is the admin), and an anonymous one."""
    app = create_app(authored)
    clients = {name: TestClient(app) for name in ("root", "ann", "bob", "anon")}
    for name in ("root", "ann", "bob"):
        sign_in(clients[name], authored, name)
    yield clients
    for c in clients.values():
        c.close()


def claim(client: TestClient, author: str, paper: str = PAPER, **extra: str) -> Any:
    data = {"author_name": author, "csrf_token": token_of(client, f"/papers/{paper}"), **extra}
    return client.post(f"/papers/{paper}/claim", data=data, follow_redirects=False)


def post(client: TestClient, path: str, **data: str) -> Any:
    return client.post(path, data={"csrf_token": token_of(client, "/"), **data}, follow_redirects=False)


def claim_id(client: TestClient) -> str:
    found = _WITHDRAW.search(client.get(f"/papers/{PAPER}").text)
    assert found, "no pending claim of mine on the page"
    return found.group(1)


def test_claim_approve_and_show_on_the_profile_and_the_paper(browsers: dict[str, TestClient]) -> None:
    ann, root = browsers["ann"], browsers["root"]
    form = ann.get(f"/papers/{PAPER}").text
    assert '<form method="post" action="/papers/2401.00002/claim"' in form
    assert '<option value="Zoë Müller">Zoë Müller</option>' in form
    done = claim(ann, "Ada Lovelace")
    assert done.status_code == 303 and done.headers["location"] == f"/papers/{PAPER}#claim"
    page = ann.get(f"/papers/{PAPER}").text
    assert 'Your claim to be <strong>Ada Lovelace</strong> is <span class="status status-pending">pending' in page
    assert "Claimed by" not in page and "/users/ann" not in browsers["bob"].get(f"/papers/{PAPER}").text
    review = root.get("/claims")
    assert review.status_code == 200 and "<strong>1 pending claim</strong>" in review.text
    (cid,) = _APPROVE.findall(review.text)
    assert cid == claim_id(ann)
    approved = post(root, f"/claims/{cid}/approve")
    assert approved.status_code == 303 and approved.headers["location"] == "/claims"
    assert "No claims are waiting." in root.get("/claims").text
    for viewer in browsers.values():  # everybody sees it now, signed in or not
        assert 'Claimed by <a href="/users/ann">ann</a> (as Ada Lovelace)' in viewer.get(f"/papers/{PAPER}").text
        profile = viewer.get("/users/ann")
        assert profile.status_code == 200 and '<a href="/papers/2401.00002">Newest Engine</a>' in profile.text
    data = browsers["anon"].get("/api/users/ann").json()
    assert (data["username"], data["total"], [p["id"] for p in data["papers"]]) == ("ann", 1, [PAPER])
    assert set(data) == {"username", "joined", "total", "page", "page_size", "has_next", "papers"}  # no email, role
    assert post(root, f"/claims/{cid}/reject").status_code == 409  # decided once


def test_a_claim_names_an_author_once_and_needs_an_account(browsers: dict[str, TestClient]) -> None:
    ann, anon = browsers["ann"], browsers["anon"]
    refused = claim(ann, "Ashish Vaswani")
    assert refused.status_code == 400 and "is not an author of this paper" in refused.text
    assert claim(ann, "X" * 1500).status_code == 400  # over the length limit: the message says so
    assert "at most 1000 characters" in claim(ann, "X" * 1500).text
    assert claim(ann, "Zoë Müller").status_code == 303
    again = claim(ann, "Charles Babbage")
    assert again.status_code == 409 and "claimed this paper already" in again.text
    visitor = claim(anon, "Ada Lovelace")
    assert visitor.status_code == 303 and visitor.headers["location"] == f"/login?next=/papers/{PAPER}"
    assert "Log in</a> to claim this paper" in anon.get(f"/papers/{PAPER}").text
    assert claim(ann, "Ada Lovelace", paper="2401.99999").status_code == 404
    forged = ann.post(f"/papers/{PAPER}/claim", data={"author_name": "Ada Lovelace"}, follow_redirects=False)
    assert forged.status_code == 403 and "CSRF token is missing or wrong" in forged.text
    assert claim(ann, "Ada Lovelace", next="https://evil.example/").status_code == 400


def test_only_an_admin_reviews_and_decides(browsers: dict[str, TestClient]) -> None:
    ann, bob, root, anon = browsers["ann"], browsers["bob"], browsers["root"], browsers["anon"]
    claim(ann, "Ada Lovelace")
    cid = claim_id(ann)
    assert bob.get("/claims").status_code == 403  # the page exists, and is not theirs
    assert anon.get("/claims", follow_redirects=False).headers["location"] == "/login?next=/claims"
    for member in (ann, bob):  # a real id and a made-up one: the same 404
        for some_id in (cid, "0" * 26):
            for action in ("approve", "reject"):
                r = post(member, f"/claims/{some_id}/{action}")
                assert r.status_code == 404 and "There is no such claim." in r.text, (action, r.text[:200])
    assert post(anon, f"/claims/{cid}/approve").status_code == 401
    assert post(root, f"/claims/{'0' * 26}/approve").status_code == 404
    assert "<strong>1 pending claim</strong>" in root.get("/claims").text  # still pending
    assert post(root, f"/claims/{cid}/reject").status_code == 303
    assert 'is <span class="status status-rejected">rejected' in ann.get(f"/papers/{PAPER}").text
    assert "Claimed by" not in ann.get(f"/papers/{PAPER}").text


def test_withdraw_own_pending_claims_only(browsers: dict[str, TestClient], authored: Library) -> None:  # noqa: F811
    ann, bob, root = browsers["ann"], browsers["bob"], browsers["root"]
    claim(ann, "Ada Lovelace")
    cid = claim_id(ann)
    for other in (bob, root):  # another user's claim id is no claim of theirs: 404, even for the admin
        r = post(other, f"/claims/{cid}/withdraw")
        assert r.status_code == 404 and "There is no such claim." in r.text
    mine = ann.get("/users/ann").text
    assert f'action="/claims/{cid}/withdraw"' in mine and "Your authorship claims" in mine
    assert "Your authorship claims" not in bob.get("/users/ann").text  # only the owner sees pending claims
    done = post(ann, f"/claims/{cid}/withdraw", next="/users/ann#claims")
    assert done.status_code == 303 and done.headers["location"] == "/users/ann#claims"
    assert post(ann, f"/claims/{cid}/withdraw").status_code == 404  # gone
    assert authored.claims.claims_of(authored.accounts.get("ann").id) == []
    claim(ann, "Ada Lovelace")
    cid = claim_id(ann)
    assert post(root, f"/claims/{cid}/approve").status_code == 303
    assert post(ann, f"/claims/{cid}/withdraw").status_code == 409  # decided: no longer withdrawn


def test_profiles_of_unknown_disabled_or_emailed_users_are_404(
    browsers: dict[str, TestClient],
    authored: Library,  # noqa: F811
) -> None:
    anon = browsers["anon"]
    page = anon.get("/users/bob")
    assert page.status_code == 200 and "No claimed papers yet." in page.text and "bob@example.org" not in page.text
    assert anon.get("/users/BOB").status_code == 200  # usernames are stored lower-case
    for missing in ("nobody", "bob@example.org"):  # the accounts service finds users by email too: not here
        assert anon.get(f"/users/{missing}").status_code == 404
        assert_error_json(anon.get(f"/api/users/{missing}"), 404, "There is no user")
    authored.accounts.set_disabled(authored.accounts.get("bob"))
    assert anon.get("/users/bob").status_code == 404
    assert_error_json(anon.get("/api/users/bob"), 404)
