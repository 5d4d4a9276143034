"""Subscriptions as a service, on both backends, mailing through a real SMTP server (aiosmtpd on 127.0.0.1):
double opt-in, signed links that are forged, expired, replayed or used for another purpose, no mail bombing,
and the checks on every field."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import func, select

from dailypapers.db.schema import outbox, subscriptions
from dailypapers.errors import BadInput, NotFound
from dailypapers.library import Library
from dailypapers.mail.links import BadLink, Links
from dailypapers.mail.subscriptions import AlreadyDone, Subscription
from tests.mail.smtp_server import SmtpServer

ANN = "ann@example.org"
_URL = re.compile(r"https?://\S+")


def _confirm_mails(lib: Library) -> int:
    with lib.db.read() as conn:
        query = select(func.count()).select_from(outbox).where(outbox.c.kind == "confirm")
        return int(conn.execute(query).scalar_one())


def _rows(lib: Library) -> int:
    with lib.db.read() as conn:
        return int(conn.execute(select(func.count()).select_from(subscriptions)).scalar_one())


def _token(url: str) -> str:
    return parse_qs(urlsplit(url).query)["token"][0]


def _same(lib: Library, before: Subscription) -> None:
    """Nothing about the subscription changed."""
    assert lib.subscriptions.get(before.id) == before


def test_subscribe_mail_confirm_through_real_smtp(mail_lib: Library, smtp: SmtpServer) -> None:
    subs = mail_lib.subscriptions
    pending = subs.subscribe(ANN, frequency="weekly", time_zone="Europe/Berlin", send_hour=6, weekends=True,
                             sections=["trending", "categories"], categories="cs.CL, cs.LG")  # fmt: skip
    assert pending.status == "pending" and pending.confirmed_at is None and subs.active() == []
    assert (pending.frequency, pending.time_zone, pending.send_hour, pending.weekends) == ("weekly", "Europe/Berlin",
                                                                                          6, True)  # fmt: skip
    assert pending.sections == ("trending", "categories") and pending.categories == ("cs.CL", "cs.LG")
    assert mail_lib.wait_for_delivery(30)
    [received] = smtp.wait_for(1)
    message = received.message
    assert received.rcpt_tos == [ANN] and message["To"] == ANN and "Confirm" in message["Subject"]
    assert message["Auto-Submitted"] == "auto-generated" and message.get_content_type() == "multipart/alternative"
    text = message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    html = message.get_body(("html",)).get_content()  # type: ignore[union-attr]
    [url] = [u for u in _URL.findall(text) if "/subscribe/confirm?" in u]
    assert url.startswith("http://127.0.0.1:8000/subscribe/confirm?token=") and url in html
    assert "48 hours" in text and "<script" not in html

    assert subs.from_link(_token(url), "confirm") == pending  # looking changes nothing
    active = subs.confirm(_token(url))
    assert active.status == "active" and active.confirmed_at is not None and active.nonce != pending.nonce
    assert subs.get(active.id) == active and subs.active() == [active]
    with pytest.raises(AlreadyDone, match="already confirmed"):  # the link is spent
        subs.confirm(_token(url))
    _same(mail_lib, active)


def test_forged_expired_and_wrong_purpose_tokens_change_nothing(mail_lib: Library) -> None:
    subs, links = mail_lib.subscriptions, mail_lib.links
    now = datetime.now(UTC)
    pending = subs.subscribe(ANN, now=now)
    good = links.token("confirm", pending, at=now)
    forged = Links("another instance's secret key", links.site_url).token("confirm", pending, at=now)
    tampered = good[:-3] + ("aaa" if not good.endswith("aaa") else "bbb")
    for bad in (forged, tampered, "", "x" * 5000, "not.a.token", None, 42):
        with pytest.raises(BadLink, match=r"not valid|incomplete or damaged"):
            subs.confirm(bad, now=now)  # type: ignore[arg-type]
    unsubscribe = links.token("unsubscribe", pending)
    manage = links.token("manage", pending)
    for wrong in (unsubscribe, manage):  # signed by us, over the right nonce, for another page
        with pytest.raises(BadLink, match="not valid"):
            subs.confirm(wrong, now=now)
    with pytest.raises(BadLink, match="not valid"):
        subs.unsubscribe(good)
    with pytest.raises(BadLink, match="expired"):  # confirm_hours = 48
        subs.confirm(good, now=now + timedelta(hours=48, minutes=1))
    _same(mail_lib, pending)
    assert subs.confirm(good, now=now + timedelta(hours=47)).status == "active"


def test_unsubscribe_replays_and_resubscribing_spend_old_links(mail_lib: Library) -> None:
    subs, links = mail_lib.subscriptions, mail_lib.links
    first = subs.subscribe(ANN)
    first_confirm = links.token("confirm", first)
    active = subs.confirm(first_confirm)
    old_unsubscribe = links.token("unsubscribe", active)  # what every digest of this round carries
    old_manage = links.token("manage", active)
    assert subs.from_link(old_manage, "manage") == active
    gone = subs.unsubscribe(old_unsubscribe)
    assert gone.status == "unsubscribed" and gone.unsubscribed_at is not None and subs.active() == []
    with pytest.raises(AlreadyDone, match="already unsubscribed"):
        subs.unsubscribe(old_unsubscribe)
    with pytest.raises(BadLink, match="used or replaced"):
        subs.from_link(old_manage, "manage")
    _same(mail_lib, gone)

    again = subs.subscribe(ANN)  # a new round: pending, a new nonce
    assert again.status == "pending" and again.nonce not in (first.nonce, active.nonce, gone.nonce)
    back = subs.confirm(links.token("confirm", again))
    with pytest.raises(BadLink, match="before you subscribed again"):  # an old digest's link stays spent
        subs.unsubscribe(old_unsubscribe)
    with pytest.raises(AlreadyDone, match="already confirmed"):
        subs.confirm(first_confirm)
    _same(mail_lib, back)
    assert subs.unsubscribe(links.token("unsubscribe", back)).status == "unsubscribed"


def test_no_mail_bombing_and_a_stranger_changes_no_active_subscription(mail_lib: Library) -> None:
    subs = mail_lib.subscriptions
    now = datetime.now(UTC)
    for n in range(5):  # the form sent again and again: one confirmation email an hour
        subs.subscribe(ANN, now=now + timedelta(minutes=n))
    subs.subscribe("ANN@example.org", now=now + timedelta(minutes=10))  # the same mailbox to every server
    assert _confirm_mails(mail_lib) == 1 and _rows(mail_lib) == 1
    pending = subs.subscribe(ANN, now=now + timedelta(minutes=61))
    assert _confirm_mails(mail_lib) == 2

    active = subs.confirm(mail_lib.links.token("confirm", pending))
    stranger = subs.subscribe(ANN, frequency="weekly", sections=["trending"], user_id=None,
                              now=now + timedelta(minutes=130))  # fmt: skip
    assert stranger == active and subs.get(active.id) == active  # nothing changed, nothing to tell
    assert _confirm_mails(mail_lib) == 3  # its owner is told once: "already subscribed", with the manage link
    entry = mail_lib.outbox.recent(1)[0]
    note = mail_lib.outbox.message(entry.id)
    assert note is not None and "already subscribed" in str(note["Subject"])
    body = note.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert "/subscription/manage?token=" in body and "/subscribe/confirm" not in body
    subs.subscribe(ANN, now=now + timedelta(minutes=140))
    assert _confirm_mails(mail_lib) == 3


@pytest.mark.parametrize(
    "email",
    [
        "ann@example.org\r\nBcc: everyone@example.org",
        "ann@example.org\nSubject: hi",
        "a" * 65 + "@example.org",
        "ann@" + "d" * 250 + ".org",
        "ann\u202e@example.org",
        "Ann <ann@example.org>",
        "ann@example.org, bob@example.org",
        "",
        "no-at-sign",
    ],
)
def test_hostile_addresses_are_refused_and_nothing_is_stored(mail_lib: Library, email: str) -> None:
    with pytest.raises(BadInput):
        mail_lib.subscriptions.subscribe(email)
    assert _rows(mail_lib) == 0 and _confirm_mails(mail_lib) == 0


def test_every_preference_is_checked(mail_lib: Library) -> None:
    subs = mail_lib.subscriptions
    hostile: list[tuple[dict[str, object], str]] = [
        ({"frequency": "hourly"}, "daily or weekly"),
        ({"time_zone": "../../../etc/passwd"}, "not a time zone"),
        ({"time_zone": "Mars/Olympus_Mons"}, "not a time zone"),
        ({"time_zone": "EST5EDT,M3.2.0,M11.1.0"}, "not a time zone"),
        ({"time_zone": "Europe/Berlin\r\nX: y"}, "not a time zone"),
        ({"send_hour": 24}, "0 to 23"),
        ({"send_hour": -1}, "0 to 23"),
        ({"send_hour": "7; DROP TABLE subscriptions"}, "0 to 23"),
        ({"send_hour": True}, "0 to 23"),
        ({"sections": ["trending", "spam"]}, "not a section"),
        ({"sections": []}, "at least one section"),
        ({"sections": ["categories"]}, "needs at least one category"),
        ({"categories": ["<script>alert(1)</script>"]}, "not an arXiv category"),
        ({"categories": "cs.CL.x"}, "not an arXiv category"),
        ({"categories": [f"cs.A{chr(65 + i)}" for i in range(21)]}, "at most 20"),
        ({"weekends": "yes"}, "true or false"),
    ]
    for fields, message in hostile:
        with pytest.raises(BadInput, match=message):
            subs.subscribe(ANN, **fields)  # type: ignore[arg-type]
    assert _rows(mail_lib) == 0

    sub = subs.subscribe(ANN)
    for fields, message in hostile:
        with pytest.raises(BadInput, match=message):
            subs.update(sub.id, **fields)
    with pytest.raises(BadInput, match="not a subscription setting"):
        subs.update(sub.id, status="active")  # the status changes only through the links
    _same(mail_lib, sub)
    zone = "America/Argentina/ComodRivadavia"  # the longest IANA name
    changed = subs.update(sub.id, frequency="weekly", send_hour="23", sections="categories trending",
                          categories=["hep-th", "astro-ph.CO"], time_zone=zone)  # fmt: skip
    assert subs.get(sub.id) == changed and changed.status == "pending"
    assert (changed.frequency, changed.send_hour, changed.sections) == ("weekly", 23, ("trending", "categories"))
    assert changed.categories == ("hep-th", "astro-ph.CO")
    assert subs.get("no-such-id") is None and subs.get("x" * 1000) is None
    with pytest.raises(NotFound):
        subs.update("no-such-id", frequency="daily")


def test_defaults_and_the_subscription_of_an_account(mail_lib: Library) -> None:
    ada = mail_lib.accounts.create_user("ada", "ada@example.org", "correct horse battery")
    bob = mail_lib.accounts.create_user("bob", "bob@example.org", "correct horse battery")
    sub = mail_lib.subscriptions.subscribe("ada@example.org", user_id=ada.id)
    assert sub.time_zone == mail_lib.config.time_zone and sub.weekends is mail_lib.config.digest_weekends
    assert sub.sections == ("trending", "picks", "saved") and sub.send_hour == 7 and sub.frequency == "daily"
    assert mail_lib.subscriptions.for_user(ada.id) == sub and mail_lib.subscriptions.for_user(bob.id) is None
