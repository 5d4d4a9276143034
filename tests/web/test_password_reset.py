"""Password reset and address verification through the app (issue 21 #11), on both backends, with every mail
delivered by a real SMTP server (aiosmtpd): "Forgot password?" answers alike for known and unknown addresses and
mails only the known one; a reset link is signed, single-use and expiring, obeys the password rules, and ends
every session and API token; sign-up mails a verification link and nothing else goes to an unverified address; a
change of address waits for the new address's link and tells the old one."""

from __future__ import annotations

import hashlib
import re
import time

import httpx
import pytest
from itsdangerous import TimestampSigner, URLSafeTimedSerializer

from dailypapers.accounts.recovery import Recovery
from dailypapers.library import Library
from dailypapers.web.security.cookies import SESSION_COOKIE
from tests.mail.smtp_server import SmtpServer
from tests.web.account_mail import (
    NEW_PASSWORD,
    PASSWORD,
    browser,
    error_of,
    hidden_token,
    lib_fixture,  # noqa: F401  (the fixture `lib`)
    link_in,
    log_in,
    mails,
    post,
    sign_up,
    smtp_fixture,  # noqa: F401  (the fixture `smtp`)
    text_of,
    verify_by_mail,
)


def _forgot(lib: Library, email: str) -> httpx.Response:
    return post(browser(lib), "/password/forgot", "/password/forgot", email=email)


def _sent_sentence(page: httpx.Response) -> str:
    found = re.search(r'<p class="notice" role="status" id="reset-sent">([^<]*)</p>', page.text)
    assert found, page.text[:500]
    return found.group(1)


def test_the_login_page_links_to_forgot_password(lib: Library) -> None:
    page = browser(lib).get("/login")
    assert page.status_code == 200 and '<a href="/password/forgot">Forgot password?</a>' in page.text
    assert browser(lib).get("/password/forgot").status_code == 200


def test_forgot_password_answers_alike_and_mails_only_an_account(lib: Library, smtp: SmtpServer) -> None:
    known, unknown = _forgot(lib, "root@example.org"), _forgot(lib, "nobody@example.org")
    assert known.status_code == unknown.status_code == 200
    assert _sent_sentence(known).replace("root@", "X@") == _sent_sentence(unknown).replace("nobody@", "X@")
    received = mails(lib, smtp, 1)  # the known address only
    assert received[0].rcpt_tos == ["root@example.org"] and "reset" in received[0].message["Subject"].lower()
    assert link_in(received[0]).startswith("/password/reset?token=")
    _forgot(lib, "ROOT@example.org")  # the same mailbox again within minutes: no second mail
    lib.wait_for_delivery(30)
    assert len(mails(lib, smtp, 1)) == 1
    assert error_of(_forgot(lib, "not an address"))  # only a malformed address is refused


def test_a_reset_link_sets_the_password_once_and_ends_sessions_and_tokens(lib: Library, smtp: SmtpServer) -> None:
    root = browser(lib)
    assert log_in(root, "root").status_code == 303
    secret, _ = lib.accounts.create_token(lib.accounts.get("root"), "script")
    bearer = {"Authorization": f"Bearer {secret}"}
    assert root.get("/api/me", headers=bearer).json()["user"]["username"] == "root"

    _forgot(lib, "root@example.org")
    path = link_in(mails(lib, smtp, 1)[0])
    stranger = browser(lib)
    form = stranger.get(path)  # what a mail scanner fetches: a form, nothing changes
    assert form.status_code == 200 and "root" in form.text and lib.accounts.authenticate("root", PASSWORD)
    token = hidden_token(form)
    weak = post(stranger, "/password/reset", "/password/forgot", token=token, password="password")
    assert weak.status_code == 400 and "too easy to guess" in error_of(weak)  # the zxcvbn rule applies
    done = post(stranger, "/password/reset", "/password/forgot", token=token, password=NEW_PASSWORD)
    assert done.status_code == 200 and "1 API token was revoked" in done.text, error_of(done)

    assert lib.accounts.authenticate("root", NEW_PASSWORD).username == "root"
    assert root.get("/api/me").json()["user"] is None  # the session that was open is gone
    assert browser(lib).get("/api/tokens", headers=bearer).status_code == 401  # and the token is revoked
    again = post(browser(lib), "/password/reset", "/password/forgot", token=token, password="another fine pass phrase")
    assert again.status_code == 400 and "used or replaced" in error_of(again)  # single use
    notice = mails(lib, smtp, 2)[1]  # a notice that the password changed
    assert notice.rcpt_tos == ["root@example.org"] and "password was changed" in notice.message["Subject"]


