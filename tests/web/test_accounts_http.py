"""Accounts through the real server (and in-process), on both backends: sign up, log in, sessions, tokens, votes
that belong to users, rate limits shared by two server processes on one database, sign-up refusals that tell
nobody who has an account, weak passwords refused, and tokens revoked by a password change."""

from __future__ import annotations

import dataclasses
import re
from datetime import date

import httpx
import pytest
from fastapi.testclient import TestClient

from dailypapers.config import Config
from dailypapers.library import Library
from dailypapers.papers.models import make_paper
from dailypapers.web.app import create_app
from tests.demo import running_server
from tests.web.small_library import token_of

PASSWORD = "correct horse battery"
PAPER = "2401.00001"


def _library(config: Config, *users: str) -> None:
    lib = Library(config)
    lib.init()
    lib.ingest([make_paper(source="jsonl", arxiv_id=PAPER, title="Sparse attention for long documents",
                           abstract="We study sparse attention.", added_at=date(2024, 1, 8))], index=False)  # fmt: skip
    for name in users:
        lib.accounts.create_user(name, f"{name}@example.org", PASSWORD)
    lib.close()


def _log_in(client: httpx.Client, login: str, password: str = PASSWORD) -> httpx.Response:
    token = token_of(client, "/login")
    return client.post("/login", data={"login": login, "password": password, "csrf_token": token})


def _upvotes(client: httpx.Client) -> int:
    return int(client.get(f"/api/papers/{PAPER}").json()["upvotes"])


def test_sign_up_log_in_tokens_and_log_out(db_config: Config) -> None:
    _library(db_config)
    with running_server(db_config) as base, httpx.Client(base_url=base, timeout=30) as browser:
        token = token_of(browser, "/signup")
        r = browser.post(
            "/signup", data={"username": "Ada", "email": "ada@example.org", "password": PASSWORD, "csrf_token": token}
        )
        assert r.status_code == 303 and r.headers["location"] == "/account/interests?welcome=1"  # the cold start
        cookie = r.headers["set-cookie"]
        assert "dp_session=" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
        first_session = browser.cookies["dp_session"]
        account = browser.get("/account")
        assert account.status_code == 200 and "ada@example.org" in account.text and "admin" in account.text

        r = _log_in(browser, "ada")  # logging in again rotates the session: the old id is worth nothing
        assert r.status_code == 303 and browser.cookies["dp_session"] != first_session
        stale = httpx.get(base + "/api/me", cookies={"dp_session": first_session}).json()
        assert stale["user"] is None

        token = token_of(browser, "/account")
        page = browser.post("/account/tokens", data={"name": "curl", "csrf_token": token})
        secret = re.search(r'<code id="new-token">(dp_[^<]+)</code>', page.text)
        assert page.status_code == 200 and secret
        bearer = {"Authorization": f"Bearer {secret.group(1)}"}
        r = httpx.post(base + f"/api/votes/{PAPER}", json={"up": True}, headers=bearer)
        assert r.status_code == 200 and r.json()["upvotes"] == 1
        assert "curl" in browser.get("/account").text and secret.group(1) not in browser.get("/account").text

        token_id = browser.get("/api/tokens").json()["tokens"][0]["id"]
        csrf = browser.get("/api/me").json()["csrf_token"]
        assert browser.delete(f"/api/tokens/{token_id}", headers={"X-CSRF-Token": csrf}).status_code == 200
        assert httpx.get(base + "/api/me", headers=bearer).status_code == 401

        session = browser.cookies["dp_session"]
        assert browser.post("/logout", data={"csrf_token": token_of(browser, "/")}).status_code == 303
        assert httpx.get(base + "/api/me", cookies={"dp_session": session}).json()["user"] is None


def test_wrong_passwords_and_taken_names_show_the_form_again(db_config: Config) -> None:
    _library(db_config, "ada")
    with running_server(db_config) as base, httpx.Client(base_url=base, timeout=30) as browser:
        r = _log_in(browser, "ada", "not the password")
        assert r.status_code == 403 and "Wrong username or password." in r.text and 'value="ada"' in r.text
        assert "not the password" not in r.text
        token = token_of(browser, "/signup")
        r = browser.post("/signup", data={"username": "x", "email": "x@example.org", "password": PASSWORD,
                                          "csrf_token": token})  # fmt: skip
        assert r.status_code == 403 and "invite" in r.text  # invite-only by default, and a user exists


def test_a_vote_needs_a_user_so_fresh_cookies_inflate_nothing(db_config: Config) -> None:
    _library(db_config, "ada")
    with running_server(db_config) as base:
        for _ in range(10):  # today's attack: a new cookie (and CSRF token) per vote
            with httpx.Client(base_url=base, timeout=30) as fresh:
                csrf = fresh.get("/api/csrf").json()["csrf_token"]
                r = fresh.post(f"/api/votes/{PAPER}", json={"up": True}, headers={"X-CSRF-Token": csrf})
                assert r.status_code == 401 and "Sign in to vote" in r.json()["error"]
                form = fresh.post(f"/papers/{PAPER}/vote", data={"up": "true", "csrf_token": csrf})
                assert form.status_code == 303 and form.headers["location"].startswith("/login?next=")
        with httpx.Client(base_url=base, timeout=30) as ada:
            assert _upvotes(ada) == 0
            _log_in(ada, "ada")
            csrf = ada.get("/api/me").json()["csrf_token"]
            for _ in range(3):  # one vote per user per paper, however often it is cast
                r = ada.post(f"/api/votes/{PAPER}", json={"up": True}, headers={"X-CSRF-Token": csrf})
                assert r.status_code == 200 and r.json()["upvotes"] == 1
            assert _upvotes(ada) == 1


