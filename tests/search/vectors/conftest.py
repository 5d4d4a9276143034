"""Fixtures of the index tests: one real all-MiniLM-L6-v2 embedder per session (loading it takes a few seconds)."""

from __future__ import annotations

import socket
from typing import Any

import pytest

from dailypapers.search.vectors.embedder import MiniLMEmbedder

CONNECT_ATTEMPTS: list[Any] = []
HUB_OFFLINE_BEFORE: list[bool] = []


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
