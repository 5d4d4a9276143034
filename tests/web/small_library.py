"""A small library for the community tests (votes, comments, collections, claims, submissions, …), and the
helpers of a browser-like client: sign in through the log-in form, read a page's CSRF token and vote buttons, vote.

Each test that asks for :func:`small` gets a library of its own (:func:`build_small`: three papers with imported
upvotes 5, 3 and 0), so votes never leak into the session's demo libraries. Imported by test modules (never a
test module itself).
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from datetime import date
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from dailypapers.config import Config
from dailypapers.errors import Conflict
from dailypapers.library import Library
from dailypapers.papers.models import Paper, make_paper
from dailypapers.search.vectors.embedder import Embedder
from dailypapers.web.security.cookies import SESSION_COOKIE
from tests.demo import demo_embedder

SMALL_DAY = date(2026, 11, 20)
LORA, STRINGS, ADAM = "2106.09685", "hep-th/9901001", "1412.6980"
_TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')
PASSWORD = "correct horse battery"
_FORM = re.compile(r'<form class="vote" id="vote-([^"]+)".*?aria-pressed="(true|false)"[^>]*>▲ (\d+)</button>', re.S)


def small_papers() -> list[Paper]:
    """Three arXiv papers with imported upvotes 5, 3 and 0 (one with an old-style id, which has a slash)."""
    rows = [
        ("2106.09685v2", "LoRA: Low-Rank Adaptation of Large Language Models", "We freeze weights and adapt them.", 5),
        (STRINGS, "Dualities of Strings on Curved Backgrounds", "We study dualities of string theories.", 3),
        (ADAM, "Adam: A Method for Stochastic Optimization", "We introduce Adam, an optimizer.", 0),
    ]
    return [make_paper(arxiv_id=i, title=t, abstract=a, upvotes=u, source="hf") for i, t, a, u in rows]


def build_small(config: Config, embedder: Embedder | None = None) -> Library:
    """A migrated library of :func:`small_papers`, added on ``SMALL_DAY`` and indexed."""
    lib = Library(config, embedder=embedder)
    lib.init()
    lib.ingest(small_papers(), added_at=SMALL_DAY, progress=False, index=True)
    return lib


@pytest.fixture
def small(backend: str, request: pytest.FixtureRequest, tmp_path: Any) -> Iterator[Library]:
    url = request.getfixturevalue("db_config").database_url  # a copy of the migrated database
    lib = build_small(Config(data_dir=tmp_path, database_url=url, password_hash="cheapest"), demo_embedder())
    yield lib
    lib.close()


def sign_in(client: TestClient | httpx.Client, lib: Library, name: str = "ann") -> TestClient | httpx.Client:
    """``client`` logged in as user ``name`` (created on first use) through the log-in form."""
    with contextlib.suppress(Conflict):  # already made by an earlier sign-in
        lib.accounts.create_user(name, f"{name}@example.org", PASSWORD)
    done = client.post("/login", data={"login": name, "password": PASSWORD, "csrf_token": token_of(client, "/login")})
    assert done.status_code in (200, 303) and client.cookies.get(SESSION_COOKIE), done.text[:300]
    return client


def token_of(client: TestClient | httpx.Client, path: str = "/") -> str:
    """The CSRF token in the forms of the page at ``path`` (the first visit also sets the CSRF cookie)."""
    found = _TOKEN.search(client.get(path, follow_redirects=False).text)
    assert found, f"no form on {path}"
    return found.group(1)


def buttons(html: str) -> dict[str, tuple[int, bool]]:
    """``{paper id: (upvotes shown, pressed)}`` of every vote button on a page."""
    return {pid: (int(n), pressed == "true") for pid, pressed, n in _FORM.findall(html)}


def form_vote(client: TestClient | httpx.Client, paper_id: str, up: bool, token: str, **extra: str) -> Any:
    data = {"up": "true" if up else "false", "csrf_token": token, **extra}
    return client.post(f"/papers/{paper_id}/vote", data=data, follow_redirects=False)


def api_vote(client: TestClient | httpx.Client, paper_id: str, up: bool, token: str | None, **headers: str) -> Any:
    sent = {"X-CSRF-Token": token} if token is not None else {}
    return client.post(f"/api/votes/{paper_id}", json={"up": up}, headers={**sent, **headers})
