"""Who owns an address's digest subscription, through the app on both backends with a real SMTP server: the
takeover of issue 21 #12 tried step by step (it fails now: an unverified account owns nothing, and the mailbox's
owner takes the account over by a reset link), and encoded-word spellings of one mailbox (#17), which are refused
and earn no extra mail."""

from __future__ import annotations

import pytest

from dailypapers.library import Library
from tests.mail.smtp_server import SmtpServer
from tests.web.account_mail import (
    NEW_PASSWORD,
    browser,
    error_of,
    hidden_token,
    lib_fixture,  # noqa: F401  (the fixture `lib`)
    link_in,
    mails,
    post,
    sign_up,
    smtp_fixture,  # noqa: F401  (the fixture `smtp`)
)

VICTIM = "vict1550@example.org"
PREFERENCES = {"frequency": "daily", "time_zone": "UTC", "send_hour": "7"}


def _subscribe(client: object, email: str, sections: list[str]) -> object:
    return post(client, "/subscribe", "/subscribe", email=email, sections=sections, **PREFERENCES)  # type: ignore[arg-type]


def test_a_stranger_signed_up_with_my_address_never_gets_my_subscription(lib: Library, smtp: SmtpServer) -> None:
    victim = browser(lib)
    assert _subscribe(victim, VICTIM, ["trending"]).status_code == 200  # 1. the victim's own pending subscription
    # 2. the attacker signs up with the victim's address (unverified: the link goes to the victim) ...
    attacker = sign_up(lib, "mallory", VICTIM)
    # 3. ... and, signed in, subscribes that address, asking for the sections that carry their own text
    assert _subscribe(attacker, VICTIM, ["trending", "saved"]).status_code == 200
    saved = post(attacker, "/saved-searches", "/subscribe", q="attention", name="Mallory was here")
    assert saved.status_code == 303
    received = mails(lib, smtp, 2)  # the confirmation and the verification link, both to the victim; no more
    assert all(m.rcpt_tos == [VICTIM] for m in received)
    confirm = next(m for m in received if "/subscribe/confirm" in link_in(m))

    # 4. the victim confirms their subscription
    page = victim.get(link_in(confirm))
    assert post(victim, "/subscribe/confirm", "/subscribe", token=hidden_token(page)).status_code == 200
    [sub] = lib.subscriptions.active()
    assert sub.email == VICTIM and sub.user_id is None  # nobody's account: the attacker proved nothing

    # 5. the attacker can neither read nor change it, so no text of theirs reaches the victim's digest
    assert attacker.get("/account/subscription").headers["location"] == "/subscribe"
    assert attacker.get("/api/subscriptions/me").json() == {"subscription": None}
    csrf = attacker.get("/api/csrf").json()["csrf_token"]
    patched = attacker.patch("/api/subscriptions/me", json={"sections": ["saved"]}, headers={"X-CSRF-Token": csrf})
    assert patched.status_code == 400
    assert lib.subscriptions.get(sub.id).user_id is None  # type: ignore[union-attr]  (no saved search of theirs)

    # 6. the mailbox's owner takes the account over with a reset link, and with it the subscription
    post(browser(lib), "/password/forgot", "/password/forgot", email=VICTIM)
    reset = mails(lib, smtp, 3)[2]
    form = victim.get(link_in(reset))
    done = post(victim, "/password/reset", "/password/forgot", token=hidden_token(form), password=NEW_PASSWORD)
    assert done.status_code == 200, error_of(done)
    assert attacker.get("/api/me").json()["user"] is None  # the attacker's session ended
    owner = lib.accounts.get(VICTIM)
    assert owner.email_verified and lib.subscriptions.for_user(owner.id) == lib.subscriptions.get(sub.id)


def test_a_verified_account_owns_the_subscription_of_its_address(lib: Library, smtp: SmtpServer) -> None:
    ann = sign_up(lib, "ann", "ann@example.org")
    _subscribe(ann, "ann@example.org", ["trending"])
    assert lib.subscriptions.for_user(lib.accounts.get("ann").id) is None  # not before the address is proven
    verify = next(m for m in mails(lib, smtp, 2) if "/account/email/verify" in link_in(m))
    page = ann.get(link_in(verify))
    assert post(ann, "/account/email/verify", "/subscribe", token=hidden_token(page)).status_code == 200
    mine = lib.subscriptions.for_user(lib.accounts.get("ann").id)
    assert mine is not None and mine.email == "ann@example.org"  # proving the mailbox claimed it
    assert ann.get("/api/subscriptions/me").json()["subscription"]["email"] == "ann@example.org"


@pytest.mark.parametrize("spelling", ["=?utf-8?q?vict1550?=@example.org", "=?UTF-8?B?dmljdDE1NTA=?=@example.org"])
def test_encoded_word_spellings_are_refused(lib: Library, smtp: SmtpServer, spelling: str) -> None:
    page = _subscribe(browser(lib), spelling, ["trending"])
    assert page.status_code == 400 and "encoded word" in error_of(page)  # type: ignore[arg-type]
    signup = post(browser(lib), "/signup", "/signup", username="eve", email=spelling, password=NEW_PASSWORD)
    assert signup.status_code == 400 and "encoded word" in error_of(signup)
    assert lib.outbox.recent() == []


def test_one_confirmation_an_hour_per_mailbox_whatever_the_spelling(lib: Library, smtp: SmtpServer) -> None:
    spellings = [VICTIM, "Vict1550@example.org", "VICT1550@EXAMPLE.ORG", " vict1550@Example.Org"]
    for spelling in spellings:
        assert _subscribe(browser(lib), spelling, ["trending"]).status_code == 200  # type: ignore[attr-defined]
    assert len(mails(lib, smtp, 1)) == 1