def test_reset_links_expire_and_forgeries_open_nothing(lib: Library) -> None:
    root = lib.accounts.get("root")
    value = lib.recovery._serializer("reset").loads(lib.recovery.reset_token(root))  # a valid link's content ...

    class AnHourAgo(TimestampSigner):
        def get_timestamp(self) -> int:
            return int(time.time()) - lib.config.reset_minutes * 60 - 5

    old = URLSafeTimedSerializer(lib.secret_key, salt="dailypapers.account.reset", signer=AnHourAgo,
                                 signer_kwargs={"digest_method": hashlib.sha256})  # fmt: skip
    token = old.dumps(value)  # ... signed just over the link's life ago
    expired = browser(lib).get(f"/password/reset?token={token}")
    assert expired.status_code == 400 and "expired" in error_of(expired)
    forged = Recovery(lib.db, "another key").reset_token(root)
    assert "not valid" in error_of(browser(lib).get(f"/password/reset?token={forged}"))
    verify_token = lib.recovery.verify_token(root, root.email)  # signed by us, for another purpose
    assert "not valid" in error_of(browser(lib).get(f"/password/reset?token={verify_token}"))


def test_sign_up_mails_a_verification_link_and_nothing_else_until_used(lib: Library, smtp: SmtpServer) -> None:
    ann = sign_up(lib, "ann", "ann@example.org")
    account = ann.get("/account").text
    assert "not verified" in account and "Send the verification link again" in account
    first = mails(lib, smtp, 1)[0]
    assert first.rcpt_tos == ["ann@example.org"] and "Verify" in first.message["Subject"]

    form = {"current": PASSWORD, "new": NEW_PASSWORD}  # a change of password notices a *verified* address only
    assert "Password changed" in post(ann, "/account/password", "/account", **form).text
    assert len(mails(lib, smtp, 1)) == 1
    resend = post(ann, "/account/email/resend", "/account")
    assert "a few minutes ago" in resend.text  # one verification mail per mailbox every few minutes

    shown = ann.get(link_in(first))
    assert shown.status_code == 200 and not lib.accounts.get("ann").email_verified  # a GET changes nothing
    done = verify_by_mail(ann, first)
    assert done.status_code == 200 and "is verified" in done.text
    assert lib.accounts.get("ann").email_verified and "<strong>verified</strong>" in ann.get("/account").text
    form = {"current": NEW_PASSWORD, "new": PASSWORD}
    post(ann, "/account/password", "/account", **form)
    notice = mails(lib, smtp, 2)[1]
    assert notice.rcpt_tos == ["ann@example.org"] and "password was changed" in notice.message["Subject"]


def test_a_new_address_counts_once_verified_and_the_old_one_is_told(lib: Library, smtp: SmtpServer) -> None:
    ann = sign_up(lib, "ann", "ann@example.org")
    verify_by_mail(ann, mails(lib, smtp, 1)[0])
    wrong = post(ann, "/account/email", "/account", email="ann@example.net", password="not my password")
    assert wrong.status_code == 403 and lib.accounts.get("ann").pending_email is None
    asked = post(ann, "/account/email", "/account", email="ann@example.net", password=PASSWORD)
    assert asked.status_code == 200 and "becomes your address when you open it" in asked.text
    assert "Waiting for verification: ann@example.net" in ann.get("/account").text
    assert lib.accounts.get("ann").email == "ann@example.org"  # not yet

    received = mails(lib, smtp, 3)
    to = {m.rcpt_tos[0]: m for m in received[1:]}
    assert set(to) == {"ann@example.net", "ann@example.org"}
    assert "ann@example.net" in text_of(to["ann@example.org"].message)  # the old address hears of it
    assert verify_by_mail(ann, to["ann@example.net"]).status_code == 200
    user = lib.accounts.get("ann")
    assert (user.email, user.email_verified, user.pending_email) == ("ann@example.net", True, None)
    changed = mails(lib, smtp, 4)[3]
    assert changed.rcpt_tos == ["ann@example.org"] and "address was changed" in changed.message["Subject"]
    assert lib.accounts.authenticate("ann@example.net", PASSWORD).username == "ann"


def test_an_address_another_account_has_is_never_taken_over(lib: Library, smtp: SmtpServer) -> None:
    ann = sign_up(lib, "ann", "ann@example.org")
    verify_by_mail(ann, mails(lib, smtp, 1)[0])
    asked = post(ann, "/account/email", "/account", email="root@example.org", password=PASSWORD)
    assert asked.status_code == 200 and "becomes your address when you open it" in asked.text  # tells nothing
    received = mails(lib, smtp, 2)  # only the notice to ann's own address: no link to root's mailbox
    assert [m.rcpt_tos for m in received] == [["ann@example.org"], ["ann@example.org"]]
    assert lib.accounts.get("ann").email == "ann@example.org"


@pytest.mark.parametrize("verified", [True, False])
def test_accounts_made_by_admins_count_as_verified(lib: Library, verified: bool) -> None:
    root = lib.accounts.get("root")  # the first account; and `users create` is an admin's act
    made = lib.accounts.create_user("cli", "cli@example.org", PASSWORD, via_signup=not verified)
    assert root.email_verified and made.email_verified is verified
    assert lib.accounts.get("cli").email_verified is verified
    session = browser(lib)
    assert log_in(session, "cli").status_code == 303 and session.cookies.get(SESSION_COOKIE)
