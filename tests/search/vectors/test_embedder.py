"""The real embedding model: shape, normalisation, determinism, semantics, bf16 agreement, lazy loading."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from dailypapers.search.vectors.embedder import SMALL_BATCH, MiniLMEmbedder, resolve_precision

DROPOUT_ABSTRACT = (
    "Multi-Sample Dropout for Accelerated Training and Better Generalization. Dropout is a simple but efficient "
    "regularization technique for achieving better generalization of deep neural networks (DNNs); hence it is "
    "widely used in tasks based on DNNs. During training, dropout randomly discards a portion of the neurons to "
    "avoid overfitting. This paper presents an enhanced dropout technique, which we call multi-sample dropout, "
    "for both accelerating training and improving generalization over the original dropout."
)
RL_ABSTRACT = (
    "Proximal Policy Optimization Algorithms. We propose a new family of policy gradient methods for reinforcement "
    "learning, which alternate between sampling data through interaction with the environment, and optimizing a "
    "surrogate objective function using stochastic gradient ascent."
)
TEXTS = ["dropout regularization for neural networks", DROPOUT_ABSTRACT, RL_ABSTRACT]


def test_shape_norm_dtype(embedder: MiniLMEmbedder) -> None:
    vecs = embedder.embed(TEXTS)
    assert vecs.shape == (3, 384) and vecs.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vecs, axis=1), 1.0, atol=1e-5)
    assert embedder.name == "all-MiniLM-L6-v2" and embedder.dim == 384
    assert embedder.embed([]).shape == (0, 384)


def test_deterministic_and_batch_independent(embedder: MiniLMEmbedder) -> None:
    a = embedder.embed(TEXTS)
    b = embedder.embed(TEXTS)
    np.testing.assert_array_equal(a, b)
    one = embedder.embed_one(TEXTS[1])
    assert one.shape == (384,)
    assert float(one @ a[1]) > 0.99999


def test_short_inputs_use_the_trace_with_the_same_vectors(embedder: MiniLMEmbedder) -> None:
    texts = [*TEXTS, "graph neural networks", "a", "ünïcödé protein folding with transformers"]
    assert len(texts) > SMALL_BATCH  # a batch this size goes through sentence-transformers' encode()
    full = embedder.embed(texts)
    assert embedder.traced
    for i, text in enumerate(texts):  # one text at a time: through the trace
        assert float(embedder.embed_one(text) @ full[i]) > 0.99999
    pair = embedder.embed(texts[:2])  # a padded batch through the trace
    assert float(np.min(np.sum(pair * full[:2], axis=1))) > 0.99999


def test_semantic_similarity(embedder: MiniLMEmbedder) -> None:
    q, dropout, rl = embedder.embed(TEXTS)
    assert float(q @ dropout) > 0.5
    assert float(q @ dropout) > float(q @ rl) + 0.3


def test_bf16_agrees_with_fp32(embedder: MiniLMEmbedder) -> None:
    bf16 = MiniLMEmbedder(precision="bf16")
    texts = TEXTS * 2
    assert len(texts) > SMALL_BATCH  # a batch: the eager model under bf16 autocast
    a, b = embedder.embed(texts), bf16.embed(texts)
    assert b.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(b, axis=1), 1.0, atol=1e-5)
    assert np.min(np.sum(a * b, axis=1)) > 0.999
    query = bf16.embed_one(TEXTS[0])  # a query: the trace (of bf16 weights where the CPU has native bf16)
    assert bf16.traced and float(query @ a[0]) > 0.9999 and float(query @ b[0]) > 0.999
    long = bf16.embed_one(" ".join(TEXTS * 12))  # past 256 tokens: truncated like the model's own encode
    assert float(long @ embedder.embed_one(" ".join(TEXTS * 12))) > 0.9999


def test_lazy_load_and_precision() -> None:
    emb = MiniLMEmbedder(precision="auto")
    assert not emb.loaded and emb.precision in ("bf16", "fp32")
    assert resolve_precision("fp32") == "fp32" and resolve_precision("bf16") == "bf16"
    with pytest.raises(ValueError):
        resolve_precision("fp16")


def test_thread_safe(embedder: MiniLMEmbedder) -> None:
    expected = embedder.embed(TEXTS)
    results: list[np.ndarray] = []

    def work() -> None:
        results.append(embedder.embed(TEXTS))

    threads = [threading.Thread(target=work) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 3
    for r in results:
        np.testing.assert_allclose(r, expected, atol=1e-6)


def test_loads_without_network(embedder: MiniLMEmbedder) -> None:
    import huggingface_hub.constants as hub

    from tests.search.vectors.conftest import CONNECT_ATTEMPTS, HUB_OFFLINE_BEFORE

    assert embedder.loaded
    assert CONNECT_ATTEMPTS == []
    assert [hub.HF_HUB_OFFLINE] == HUB_OFFLINE_BEFORE  # offline mode was switched on for the load only
