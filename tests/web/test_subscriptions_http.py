"""Subscribing through the app's public routes, on both backends, with the confirmation email delivered by a real
SMTP server (aiosmtpd on 127.0.0.1): the form, the confirm and unsubscribe pages and their buttons, RFC 8058's
one-click POST without cookies, the manage pages, the JSON twins, and what strangers and forgers get."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import httpx
import pytest
from fastapi.testclient import TestClient

from dailypapers.config import Config
from dailypapers.library import Library
from dailypapers.mail.links import Links
from dailypapers.web.app import create_app
from tests.mail.smtp_server import SmtpServer
from tests.web.conftest import assert_error_json
from tests.web.small_library import token_of

ANN = "ann@example.org"
TOP_LINE = 'Get trending papers in your email inbox! <a href="/subscribe">Subscribe</a>'
_CONFIRM = re.compile(r"http://127\.0\.0\.1:8000(/subscribe/confirm\?token=[\w.\-%]+)")
_MANAGE = re.compile(r'href="(/subscription/manage\?token=[^"]+)"')
_UNSUBSCRIBE = re.compile(r'href="(/unsubscribe\?token=[^"]+)"')
_HIDDEN_TOKEN = re.compile(r'name="token" value="([^"]+)"')


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    with SmtpServer() as server:
        yield server


@pytest.fixture
def lib(db_config: Config, smtp: SmtpServer) -> Iterator[Library]:
    library = Library(smtp.config(db_config, subscribe_rate_limit="100/hour"))
    library.init()
    yield library
    library.close()


def browser(lib: Library) -> TestClient:
    """A fresh visitor (no cookies), without the lifespan: no model warm-up, no scheduler."""
    return TestClient(create_app(lib), raise_server_exceptions=True, follow_redirects=False)


def subscribe(client: TestClient, email: str = ANN, **fields: object) -> httpx.Response:
    data = {"email": email, "frequency": "daily", "time_zone": "UTC", "send_hour": "7", "sections": ["trending"],
            "csrf_token": token_of(client, "/subscribe"), **fields}  # fmt: skip
    return client.post("/subscribe", data=data)


def confirm_path(lib: Library, smtp: SmtpServer, count: int = 1) -> str:
    """The path of the confirmation link in the ``count``-th email the SMTP server received."""
    assert lib.wait_for_delivery(30)
    messages = smtp.wait_for(count)
    assert len(messages) == count
    text = messages[-1].message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    found = _CONFIRM.search(text)
    assert found, text
    return found.group(1)


def test_subscribe_confirm_and_one_click_unsubscribe(lib: Library, smtp: SmtpServer) -> None:
    ann = browser(lib)
    page = ann.get("/subscribe")
    assert page.status_code == 200 and TOP_LINE in page.text and 'name="csrf_token"' in page.text
    r = subscribe(ann, sections=["trending", "categories"], categories="cs.CL")
    assert r.status_code == 200 and "Check your inbox" in r.text and ANN in r.text
    path = confirm_path(lib, smtp)

    shown = ann.get(path)  # what a mail scanner fetches: a page with a button, nothing changes
    assert shown.status_code == 200 and "Confirm" in shown.text and lib.subscriptions.active() == []
    token = _HIDDEN_TOKEN.search(shown.text).group(1)  # type: ignore[union-attr]
    done = ann.post("/subscribe/confirm", data={"token": token, "csrf_token": token_of(ann, path)})
    assert done.status_code == 200 and "You are subscribed" in done.text
    [sub] = lib.subscriptions.active()
    assert sub.email == ANN and sub.categories == ("cs.CL",) and sub.sections == ("trending", "categories")
    again = ann.post("/subscribe/confirm", data={"token": token, "csrf_token": token_of(ann, "/subscribe")})
    assert again.status_code == 409 and "already confirmed" in again.text and TOP_LINE in again.text

    one_click = urlsplit(lib.links.one_click_url(sub))  # what the digest's List-Unsubscribe header carries
    target = f"{one_click.path}?{one_click.query}"
    mail_client = browser(lib)  # RFC 8058: no cookie, no CSRF token, no page
    assert mail_client.post(target, content=b"").status_code == 400  # not the one-click body: nothing happens
    assert lib.subscriptions.get(sub.id) == sub
    r2 = mail_client.post(target, data={"List-Unsubscribe": "One-Click"})
    assert r2.status_code == 200 and r2.json()["unsubscribed"] is True and not mail_client.cookies
    assert lib.subscriptions.get(sub.id).status == "unsubscribed"  # type: ignore[union-attr]
    assert mail_client.post(target, data={"List-Unsubscribe": "One-Click"}).status_code == 200  # sent twice
    forged = mail_client.post("/unsubscribe/one-click?token=forged", data={"List-Unsubscribe": "One-Click"})
    assert forged.status_code == 400 and "not valid" in forged.text


def test_posts_without_a_csrf_token_are_still_refused(lib: Library) -> None:
    sub = lib.subscriptions.subscribe(ANN)
    sub = lib.subscriptions.confirm(lib.links.token("confirm", sub))
    stranger = browser(lib)
    token = lib.links.token("unsubscribe", sub)
    for path, data in (("/unsubscribe", {"token": token}), ("/subscribe", {"email": "x@example.org"}),
                       ("/subscribe/confirm", {"token": token}), ("/subscription/manage", {"token": token}),
                       ("/account/subscription", {})):  # fmt: skip
        r = stranger.post(path, data=data)
        assert r.status_code == 403 and "CSRF token is missing or wrong" in r.text, path
    r = stranger.post("/api/subscriptions", json={"email": "x@example.org"})
    assert r.status_code == 403
    evil = stranger.post(f"/unsubscribe/one-click?token={token}", data={"List-Unsubscribe": "One-Click"},
                         headers={"Origin": "https://evil.example"})  # fmt: skip
    assert evil.status_code == 403  # exempt from the token, not from the origin check
    assert lib.subscriptions.get(sub.id) == sub


def test_unsubscribe_page_button_and_replays(lib: Library) -> None:
    sub = lib.subscriptions.confirm(lib.links.token("confirm", lib.subscriptions.subscribe(ANN)))
    page_url = urlsplit(lib.links.unsubscribe_url(sub))
    ann = browser(lib)
    shown = ann.get(f"{page_url.path}?{page_url.query}")
    assert shown.status_code == 200 and "Unsubscribe" in shown.text and lib.subscriptions.get(sub.id) == sub
    token = _HIDDEN_TOKEN.search(shown.text).group(1)  # type: ignore[union-attr]
    data = {"token": token, "csrf_token": token_of(ann, "/subscribe")}
    r = ann.post("/unsubscribe", data=data)
    assert r.status_code == 200 and "You are unsubscribed" in r.text
    replay = ann.post("/unsubscribe", data=data)
    assert replay.status_code == 409 and "already unsubscribed" in replay.text


def test_forged_expired_and_wrong_purpose_links_say_so(lib: Library) -> None:
    now = datetime.now(UTC)
    sub = lib.subscriptions.subscribe(ANN)
    other = Links("somebody else's key", lib.links.site_url)
    expired = lib.links.token("confirm", sub, at=now - timedelta(hours=49))
    cases = [
        ("/subscribe/confirm", other.token("confirm", sub), 400, "not valid"),
        ("/subscribe/confirm", lib.links.token("unsubscribe", sub), 400, "not valid"),
        ("/subscribe/confirm", expired, 400, "expired"),
        ("/subscribe/confirm", "", 400, "incomplete or damaged"),
        ("/unsubscribe", lib.links.token("confirm", sub), 400, "not valid"),
        ("/subscription/manage", lib.links.token("unsubscribe", sub), 400, "not valid"),
        ("/subscription/manage", "<script>alert(1)</script>", 400, "not valid"),
    ]
    client = browser(lib)
    for path, token, status, message in cases:
        shown = client.get(path, params={"token": token})
        assert shown.status_code == status and message in shown.text and TOP_LINE in shown.text, (path, token)
        assert "<script>alert" not in shown.text
        if path != "/subscription/manage":
            acted = client.post(path, data={"token": token, "csrf_token": token_of(client, "/subscribe")})
            assert acted.status_code == status and message in acted.text, (path, token)
    assert lib.subscriptions.get(sub.id) == sub


def test_no_enumeration_and_one_mail_an_hour(lib: Library, smtp: SmtpServer) -> None:
    active = lib.subscriptions.confirm(lib.links.token("confirm", lib.subscriptions.subscribe(ANN)))
    assert lib.wait_for_delivery(30) and len(smtp.wait_for(1)) == 1
    stranger = browser(lib)
    known = subscribe(stranger, ANN, frequency="weekly")
    unknown = subscribe(stranger, "bob@example.org", frequency="weekly")
    assert known.status_code == unknown.status_code == 200
    assert known.text.replace(ANN, "X") == unknown.text.replace("bob@example.org", "X")
    assert lib.subscriptions.get(active.id) == active  # the stranger's choices changed nothing
    for _ in range(3):
        subscribe(stranger, ANN)
        subscribe(stranger, "bob@example.org")
    assert lib.wait_for_delivery(30)
    # Ann had her confirmation minutes ago, so not even an "already subscribed" note; Bob gets one email.
    assert sorted(m.rcpt_tos[0] for m in smtp.wait_for(3, timeout=2)) == [ANN, "bob@example.org"]
    j = stranger.post("/api/subscriptions", json={"email": ANN},
                      headers={"X-CSRF-Token": stranger.get("/api/csrf").json()["csrf_token"]})  # fmt: skip
    assert j.status_code == 202 and set(j.json()) == {"ok", "message"} and "Check your inbox" in j.json()["message"]


def test_hostile_form_fields_and_the_rate_limit(lib: Library) -> None:
    client = browser(lib)
    for fields, message in (
        ({"email": "ann@example.org\r\nBcc: all@example.org"}, "control characters"),
        ({"email": "<script>alert(1)</script>@example.org"}, "one bare address"),
        ({"email": "a" * 300 + "@example.org"}, "too long"),
        ({"time_zone": "<b>Mars</b>"}, "not a time zone"),
        ({"send_hour": "99"}, "0 to 23"),
        ({"frequency": "hourly"}, "daily or weekly"),
        ({"sections": ["trending", "<i>x</i>"]}, "not a section"),
        ({"categories": "<script>"}, "not an arXiv category"),
    ):
        r = subscribe(client, **fields)
        assert r.status_code == 400 and message in r.text, (fields, r.text[:300])
        assert "<script>" not in r.text and "<b>Mars" not in r.text and "<i>x" not in r.text
        assert 'action="/subscribe"' in r.text  # the form again, with the message
    assert lib.subscriptions.active() == [] and lib.outbox.counts().get("pending", 0) == 0
    bad = client.post("/api/subscriptions", json={"email": ANN, "status": "active"},
                      headers={"X-CSRF-Token": client.get("/api/csrf").json()["csrf_token"]})  # fmt: skip
    assert_error_json(bad, 400, "not a subscription field")

    tight = Library(replace(lib.config, subscribe_rate_limit="2/hour"))
    limited = browser(tight)
    codes = [subscribe(limited, f"n{i}@example.org").status_code for i in range(3)]
    assert codes == [200, 200, 429]
    tight.close()


def test_manage_by_link_and_the_account_page(lib: Library) -> None:
    sub = lib.subscriptions.confirm(lib.links.token("confirm", lib.subscriptions.subscribe(ANN)))
    manage = urlsplit(lib.links.manage_url(sub))
    ann = browser(lib)
    page = ann.get(f"{manage.path}?{manage.query}")
    assert page.status_code == 200 and ANN in page.text and _UNSUBSCRIBE.search(page.text)
    token = _HIDDEN_TOKEN.search(page.text).group(1)  # type: ignore[union-attr]
    form = {"token": token, "csrf_token": token_of(ann, "/subscribe"), "frequency": "weekly", "time_zone":
            "Asia/Tokyo", "send_hour": "21", "weekends": "true", "sections": ["trending", "saved"]}  # fmt: skip
    saved = ann.post("/subscription/manage", data=form)
    assert saved.status_code == 200 and "Saved." in saved.text
    now = lib.subscriptions.get(sub.id)
    assert now and (now.frequency, now.time_zone, now.send_hour, now.weekends) == ("weekly", "Asia/Tokyo", 21, True)
    wrong = ann.post("/subscription/manage", data={**form, "time_zone": "Asia/<Nowhere>"})
    assert wrong.status_code == 400 and "not a time zone" in wrong.text and "Asia/<Nowhere>" not in wrong.text
    assert lib.subscriptions.get(sub.id) == now

    ada = lib.accounts.create_user("ada", "ada@example.org", "correct horse battery")
    me = browser(lib)
    assert me.get("/api/subscriptions/me").status_code == 401
    me.post("/login", data={"login": "ada", "password": "correct horse battery", "csrf_token": token_of(me, "/login")})
    assert me.get("/account/subscription").headers["location"] == "/subscribe"
    assert 'value="ada@example.org"' in me.get("/subscribe").text  # the account's address is the default
    assert subscribe(me, "ada@example.org").status_code == 200
    mine = lib.subscriptions.for_user(ada.id)
    assert mine is not None and mine.status == "pending" and mine.email == "ada@example.org"
    assert me.get("/api/subscriptions/me").json()["subscription"]["status"] == "pending"
    assert "waiting for confirmation" in me.get("/account/subscription").text
    csrf = me.get("/api/csrf").json()["csrf_token"]
    r = me.patch("/api/subscriptions/me", json={"frequency": "weekly"}, headers={"X-CSRF-Token": csrf})
    assert r.status_code == 200 and r.json()["subscription"]["frequency"] == "weekly" and "nonce" not in r.text
    for body, message in (({"send_hour": 30}, "0 to 23"), ({"subscription_id": "x"}, "not a subscription setting"),
                          ({"status": "active"}, "not a subscription setting"), ({"sections": 5}, "list of names"),
                          ({"time_zone": None}, "not a time zone")):  # fmt: skip
        assert_error_json(me.patch("/api/subscriptions/me", json=body, headers={"X-CSRF-Token": csrf}), 400, message)
    assert_error_json(me.patch("/api/subscriptions/me", json=[1], headers={"X-CSRF-Token": csrf}), 400, "JSON object")
    form = {"csrf_token": token_of(me, "/account/subscription"), "frequency": "daily", "time_zone": "UTC",
            "send_hour": "5", "sections": ["picks"]}  # fmt: skip
    assert "Saved." in me.post("/account/subscription", data=form).text
    assert lib.subscriptions.for_user(ada.id).send_hour == 5  # type: ignore[union-attr]
    subscribe(me, "someone-else@example.org")  # not the account's address: not the account's subscription
    assert lib.subscriptions.for_user(ada.id).email == "ada@example.org"  # type: ignore[union-attr]


def test_the_top_line_is_on_every_page(lib: Library) -> None:
    client = browser(lib)
    for path in ("/", "/trending", "/search?q=dropout", "/login", "/signup", "/subscribe", "/no/such/page",
                 "/unsubscribe?token=x", "/papers/date/2026-01-01"):  # fmt: skip
        page = client.get(path)
        assert page.headers["content-type"].startswith("text/html"), path
        assert TOP_LINE in page.text, path
        assert page.text.index(TOP_LINE) < page.text.index('<header class="site">'), path  # the first line


def test_the_list_unsubscribe_url_opened_in_a_browser_shows_one_button(lib: Library) -> None:
    sub = lib.subscriptions.confirm(lib.links.token("confirm", lib.subscriptions.subscribe(ANN)))
    one_click = urlsplit(lib.links.one_click_url(sub))  # the digest's List-Unsubscribe URL, as a reader clicks it
    target = f"{one_click.path}?{one_click.query}"
    reader = browser(lib)
    shown = reader.get(target)  # a GET (a reader, a mail scanner, a link preview) changes nothing
    assert shown.status_code == 200 and "text/html" in shown.headers["content-type"], shown.text[:300]
    assert lib.subscriptions.get(sub.id) == sub and ANN in shown.text
    assert reader.head(target).status_code == 200
    forms = re.findall(r'<form method="post" action="([^"]+)"[^>]*>(.*?)</form>', shown.text, re.S)
    assert len(forms) == 1 and forms[0][1].count("<button") == 1, forms  # one button (the page's only form)
    action, inner = forms[0]
    fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', inner))
    pressed = reader.post(html.unescape(action), data=fields)  # the button, with what the page put in its form
    assert pressed.status_code == 200 and "You are unsubscribed" in pressed.text, pressed.text[:300]
    assert lib.subscriptions.get(sub.id).status == "unsubscribed"  # type: ignore[union-attr]
    again = reader.get(target)
    assert again.status_code == 409 and "already unsubscribed" in again.text
    one_click_post = browser(lib).post(target, data={"List-Unsubscribe": "One-Click"})  # RFC 8058 keeps working
    assert one_click_post.status_code == 200 and one_click_post.json()["unsubscribed"] is True
    forged = reader.get("/unsubscribe/one-click?token=forged")
    assert forged.status_code == 400 and "not valid" in forged.text
