"""Fixtures of the web tests: the demo library (built once per session), an in-process client, the real server.

``demo_config`` is the 298-paper demo corpus spread over ``DEMO_DAYS`` (arXiv ids, authors, categories and dates
where the corpus has them). Tests of filters and of full paper records use ``extra_config``: a separate small
library of well-known papers with authors, affiliations, categories, dates, DOIs and an old-style arXiv id, so the
session's demo is never changed.

Both libraries exist once per storage backend: every test that uses them runs once per backend ``--backend``
selects (its id ends in ``[sqlite]`` or ``[postgres]``). Tests that build a library of their own in ``tmp_path``
use SQLite only; they are about the app, not about storage.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from contextlib import closing
from datetime import UTC, date, datetime
from typing import Any, cast

import httpx
import pytest
from fastapi.testclient import TestClient

from dailypapers.config import Config
from dailypapers.library import Library
from dailypapers.papers.models import Paper, make_paper
from dailypapers.web.app import create_app
from tests.demo import build_demo, built_once, demo_embedder, kept_for_session, running_server

EXTRA_DAY = date(2026, 1, 15)
_TITLE_LINK = re.compile(r'<h2 class="title">\s*<a href="([^"]+)">(.*?)</a>', re.S)


def _utc(year: int, month: int, day: int) -> datetime:
    return datetime(year, month, day, 12, 0, tzinfo=UTC)


def extra_papers() -> list[Paper]:
    """Six papers with full metadata (the ids, dates and authors the filter tests rely on)."""
    rows: list[dict[str, Any]] = [
        dict(
            arxiv_id="2106.09685v2",
            title="LoRA: Low-Rank Adaptation of Large Language Models",
            abstract="We propose low-rank adaptation, which freezes pretrained language model weights and injects "
            "trainable rank decomposition matrices into each layer. Code: https://github.com/microsoft/LoRA",
            authors=["Edward J. Hu", "Yelong Shen", "Weizhu Chen"],
            affiliations=["Microsoft", None, "Microsoft Research"],
            categories=["cs.CL", "cs.LG"],
            published=_utc(2021, 6, 17),
            updated=_utc(2021, 10, 16),
            comment="Draft V2 includes better baselines",
            upvotes=42,
        ),
        dict(
            arxiv_id="hep-th/9901001",
            title="Dualities of Strings on Curved Backgrounds",
            abstract="We study dualities of string theories on curved backgrounds and the learning of their "
            "effective actions from symmetry arguments.",
            authors=["Alice Physicist"],
            categories=["hep-th"],
            published=_utc(1999, 1, 4),
            journal_ref="Nucl. Phys. B 999 (1999) 1-20",
            doi="10.1016/S0550-3213(99)00001-1",
            upvotes=1,
        ),
        dict(
            arxiv_id="1706.03762",
            title="Attention Is All You Need",
            abstract="The Transformer is a network architecture based solely on attention mechanisms, dispensing "
            "with recurrence and convolutions entirely, for learning sequence transduction.",
            authors=["Ashish Vaswani", "Noam Shazeer"],
            categories=["cs.CL", "cs.LG"],
            published=_utc(2017, 6, 12),
            upvotes=30,
        ),
        dict(
            arxiv_id="1512.03385",
            title="Deep Residual Learning for Image Recognition",
            abstract="We present a residual learning framework to ease the training of networks that are "
            "substantially deeper than those used previously.",
            authors=["Kaiming He", "Xiangyu Zhang"],
            categories=["cs.CV"],
            published=_utc(2015, 12, 10),
            upvotes=20,
        ),
        dict(
            arxiv_id="1207.0580",
            title="Improving neural networks by preventing co-adaptation of feature detectors",
            abstract="Randomly omitting half of the feature detectors on each training case, dropout, prevents "
            "complex co-adaptations and reduces overfitting when learning neural networks.",
            authors=["Geoffrey E. Hinton", "Nitish Srivastava"],
            categories=["cs.NE", "cs.LG"],
            published=_utc(2012, 7, 3),
            upvotes=10,
        ),
        dict(
            arxiv_id="1412.6980",
            title="Adam: A Method for Stochastic Optimization",
            abstract="We introduce Adam, an algorithm for first-order gradient-based optimization of stochastic "
            "objective functions, for learning with adaptive estimates of lower-order moments.",
            authors=["Diederik P. Kingma", "Jimmy Ba"],
            categories=["cs.LG"],
            published=_utc(2014, 12, 22),
            upvotes=5,
        ),
    ]
    return [make_paper(source="jsonl", **row) for row in rows]


@pytest.fixture(scope="session")
def backend(request: pytest.FixtureRequest) -> str:
    """The storage backend of the demo libraries: session-scoped here (the root conftest's is per test), so that
    each backend's libraries are built and served once. The root conftest parametrises it by ``--backend``."""
    return str(request.param)


@pytest.fixture(scope="session")
def demo_config(request: pytest.FixtureRequest, backend: str) -> Config:
    """Configuration of the demo library on ``backend`` (built once per session, then closed)."""
    return built_once(request, "demo", backend, lambda config: build_demo(config, embedder=demo_embedder()).close())


@pytest.fixture(scope="session")
def library(request: pytest.FixtureRequest, backend: str, demo_config: Config) -> Library:
    """The demo library on ``backend``, opened once per session (see ``kept_for_session``)."""
    opened = lambda: closing(Library(demo_config, embedder=demo_embedder()))  # noqa: E731
    return cast(Library, kept_for_session(request, ("library", backend), opened))


@pytest.fixture(scope="session")
def client(request: pytest.FixtureRequest, backend: str, library: Library) -> TestClient:
    """In-process client of the app on the demo library (lifespan run, so the model warms up)."""
    return cast(TestClient, kept_for_session(request, ("client", backend), lambda: TestClient(create_app(library))))


@pytest.fixture(scope="session")
def server(request: pytest.FixtureRequest, backend: str, demo_config: Config) -> str:
    """Base URL of `dailypapers serve` running on the demo library, started once per backend."""
    return cast(str, kept_for_session(request, ("server", backend), lambda: running_server(demo_config)))


@pytest.fixture(scope="session")
def http(request: pytest.FixtureRequest, backend: str, server: str) -> httpx.Client:
    made = lambda: httpx.Client(base_url=server, timeout=60)  # noqa: E731
    return cast(httpx.Client, kept_for_session(request, ("http", backend), made))


def _build_extra(config: Config) -> None:
    lib = Library(config, embedder=demo_embedder())
    lib.init()
    lib.ingest(extra_papers(), added_at=EXTRA_DAY, progress=False)
    lib.close()


@pytest.fixture(scope="session")
def extra_config(request: pytest.FixtureRequest, backend: str) -> Config:
    """A separate library of :func:`extra_papers` on ``backend``, added on ``EXTRA_DAY``."""
    return built_once(request, "extra", backend, _build_extra)


@pytest.fixture(scope="session")
def extra_http(extra_config: Config) -> Iterator[httpx.Client]:
    """An HTTP client of `dailypapers serve` running on the extra library."""
    with running_server(extra_config) as base, httpx.Client(base_url=base, timeout=60) as c:
        yield c


def titles(page: str) -> list[tuple[str, str]]:
    """``(href, title text)`` of every paper entry on a list page, in order (``<mark>`` tags removed)."""
    return [(href, html.unescape(re.sub(r"</?mark>", "", text))) for href, text in _TITLE_LINK.findall(page)]


def assert_error_json(response: Any, status: int, contains: str = "") -> dict[str, Any]:
    """The one JSON error shape: ``{"ok": false, "error": sentence, "status": code}`` + ``X-Error-Message``
    (and ``request_id`` for a 5xx).

    ``response`` is an httpx response (of the real server or of the in-process TestClient).
    """
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body: dict[str, Any] = response.json()
    # A server error also names the request id (in the body and the X-Request-Id header) for the log.
    assert set(body) == ({"ok", "error", "status", "request_id"} if status >= 500 else {"ok", "error", "status"})
    assert body["ok"] is False and body["status"] == status
    assert body["error"].endswith(".") and contains in body["error"]
    assert response.headers["x-error-message"] == body["error"]
    return body
