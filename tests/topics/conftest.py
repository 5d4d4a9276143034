"""Fixtures of the topic tests: the demo corpus with its map computed (and the key phrases of its first papers),
built once per backend per session, an in-process client of the app on it.

The map job writes, so these tests never use the web tests' shared demo library: ``topics_config`` is a library of
its own (the same corpus, the same memoised embedder, so its vectors cost nothing more).
"""

from __future__ import annotations

from contextlib import closing
from typing import cast

import pytest
from fastapi.testclient import TestClient

from dailypapers.config import Config
from dailypapers.library import Library
from dailypapers.web.app import create_app
from tests.demo import build_demo, built_once, demo_embedder, kept_for_session

PHRASE_PAPERS = 12  # key phrases of the first papers only: the job embeds ~40 short texts a paper


def _build(config: Config) -> None:
    lib = build_demo(config, embedder=demo_embedder())
    try:
        lib.topics.update_map()
        lib.topics.update_phrases(limit=PHRASE_PAPERS)
    finally:
        lib.close()


@pytest.fixture(scope="session")
def backend(request: pytest.FixtureRequest) -> str:
    """Session-scoped, as in tests/web: each backend's topic library is built once."""
    return str(request.param)


@pytest.fixture(scope="session")
def topics_config(request: pytest.FixtureRequest, backend: str) -> Config:
    return built_once(request, "topics", backend, _build)


@pytest.fixture(scope="session")
def topics_library(request: pytest.FixtureRequest, backend: str, topics_config: Config) -> Library:
    opened = lambda: closing(Library(topics_config, embedder=demo_embedder()))  # noqa: E731
    return cast(Library, kept_for_session(request, ("topics-library", backend), opened))


@pytest.fixture(scope="session")
def topics_client(request: pytest.FixtureRequest, backend: str, topics_library: Library) -> TestClient:
    made = lambda: TestClient(create_app(topics_library))  # noqa: E731
    return cast(TestClient, kept_for_session(request, ("topics-client", backend), made))
