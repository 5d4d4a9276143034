"""Shared parts of the operations tests: a small library of each backend, with a deterministic embedder."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Sequence
from datetime import date

import numpy as np
import pytest

from dailypapers.config import Config
from dailypapers.library import Library
from dailypapers.papers.models import make_paper


class HashEmbedder:
    """8 dimensions from a hash of the text: these tests are about what is stored and indexed where, not about
    what a model makes of a text (the suite's other tests load the real one)."""

    name = "hash-8"
    dim = 8

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        rows = [np.frombuffer(hashlib.sha256(t.encode()).digest()[:8], dtype=np.uint8) + 1.0 for t in texts]
        out = np.array(rows, dtype=np.float32).reshape(len(texts), self.dim)
        return out / np.linalg.norm(out, axis=1, keepdims=True)


def papers(n: int, start: int = 0) -> list:
    return [
        make_paper(arxiv_id=f"2401.{10000 + i}", title=f"Paper number {i} on sparse attention",
                   abstract=f"We study topic {i} and its regularization.", source="jsonl")
        for i in range(start, start + n)
    ]  # fmt: skip


@pytest.fixture
def ops_library(db_config: Config) -> Iterator[Library]:
    """Five papers, imported and indexed, on a fresh database of the backend under test."""
    lib = Library(db_config, embedder=HashEmbedder())
    lib.init()
    lib.ingest(papers(5), added_at=date(2026, 11, 20), progress=False)
    yield lib
    lib.close()
