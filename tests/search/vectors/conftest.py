"""Fixtures of the index tests: one real all-MiniLM-L6-v2 embedder per session (loading it takes a few seconds), and
the quantized graph built from a few rows on (the shipped index searches exactly below 10,000: the tests' small
indexes would never reach the graph)."""

from __future__ import annotations

import socket
from typing import Any

import pytest

from dailypapers.search.vectors.embedder import MiniLMEmbedder
from dailypapers.search.vectors.hnsw import AnnIndex

CONNECT_ATTEMPTS: list[Any] = []
HUB_OFFLINE_BEFORE: list[bool] = []


GRAPH_MIN = 16


@pytest.fixture(autouse=True)
def small_graph(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(AnnIndex, "GRAPH_MIN", GRAPH_MIN)


@pytest.fixture(scope="session")
def embedder() -> MiniLMEmbedder:
    """The real model, loaded with outgoing connections refused and recorded (see test_loads_without_network)."""
    emb = MiniLMEmbedder(precision="fp32")
    real_connect = socket.socket.connect

    def refuse(self: socket.socket, address: Any) -> None:
        if self.family in (socket.AF_INET, socket.AF_INET6):
            CONNECT_ATTEMPTS.append(address)
            raise OSError("network disabled while loading the model")
        real_connect(self, address)

    import huggingface_hub.constants as hub

    HUB_OFFLINE_BEFORE.append(hub.HF_HUB_OFFLINE)
    socket.socket.connect = refuse  # type: ignore[method-assign,assignment]
    try:
        emb.load()
    finally:
        socket.socket.connect = real_connect  # type: ignore[method-assign]
    return emb