def test_anonymous_votes_only_when_an_admin_turns_them_on(db_config: Config) -> None:
    _library(db_config)
    env = {"DAILYPAPERS_ANONYMOUS_VOTES": "true"}
    with running_server(db_config, env=env) as base, httpx.Client(base_url=base, timeout=30) as visitor:
        csrf = visitor.get("/api/csrf").json()["csrf_token"]
        r = visitor.post(f"/api/votes/{PAPER}", json={"up": True}, headers={"X-CSRF-Token": csrf})
        assert r.status_code == 200 and r.json()["upvotes"] == 1 and "dp_voter" in visitor.cookies


@pytest.mark.slow
def test_rate_limits_are_shared_by_two_servers(db_config: Config) -> None:
    _library(db_config, "ada")
    env = {"DAILYPAPERS_LOGIN_RATE_LIMIT": "4/minute"}
    with running_server(db_config, env=env) as a, running_server(db_config, env=env) as b:
        statuses = []
        for base in (a, b, a, b, a, b):
            with httpx.Client(base_url=base, timeout=30) as client:
                statuses.append(_log_in(client, "ada", "wrong password").status_code)
        assert statuses == [403, 403, 403, 403, 429, 429]  # 4 allowed between the two, not 4 each


def _client(config: Config, **settings: str) -> TestClient:
    """An in-process browser on a library of ``config`` (with ``settings`` changed)."""
    return TestClient(create_app(Library(dataclasses.replace(config, **settings))), follow_redirects=False)


def _error(page: httpx.Response) -> str:
    found = re.search(r'<p class="form-error" role="alert">([^<]*)</p>', page.text)
    return found.group(1) if found else ""


def test_sign_up_answers_alike_whether_an_address_has_an_account_or_not(db_config: Config) -> None:
    """Issue 21 #14: with a made-up invite, a taken address got 409 "That email is taken" and a new one 403, so
    anyone could learn who has an account here. Without a valid invite every refusal is the same 403."""
    _library(db_config, "ada")
    with _client(db_config) as browser:
        answers = set()
        for username, email in [("newbie", "ada@example.org"), ("ada", "new@example.org"), ("newbie", "new@x.org")]:
            data = {"username": username, "email": email, "password": PASSWORD, "invite": "made-up"}
            r = browser.post("/signup", data={**data, "csrf_token": token_of(browser, "/signup")})
            answers.add((r.status_code, _error(r)))
        assert answers == {(403, "That invite is unknown, used or expired; ask an admin for a new one.")}


@pytest.mark.parametrize(
    ("password", "why"),
    [
        ("password", "too easy to guess: This is a top-10 common password."),
        ("12345678", "too easy to guess: This is a top-10 common password."),
        ("        ", "too easy to guess: Repeats like &#34;aaa&#34; are easy to guess."),
        ("ada@example.org", "A password must not be the email address."),
        ("ADA@example.org1", "too easy to guess"),  # derived from the address: zxcvbn gets it as context
    ],
)
def test_weak_passwords_are_refused_with_the_reason(db_config: Config, password: str, why: str) -> None:
    """Issue 21 #15: common passwords, eight spaces and the account's own address were accepted."""
    _library(db_config, "root")
    with _client(db_config, signup="open") as browser:
        data = {"username": "ada", "email": "ada@example.org", "password": password}
        r = browser.post("/signup", data={**data, "csrf_token": token_of(browser, "/signup")})
        assert r.status_code == 400 and why in _error(r), _error(r)
        good = browser.post("/signup", data={**data, "password": PASSWORD, "csrf_token": token_of(browser, "/signup")})
        assert good.status_code == 303
        r = browser.post("/account/password", data={"current": PASSWORD, "new": password,
                                                     "csrf_token": token_of(browser, "/account")})  # fmt: skip
        assert r.status_code == 400 and why in _error(r), _error(r)
        assert _log_in(browser, "ada").status_code == 303  # the old password still holds


def test_a_password_change_revokes_every_api_token(db_config: Config) -> None:
    """Issue 21 #22: a token made before a password change (by someone who had the old password) kept working."""
    _library(db_config, "ada")
    with _client(db_config) as browser:
        assert _log_in(browser, "ada").status_code == 303
        account = browser.get("/account").text
        assert "Changing the password also revokes every API token" in account  # said before the change
        page = browser.post("/account/tokens", data={"name": "curl", "csrf_token": token_of(browser, "/account")})
        secret = re.search(r'<code id="new-token">(dp_[^<]+)</code>', page.text)
        assert secret
        bearer = {"Authorization": f"Bearer {secret.group(1)}"}
        assert browser.get("/api/me", headers=bearer).json()["user"]["username"] == "ada"
        done = browser.post("/account/password", data={"current": PASSWORD, "new": "a fresh pass phrase",
                                                       "csrf_token": token_of(browser, "/account")})  # fmt: skip
        assert done.status_code == 200 and "1 API token was revoked" in done.text
        assert browser.get("/api/me", headers=bearer).status_code == 401
        assert browser.get("/api/tokens").json()["tokens"][0]["revoked_at"] is not None
        assert browser.get("/api/me").json()["user"]["username"] == "ada"  # this session stays
