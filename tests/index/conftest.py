"""Fixtures of the index tests: one real all-MiniLM-L6-v2 embedder per session (loading it takes ~2 s)."""

from __future__ import annotations

import pytest

from dailypapers.index.embedder import MiniLMEmbedder


@pytest.fixture(scope="session")
def embedder() -> MiniLMEmbedder:
    emb = MiniLMEmbedder(precision="fp32")
    emb.load()
    return emb
