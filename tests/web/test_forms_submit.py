"""The submission form while arXiv does not answer (issue 21, item 9), and the form filled in from a link (the
search page's "Submit it" for an arXiv id not stored here), on each backend.

arXiv here is a real local TCP server that takes connections and never answers, so the app's lookup waits for its
HTTP timeout (60 s by default). The form must answer at once: a 303 to a page that says the paper is being checked,
reloads itself (no JavaScript) and keeps what was typed. When the silent server goes away, the lookup fails and
that page turns into the form again, with the reason and the typed text.
"""

from __future__ import annotations

import re
import socket
import time
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from dailypapers.config import Config
from dailypapers.library import Library
from dailypapers.web.app import create_app
from tests.demo import demo_embedder
from tests.web.small_library import PASSWORD, build_small, sign_in, token_of

PAPER = "2611.04321"


class SilentArxiv:
    """A server that accepts connections (the kernel completes them) and never sends a byte. :meth:`close` resets
    the connections it never took, so a lookup waiting on one fails at once."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}/api/query"

    def close(self) -> None:
        self.sock.close()


@pytest.fixture
def arxiv() -> Iterator[SilentArxiv]:
    server = SilentArxiv()
    yield server
    server.close()


@pytest.fixture
def lib(backend: str, request: pytest.FixtureRequest, tmp_path: Any, arxiv: SilentArxiv) -> Iterator[Library]:
    url = request.getfixturevalue("db_config").database_url  # a copy of the migrated database
    config = Config(
        password_hash="cheapest",
        data_dir=tmp_path,
        database_url=url,
        arxiv_api_url=arxiv.url,
        arxiv_delay=0.01,
        arxiv_retries=1,
    )
    library = build_small(config, demo_embedder())
    library.accounts.create_user("ann", "ann@example.org", PASSWORD)
    yield library
    library.close()


@pytest.fixture
def ann(lib: Library) -> Iterator[TestClient]:
    with TestClient(create_app(lib)) as client:
        sign_in(client, lib, "ann")
        yield client


def wait_for(client: TestClient, url: str, done: Any, timeout: float = 30.0) -> Any:
    """GET ``url`` (as a browser following the page's refresh would) until ``done(response)``."""
    deadline = time.monotonic() + timeout
    while True:
        response = client.get(url, follow_redirects=False)
        if done(response):
            return response
        assert time.monotonic() < deadline, f"no change on {url}: {response.status_code} {response.text[:300]}"
        time.sleep(0.1)


def test_a_silent_arxiv_gets_an_answer_at_once_then_the_reason(
    ann: TestClient, lib: Library, arxiv: SilentArxiv
) -> None:
    assert lib.config.http_timeout >= 30  # the lookup waits that long: the answer below must come long before
    typed = f"https://arxiv.org/abs/{PAPER}v2"
    started = time.monotonic()
    posted = ann.post("/submit", data={"id": typed, "csrf_token": token_of(ann, "/submit")}, follow_redirects=False)
    answered_in = time.monotonic() - started
    assert posted.status_code == 303 and answered_in < 10, (posted.status_code, answered_in)
    checking_url = posted.headers["location"]
    assert re.fullmatch(r"/submit/checking/[A-Za-z0-9_-]{16,}", checking_url)

    page = ann.get(checking_url, follow_redirects=False)
    assert page.status_code == 200 and 'data-state="checking"' in page.text
    assert f"Checking <strong>{typed}</strong> with arXiv" in page.text
    assert re.search(r'<meta http-equiv="refresh" content="\d+">', page.text)  # reloads itself, no script
    assert f'value="{typed}"' in page.text  # the form keeps what was typed
    with TestClient(create_app(lib)) as bob:  # a ticket is its owner's only
        sign_in(bob, lib, "bob")
        assert bob.get(checking_url).status_code == 404

    arxiv.close()  # arXiv goes away: the waiting connection is reset, the retry refused, the lookup fails
    failed = wait_for(ann, checking_url, lambda r: 'data-state="checking"' not in r.text)
    assert failed.status_code == 502 and "arXiv could not be reached" in failed.text
    assert f'value="{typed}"' in failed.text and lib.papers.get(PAPER) is None


def test_the_form_is_filled_in_from_its_link(ann: TestClient, lib: Library) -> None:
    """``/submit?id=`` (the link search shows for an arXiv id not stored here) fills the form in, also after the
    log-in page; the search page links to it."""
    form = ann.get("/submit", params={"id": PAPER})
    assert form.status_code == 200 and f'value="{PAPER}"' in form.text
    hostile = ann.get("/submit", params={"id": '"><b>x</b>'}).text
    assert "<b>x</b>" not in hostile and 'value="&#34;&gt;&lt;b&gt;x&lt;/b&gt;"' in hostile
    search = ann.get("/search", params={"q": PAPER}).text
    assert f'<a href="/submit?id={PAPER}">Submit it</a>' in search
    with TestClient(create_app(lib)) as anonymous:
        to_login = anonymous.get("/submit", params={"id": PAPER}, follow_redirects=False)
        assert to_login.status_code == 303 and to_login.headers["location"] == f"/login?next=/submit%3Fid%3D{PAPER}"
        login_page = anonymous.get(to_login.headers["location"]).text  # where the log-in form goes on to
        assert f'name="next" value="/submit?id={PAPER}"' in login_page
