"""Password guessing is limited without locking the owner out (issue 21 #13), through the app on both backends:
wrong passwords count per (account, client) and per account from unknown clients; the username and the email of
one account share the count; the owner's browser, known by the cookie set at their last log-in, is never refused
their right password because of a stranger's guesses — from the attacker's own address neither."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import httpx
import pytest
from fastapi.testclient import TestClient

from dailypapers.config import Config
from dailypapers.library import Library
from tests.web.account_mail import app_of
from tests.web.small_library import token_of

PASSWORD = "correct horse battery"


@pytest.fixture
def lib(db_config: Config) -> Iterator[Library]:
    """Default login limits (5/minute per account and client, 10/minute per account from unknown clients), and a
    per-address limit out of the way (every in-process client of one test shares an address)."""
    library = Library(dataclasses.replace(db_config, login_rate_limit="1000/minute"))
    library.init()
    library.accounts.create_user("ann", "ann@example.org", PASSWORD)  # the first account: an admin
    yield library
    library.close()


def browser(lib: Library, address: str = "203.0.113.7") -> TestClient:
    return TestClient(app_of(lib), follow_redirects=False, client=(address, 40000))


def log_in(client: TestClient, login: str, password: str) -> httpx.Response:
    return client.post("/login", data={"login": login, "password": password, "csrf_token": token_of(client, "/login")})


def test_a_strangers_wrong_passwords_do_not_lock_the_owner_out(lib: Library) -> None:
    owner = browser(lib)  # the owner and the attacker even share an address (one office, one NAT)
    assert log_in(owner, "ann", PASSWORD).status_code == 303 and owner.cookies.get("dp_device")
    owner.post("/logout", data={"csrf_token": token_of(owner, "/account")})

    attacker = browser(lib)
    statuses = [log_in(attacker, login, "wrong guess") for login in ["ann", "ann@example.org"] * 6]
    assert [r.status_code for r in statuses] == [403] * 5 + [429] * 7  # username and email: one count
    assert "Retry-After" in statuses[-1].headers and "Too many wrong passwords" in statuses[-1].text
    assert log_in(attacker, "ann", PASSWORD).status_code == 429  # refused even the right one: slowed down

    assert log_in(owner, "ann", PASSWORD).status_code == 303  # the owner's usual browser gets in
    assert owner.get("/api/me").json()["user"]["username"] == "ann"


def test_guesses_from_many_addresses_are_refused_but_not_to_the_owner(lib: Library) -> None:
    owner = browser(lib, "198.51.100.1")
    assert log_in(owner, "ann@example.org", PASSWORD).status_code == 303  # the device cookie is the account's
    statuses = [log_in(browser(lib, f"10.0.0.{n}"), "ann", "wrong guess").status_code for n in range(12)]
    assert statuses == [403] * 10 + [429] * 2  # every client had one guess; the account took 10 from strangers
    assert log_in(browser(lib, "10.0.1.1"), "ann", PASSWORD).status_code == 429  # an unknown client: slowed
    assert log_in(owner, "ann", PASSWORD).status_code == 303  # the known browser: in
    wrong = [log_in(owner, "ann", "my own typo").status_code for _ in range(6)]
    assert wrong == [403] * 5 + [429]  # the known browser has its own limit, like any client


def test_a_forged_or_foreign_device_cookie_counts_as_a_stranger(lib: Library) -> None:
    lib.accounts.create_user("bob", "bob@example.org", PASSWORD)
    bob = browser(lib, "198.51.100.2")
    assert log_in(bob, "bob", PASSWORD).status_code == 303  # bob's cookie vouches for bob, not for ann
    for n in range(10):
        log_in(browser(lib, f"10.0.0.{n}"), "ann", "wrong guess")
    assert log_in(bob, "ann", "wrong guess").status_code == 429
    forged = browser(lib, "198.51.100.3")
    forged.cookies.set("dp_device", f"{lib.accounts.get('ann').id}.made-up")
    assert log_in(forged, "ann", PASSWORD).status_code == 429
