"""Shared parts of the job tests: a deterministic embedder, the fake arXiv feed host, and a library factory."""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import replace

import numpy as np
import pytest

from dailypapers.config import Config
from dailypapers.library import Library
from tests.fakes_arxiv import serve
from tests.papers.sources.conftest import fixture_bytes
from tests.papers.sources.test_arxiv_feed import RSS, FeedServer


class HashEmbedder:
    """A deterministic stand-in for the real model: 8 dimensions from a hash of the text (the scheduler's tests
    are about when jobs run, not about what the model makes of a text)."""

    name = "hash-8"
    dim = 8

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        rows = [np.frombuffer(hashlib.sha256(t.encode()).digest()[:8], dtype=np.uint8) + 1.0 for t in texts]
        out = np.array(rows, dtype=np.float32).reshape(len(texts), self.dim)
        return out / np.linalg.norm(out, axis=1, keepdims=True)


class BlockingFeed(FeedServer):
    """The feed host, serving arXiv's Monday feed; ``gate`` (set by default) holds every answer while cleared, so a
    test can keep a job running, or kill its process mid-request."""

    def __init__(self) -> None:
        super().__init__()
        self.today = (200, RSS, fixture_bytes("arxiv_feed_day1.xml"))
        self.gate = threading.Event()
        self.gate.set()
        self.arrived = threading.Event()

    def respond(self, path: str, params: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
        self.arrived.set()
        self.gate.wait(60)
        return super().respond(path, params)


@pytest.fixture
def feed() -> Iterator[BlockingFeed]:
    with serve(BlockingFeed()) as server:
        assert isinstance(server, BlockingFeed)
        yield server


@pytest.fixture
def job_config(db_config: Config, feed: BlockingFeed) -> Config:
    """The test database, following cs.LG from the fake feed host, retrying twice after 60 s and 120 s."""
    return replace(
        db_config,
        categories="cs.LG",
        arxiv_feed_url=feed.url,
        schedule="ingest.announcements=0 * * * *; index.embed=*/10 * * * *",
        job_retries=2,
        job_backoff=60.0,
    )


@pytest.fixture
def make_library(job_config: Config) -> Iterator[Callable[..., Library]]:
    """Libraries on the test database, each with stores of its own (as separate workers have); closed at the end."""
    made: list[Library] = []

    def make(**changes: object) -> Library:
        lib = Library(replace(job_config, **changes), embedder=HashEmbedder())  # type: ignore[arg-type]
        made.append(lib)
        return lib

    yield make
    for lib in made:
        lib.close()
