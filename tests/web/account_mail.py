"""Fixtures of the account-mail tests (reset, verification, takeover, login limits): a library on the backend under
test that sends through a real SMTP server (aiosmtpd on 127.0.0.1), in-process browsers of its app, sign-up
through the form, and the links read out of the mails that server received. Test modules import the fixtures
``lib`` and ``smtp`` as ``lib_fixture`` and ``smtp_fixture``."""

from __future__ import annotations

import re
import weakref
from collections.abc import Iterator
from email.message import EmailMessage
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from dailypapers.config import Config
from dailypapers.library import Library
from dailypapers.web.app import create_app
from tests.mail.smtp_server import Received, SmtpServer
from tests.web.small_library import token_of

PASSWORD = "correct horse battery"
NEW_PASSWORD = "purple elephant lantern"
SITE = "http://127.0.0.1:8000"
_LINK = re.compile(r"http://127\.0\.0\.1:8000(/[\w/\-]+\?token=[\w.\-%]+)")
_ERROR = re.compile(r'<p class="form-error" role="alert">([^<]*)</p>')
_HIDDEN_TOKEN = re.compile(r'name="token" value="([^"]+)"')


@pytest.fixture(name="smtp")
def smtp_fixture() -> Iterator[SmtpServer]:
    with SmtpServer() as server:
        yield server


@pytest.fixture(name="lib")
def lib_fixture(db_config: Config, smtp: SmtpServer) -> Iterator[Library]:
    """A library mailing through ``smtp``, open sign-up, roomy per-address limits (the tests are one address)."""
    config = smtp.config(db_config, signup="open", subscribe_rate_limit="100/hour", signup_rate_limit="100/hour",
                         login_rate_limit="1000/minute")  # fmt: skip
    library = Library(config)
    library.init()
    library.accounts.create_user("root", "root@example.org", PASSWORD)  # the first account: the admin
    yield library
    library.close()


_APPS: weakref.WeakKeyDictionary[Library, FastAPI] = weakref.WeakKeyDictionary()


def app_of(lib: Library) -> FastAPI:
    """The app of ``lib``, made once (making one costs a few tenths of a second; the browsers of a test share it)."""
    if lib not in _APPS:
        _APPS[lib] = create_app(lib)
    return _APPS[lib]


def browser(lib: Library, address: str = "testclient") -> TestClient:
    """A fresh visitor (no cookies) from client ``address``, without the lifespan: no model warm-up, no scheduler."""
    return TestClient(app_of(lib), raise_server_exceptions=True, follow_redirects=False, client=(address, 50000))


def post(client: TestClient, path: str, form_page: str, **data: Any) -> httpx.Response:
    """POST ``data`` to ``path`` with the CSRF token of the page ``form_page``."""
    return client.post(path, data={**data, "csrf_token": token_of(client, form_page)})


def sign_up(lib: Library, name: str, email: str, password: str = PASSWORD) -> TestClient:
    """A new browser signed up (and so signed in) as ``name`` with ``email`` through the sign-up form."""
    client = browser(lib)
    r = post(client, "/signup", "/signup", username=name, email=email, password=password)
    assert r.status_code == 303, error_of(r) or r.text[:300]
    return client


def log_in(client: TestClient, login: str, password: str = PASSWORD) -> httpx.Response:
    return post(client, "/login", "/login", login=login, password=password)


def error_of(page: httpx.Response) -> str:
    found = _ERROR.search(page.text)
    return found.group(1) if found else ""


def mails(lib: Library, smtp: SmtpServer, count: int) -> list[Received]:
    """The first ``count`` mails the server received (waiting for the background delivery), exactly that many."""
    assert lib.account_mail.wait(30) and lib.wait_for_delivery(30)
    lib.deliver_mail()  # anything recorded after the background run started
    received = smtp.wait_for(count)
    assert len(received) == count, [(m.rcpt_tos, m.message["Subject"]) for m in received]
    return received


def text_of(message: EmailMessage) -> str:
    return str(message.get_body(("plain",)).get_content())  # type: ignore[union-attr]


def link_in(received: Received) -> str:
    """The site-relative path (with its token) of the one link to this site in a mail."""
    found = _LINK.search(text_of(received.message))
    assert found, text_of(received.message)
    return found.group(1)


def hidden_token(page: httpx.Response) -> str:
    found = _HIDDEN_TOKEN.search(page.text)
    assert found, page.text[:500]
    return found.group(1)


def verify_by_mail(client: TestClient, received: Received) -> httpx.Response:
    """Open a verification mail's link and press its button."""
    page = client.get(link_in(received))
    assert page.status_code == 200 and "Verify" in page.text
    return post(client, "/account/email/verify", "/login", token=hidden_token(page))
