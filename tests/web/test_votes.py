"""Community upvotes through the web, on each backend: votes of signed-in users, the form and JSON routes, CSRF,
redirects, the rate limit, the shared signing key and the anonymous mode, in-process and through the real server.

Each test gets a small library of its own (:func:`build_small`: three papers with imported upvotes 5, 3 and 0), so
votes never leak into the session's demo libraries.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import httpx
import pytest
from fastapi.testclient import TestClient

from dailypapers.library import SECRET_META_KEY, Library
from dailypapers.web.app import create_app
from dailypapers.web.security import signing
from dailypapers.web.security.cookies import CSRF_COOKIE, SESSION_COOKIE, VOTER_COOKIE
from tests.demo import running_server
from tests.web.conftest import assert_error_json
from tests.web.small_library import (
    ADAM,
    LORA,
    SMALL_DAY,
    STRINGS,
    api_vote,
    buttons,
    form_vote,
    sign_in,
    token_of,
)


@pytest.fixture
def web(small: Library) -> Iterator[TestClient]:
    """A browser signed in as ``ann``."""
    with TestClient(create_app(small)) as c:
        sign_in(c, small)
        yield c


def test_the_first_page_sets_an_httponly_csrf_cookie_and_no_voter(small: Library) -> None:
    with TestClient(create_app(small), base_url="https://testserver") as client:
        first = client.get("/")
        cookie = first.headers["set-cookie"]
        assert cookie.startswith(f"{CSRF_COOKIE}=") and "; HttpOnly" in cookie and "; SameSite=Lax" in cookie
        assert "; Path=/" in cookie and "; Secure" in cookie and "Max-Age=" in cookie
        assert VOTER_COOKIE not in cookie  # anonymous voters only when an admin turns them on
        assert buttons(first.text) == {LORA: (5, False), STRINGS: (3, False), ADAM: (0, False)}
        assert "set-cookie" not in client.get("/").headers  # a returning browser keeps its cookie
        assert client.get("/api/votes").json()["csrf_token"] == token_of(client)
        refused = api_vote(client, ADAM, True, token_of(client))
        assert_error_json(refused, 401, "Sign in to vote")
    with TestClient(create_app(small)) as plain:
        assert "; Secure" not in plain.get("/").headers["set-cookie"]
        assert "set-cookie" not in plain.get("/api/papers/2106.09685").headers  # the HF API sets no cookie


def test_form_vote_is_idempotent_and_goes_back(web: TestClient) -> None:
    token = token_of(web)
    back = f"/papers/date/{SMALL_DAY}?sort=upvotes#vote-{ADAM}"
    for _ in range(2):
        done = form_vote(web, ADAM, True, token, next=back)
        assert done.status_code == 303 and done.headers["location"] == back
    assert buttons(web.get(f"/papers/date/{SMALL_DAY}").text)[ADAM] == (1, True)
    page = web.get(f"/papers/{ADAM}").text
    assert buttons(page) == {ADAM: (1, True)} and 'title="Withdraw your upvote"' in page
    for _ in range(2):
        done = form_vote(web, ADAM, False, token)
        assert done.status_code == 303 and done.headers["location"] == f"/papers/{ADAM}"  # default: the paper
    assert buttons(web.get("/").text)[ADAM] == (0, False)


def test_json_vote_counts_everywhere(web: TestClient) -> None:
    token = web.get("/api/votes").json()["csrf_token"]
    assert api_vote(web, STRINGS, True, token).json() == {"ok": True, "paper": STRINGS, "upvotes": 4, "voted": True}
    assert api_vote(web, STRINGS, True, token).json()["upvotes"] == 4
    with TestClient(web.app) as other:  # a second voter
        sign_in(other, web.app.state.library, "bob")
        assert api_vote(other, STRINGS, True, other.get("/api/votes").json()["csrf_token"]).json()["upvotes"] == 5
        assert api_vote(other, "2106.09685v2", True, token_of(other)).json()["paper"] == LORA  # versioned id
    assert web.get(f"/api/papers/{STRINGS}").json()["upvotes"] == 5
    day = web.get(f"/api/days/{SMALL_DAY}", params={"sort": "upvotes"}).json()
    assert [(p["id"], p["upvotes"]) for p in day["papers"]] == [(LORA, 6), (STRINGS, 5), (ADAM, 0)]
    trending = web.get("/api/daily_papers", params={"sort": "trending", "date": str(SMALL_DAY)}).json()
    assert {item["paper"]["id"]: item["upvotes"] for item in trending} == {LORA: 6, STRINGS: 5, ADAM: 0}
    assert web.get(f"/api/similar/{STRINGS}").json()["paper"]["upvotes"] == 5
    assert buttons(web.get("/").text) == {LORA: (6, False), STRINGS: (5, True), ADAM: (0, False)}
    assert api_vote(web, STRINGS, False, token).json() == {"ok": True, "paper": STRINGS, "upvotes": 4, "voted": False}
    assert api_vote(web, STRINGS, False, token).json()["upvotes"] == 4


@pytest.mark.parametrize(
    "case", ["no token", "wrong token", "another user's token", "no cookie", "foreign origin", "null origin"]
)
def test_json_votes_need_the_csrf_token(web: TestClient, case: str) -> None:
    token = token_of(web)
    headers: dict[str, str] = {}
    if case == "no token":
        token = None  # type: ignore[assignment]
    elif case == "wrong token":
        token = token[:-3] + "abc"
    elif case == "another user's token":
        with TestClient(web.app) as other:
            token = token_of(sign_in(other, web.app.state.library, "bob"))
    elif case == "no cookie":
        web.cookies.clear()
    else:
        headers["Origin"] = "https://evil.example" if case == "foreign origin" else "null"
    assert_error_json(api_vote(web, LORA, True, token, **headers), 403)
    assert web.get(f"/api/papers/{LORA}").json()["upvotes"] == 5


def test_form_votes_need_the_csrf_token(web: TestClient) -> None:
    token = token_of(web)
    for bad in ("", token[::-1]):
        refused = form_vote(web, LORA, True, bad)
        assert refused.status_code == 403 and "text/html" in refused.headers["content-type"]
        assert "CSRF token is missing or wrong" in refused.text
    refused = web.post(
        f"/papers/{LORA}/vote",
        data={"up": "true", "csrf_token": token},
        headers={"Referer": "https://evil.example/page"},
        follow_redirects=False,
    )
    assert refused.status_code == 403
    ok = form_vote(web, LORA, True, token, next="/")
    assert ok.status_code == 303  # the same request from this site is fine
    same_origin = api_vote(web, LORA, False, token, Origin="http://testserver")
    assert same_origin.status_code == 200 and same_origin.json()["upvotes"] == 5


def test_json_votes_must_be_json(web: TestClient) -> None:
    token = token_of(web)
    sent = web.post(f"/api/votes/{LORA}", content=b'{"up": true}', headers={"X-CSRF-Token": token})
    assert_error_json(sent, 415, "application/json")
    as_form = web.post(f"/api/votes/{LORA}", data={"up": "true"}, headers={"X-CSRF-Token": token})
    assert_error_json(as_form, 415)
    assert_error_json(api_vote(web, LORA, "yes", token), 400, "'up'")  # type: ignore[arg-type]


def test_unknown_paper_is_404(web: TestClient) -> None:
    token = token_of(web)
    assert_error_json(api_vote(web, "9999.99999", True, token), 404, "9999.99999")
    page = form_vote(web, "9999.99999", True, token)
    assert page.status_code == 404 and "text/html" in page.headers["content-type"]


@pytest.mark.parametrize(
    "target",
    [
        "https://evil.example/",
        "//evil.example/papers",
        "/\\evil.example",
        "\\\\evil.example",
        "javascript:alert(1)",
        "http:/evil.example",
        "papers/date",
        "/ok\r\nSet-Cookie: a=b",
    ],
)
def test_no_open_redirect(web: TestClient, target: str) -> None:
    refused = form_vote(web, ADAM, True, token_of(web), next=target)
    assert refused.status_code == 400 and "location" not in refused.headers
    assert "&#39;next&#39; must be a path on this site" in refused.text
    assert web.get(f"/api/papers/{ADAM}").json()["upvotes"] == 0  # nothing was recorded


def test_rate_limit(small: Library) -> None:
    strict = Library(dataclasses.replace(small.config, vote_rate_limit=2), store=small.store)
    with TestClient(create_app(strict)) as client:
        token = token_of(sign_in(client, strict))
        assert [api_vote(client, ADAM, up, token).status_code for up in (True, False)] == [200, 200]
        limited = api_vote(client, ADAM, True, token)
        assert_error_json(limited, 429, "Too many votes")
        assert 1 <= int(limited.headers["retry-after"]) <= 60
        with TestClient(create_app(strict)) as other:  # other voters are not held up
            sign_in(other, strict, "bob")
            assert api_vote(other, ADAM, True, token_of(other)).status_code == 200


def test_anonymous_voters_are_also_limited_per_address(small: Library) -> None:
    """A script renews its anonymous cookie at will; the address it votes from is counted as well."""
    config = dataclasses.replace(small.config, vote_rate_limit=2, anonymous_votes=True)
    strict = Library(config, store=small.store)
    with TestClient(create_app(strict)) as client:
        for paper in (ADAM, LORA):
            client.cookies.clear()  # a fresh anonymous voter each time
            assert api_vote(client, paper, True, token_of(client)).status_code == 200
        client.cookies.clear()
        assert_error_json(api_vote(client, STRINGS, True, token_of(client)), 429, "votes from this address")
        sign_in(client, strict)  # a signed-in user is counted per account, not per address
        assert api_vote(client, STRINGS, True, token_of(client)).status_code == 200


def test_the_signing_key_is_shared_through_the_database(small: Library) -> None:
    key = small.secret_key
    assert len(key) >= 32 and small.store.meta.get(SECRET_META_KEY) == key
    again = Library(small.config, store=small.store)
    assert again.secret_key == key  # another worker or machine: the same key, never a default
    configured = Library(dataclasses.replace(small.config, secret_key="k" * 32), store=small.store)
    assert configured.secret_key == "k" * 32
    anonymous = Library(dataclasses.replace(configured.config, anonymous_votes=True), store=small.store)
    with TestClient(create_app(small)) as a, TestClient(create_app(anonymous)) as b:
        token = token_of(sign_in(a, small))
        for name in (CSRF_COOKIE, SESSION_COOKIE):
            b.cookies.set(name, a.cookies[name])  # the session is valid anywhere; the CSRF token, signed with
        assert_error_json(api_vote(b, ADAM, True, token), 403)  # another key, is not
        b.cookies.clear()
        b.cookies.set(VOTER_COOKIE, signing.sign("k" * 32, "voter", "someone"))  # an anonymous voter of key k
        assert api_vote(b, ADAM, True, token_of(b)).json()["upvotes"] == 1
        assert small.votes.voted("someone", [p.pk or 0 for p in small.store.iter_papers()])
        b.cookies.set(VOTER_COOKIE, signing.sign("another key, 32 characters long!", "voter", "forged"))
        b.cookies.delete(CSRF_COOKIE)
        assert api_vote(b, ADAM, True, token_of(b)).json()["upvotes"] == 2  # a forged cookie: a new voter


def test_votes_over_http(small: Library) -> None:
    with running_server(small.config) as base, httpx.Client(base_url=base, timeout=60) as http:
        token = token_of(sign_in(http, small))
        assert http.cookies.get(SESSION_COOKIE)
        done = form_vote(http, STRINGS, True, token, next=f"/papers/{STRINGS}")
        assert done.status_code == 303 and done.headers["location"] == f"/papers/{STRINGS}"
        assert buttons(http.get(done.headers["location"]).text) == {STRINGS: (4, True)}
        assert api_vote(http, STRINGS, True, token).json()["upvotes"] == 4
        assert_error_json(api_vote(http, STRINGS, False, None), 403)
        assert api_vote(http, STRINGS, False, token).json() == {
            "ok": True,
            "paper": STRINGS,
            "upvotes": 3,
            "voted": False,
        }


def test_odd_tokens_and_cookies_are_refused_not_errors(web: TestClient) -> None:
    token_of(web)
    assert form_vote(web, ADAM, True, "t\u00e9st \u2713").status_code == 403
    odd = {b"X-CSRF-Token": "t\u00e9st".encode("latin-1")}
    assert_error_json(web.post(f"/api/votes/{ADAM}", json={"up": True}, headers=odd), 403)
    web.cookies.clear()
    odd = {b"X-CSRF-Token": b"x", b"Cookie": f"{CSRF_COOKIE}=value\u00e9".encode("latin-1")}
    assert_error_json(web.post(f"/api/votes/{ADAM}", json={"up": True}, headers=odd), 403)
