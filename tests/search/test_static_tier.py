"""The static embedding tier (:mod:`dailypapers.search.vectors.static`) and switching the embedding model.

The model is distilled once per session, offline (outgoing connections refused), and copied into each test's data
folder. A model switch is checked on both backends through the library and through the real CLI in a subprocess,
killed midway and run again.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from datetime import date
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import pytest

from bench.corpus import CACHE as BENCH_CACHE
from dailypapers.config import Config, ConfigError
from dailypapers.demo import DEMO_CORPUS
from dailypapers.library import Library
from dailypapers.papers.models import Paper, make_paper
from dailypapers.search.vectors.embedder import MiniLMEmbedder, resolve_device
from dailypapers.search.vectors.index import model_folder
from dailypapers.search.vectors.static import (
    STATIC_MODEL_NAME,
    StaticEmbedder,
    ensure_static_model,
    static_model_dir,
)
from tests.demo import demo_embedder, server_env

pytestmark = pytest.mark.slow  # the static model is distilled (~20-60 s) before these run

MINILM = MiniLMEmbedder.name
HAS_CUDA = resolve_device("auto") == "cuda"


class Built(NamedTuple):
    folder: Path
    connect_attempts: list[Any]


def _refusing_connections(attempts: list[Any]) -> Any:
    real_connect = socket.socket.connect

    def refuse(self: socket.socket, address: Any) -> None:
        if self.family in (socket.AF_INET, socket.AF_INET6):
            attempts.append(address)
            raise OSError("network disabled while building the static model")
        real_connect(self, address)

    return refuse


@pytest.fixture(scope="session")
def built() -> Built:
    """The static model, built with the hub offline and every outgoing connection refused: where the benchmarks keep
    theirs (bench/data/, gitignored), so that the suite and ``bench.tiers`` build it once between them (its file
    lock makes a second process, another test worker say, wait for the first build)."""
    folder = static_model_dir(BENCH_CACHE)
    attempts: list[Any] = []
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("HF_HUB_OFFLINE", "1")
        mp.setattr(socket.socket, "connect", _refusing_connections(attempts))
        ensure_static_model(folder, progress=False)
    return Built(folder, attempts)


@pytest.fixture(scope="session")
def static(built: Built) -> StaticEmbedder:
    return StaticEmbedder(built.folder)


def with_static_model(config: Config, built: Built, **changes: Any) -> Config:
    """``config`` switched to the static model, with the session's model copied into its data folder."""
    target = static_model_dir(config.data_dir)
    if not target.exists():
        shutil.copytree(built.folder, target)
    return dataclasses.replace(config, embed_model="static", **changes)


def demo_papers(n: int, *, abstract_chars: int = 400) -> list[Paper]:
    rows = [json.loads(line) for line in DEMO_CORPUS.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [
        make_paper(
            title=f"{r['title']}" if i < len(rows) else f"{r['title']} (variant {i // len(rows)})",
            abstract=r["abstract"][:abstract_chars],
            source="jsonl",
            added_at=date(2026, 11, 18),
        )
        for i, r in ((i, rows[i % len(rows)]) for i in range(n))
    ]


# -- the static embedder ---------------------------------------------------------------------------------------------
def test_vectors_are_float32_unit_rows(static: StaticEmbedder) -> None:
    texts = ["graph neural networks", "Dropout. " * 500, "🙂", ""]  # the last two have no known token
    v = static.embed(texts)
    assert v.shape == (4, static.dim) == (4, 256) and v.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(v, axis=1), 1.0, atol=1e-5)
    np.testing.assert_array_equal(v[2], v[3])  # both fall back to the vector of the unknown token
    assert static.embed([]).shape == (0, 256)


def test_deterministic_and_batch_independent(static: StaticEmbedder) -> None:
    texts = [f"{p.title}. {p.abstract}" for p in demo_papers(20)]
    together = static.embed(texts)
    np.testing.assert_array_equal(together, static.embed(texts))
    np.testing.assert_allclose(np.vstack([static.embed([t]) for t in texts]), together, atol=1e-6)


def test_similar_texts_are_closer_than_unrelated_ones(static: StaticEmbedder) -> None:
    a, b, c = static.embed(
        [
            "dropout regularization prevents overfitting in deep neural networks",
            "randomly dropping units during training reduces overfitting of neural nets",
            "a slow-cooked tomato sauce with garlic and fresh basil",
        ]
    )
    assert a @ b > a @ c + 0.2 and a @ b > b @ c + 0.2


def test_the_build_made_no_connection(built: Built) -> None:
    """(When this session built it; the init test below always builds one under the same watch.)"""
    assert built.connect_attempts == []
    assert (built.folder / "model.safetensors").is_file()
    assert json.loads((built.folder / "dailypapers.json").read_text())["name"] == STATIC_MODEL_NAME


def test_a_folder_that_is_not_a_model_is_reported_and_kept(tmp_path: Path) -> None:
    folder = tmp_path / STATIC_MODEL_NAME
    folder.mkdir()
    (folder / "notes.txt").write_text("mine")
    with pytest.raises(FileExistsError, match="is not a model2vec model"):
        ensure_static_model(folder)
    assert (folder / "notes.txt").read_text() == "mine"


def _cli(config: Config, **extra: str) -> dict[str, str]:
    """The environment of a ``dailypapers`` subprocess on ``config``'s database with the static model."""
    return server_env(config, DAILYPAPERS_EMBED_MODEL="static", **extra)


@pytest.mark.slow  # a build of ~20 s (and a killed one)
def test_init_builds_the_model_atomically_once_offline_and_deterministically(
    built: Built, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """`dailypapers init` killed while building leaves no model; then two concurrent callers build it once, with no
    network and no HF_HUB_OFFLINE in the environment, and it embeds exactly like the session's model.

    The build is about files, not storage: it runs once, in a SQLite data folder (the static model on PostgreSQL is
    tested by the re-embedding tests below, on both backends)."""
    db_config = Config(password_hash="cheapest", data_dir=tmp_path)
    folder = static_model_dir(db_config.data_dir)
    init = [sys.executable, "-m", "dailypapers", "init"]
    proc = subprocess.Popen(init, env=_cli(db_config), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while not list(folder.parent.glob(f".{folder.name}.tmp-*")) and proc.poll() is None:
        assert time.monotonic() < deadline, "init never started building the model"
        time.sleep(0.05)
    time.sleep(1.0)  # well into the distillation (~20 s)
    proc.send_signal(signal.SIGKILL)
    assert proc.wait() == -signal.SIGKILL  # killed during the build, not after it
    assert not folder.exists() and list(folder.parent.glob(f".{folder.name}.tmp-*"))  # only the temporary folder

    attempts: list[Any] = []
    results: list[Path | BaseException] = []

    def build() -> None:
        try:
            results.append(ensure_static_model(folder, progress=False))
        except BaseException as exc:  # reported by the assertion below
            results.append(exc)

    caplog.set_level(logging.INFO, logger="dailypapers.search.vectors.static")
    with pytest.MonkeyPatch.context() as mp:
        mp.delenv("HF_HUB_OFFLINE", raising=False)
        mp.setattr(socket.socket, "connect", _refusing_connections(attempts))
        threads = [threading.Thread(target=build) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert "HF_HUB_OFFLINE" not in os.environ  # switched on for the build only
    assert results == [folder, folder] and attempts == []
    assert sum(r.getMessage().startswith("building the static") for r in caplog.records) == 1
    assert not list(folder.parent.glob(f".{folder.name}.tmp-*"))  # the killed build's leftovers are gone
    texts = [f"{p.title}. {p.abstract}" for p in demo_papers(50)]
    np.testing.assert_array_equal(StaticEmbedder(folder).embed(texts), StaticEmbedder(built.folder).embed(texts))
    done = subprocess.run(init, env=_cli(db_config), capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and f"static embedding model ready in {folder}" in done.stdout, done.stderr


# -- choosing the model and the device -------------------------------------------------------------------------------
def test_the_library_uses_the_configured_model(tmp_path: Path) -> None:
    static_lib = Library(Config(password_hash="cheapest", data_dir=tmp_path / "a", embed_model="static"))
    minilm_lib = Library(Config(password_hash="cheapest", data_dir=tmp_path / "b", embed_device="cpu"))
    try:
        emb = static_lib.embedder
        assert isinstance(emb, StaticEmbedder) and not emb.loaded  # nothing built or loaded yet
        assert emb.model_dir == tmp_path / "a" / "models" / STATIC_MODEL_NAME and emb.name == STATIC_MODEL_NAME
        minilm = minilm_lib.embedder
        assert isinstance(minilm, MiniLMEmbedder) and minilm.device == "cpu" and not minilm.loaded
    finally:
        static_lib.close()
        minilm_lib.close()


@pytest.mark.skipif(HAS_CUDA, reason="this machine has a CUDA device")
def test_cuda_without_a_gpu_is_a_clear_error(db_config: Config) -> None:
    from click.testing import CliRunner

    from dailypapers.cli import main
    from tests.demo import cli_env

    with pytest.raises(ConfigError, match="DAILYPAPERS_EMBED_DEVICE=cuda, but torch finds no CUDA device"):
        MiniLMEmbedder(device="cuda")
    env = cli_env(db_config) | {"DAILYPAPERS_EMBED_DEVICE": "cuda"}
    result = CliRunner().invoke(main, ["index", "update"], env=env)
    assert result.exit_code == 1 and "DAILYPAPERS_EMBED_DEVICE=cuda" in result.output


@pytest.mark.skipif(HAS_CUDA, reason="this machine has a CUDA device")
def test_auto_picks_the_cpu_here() -> None:
    emb = MiniLMEmbedder(device="auto", batch_size=64)
    assert resolve_device("auto") == "cpu" and emb.device == "cpu" and emb.batch_size == 64
    with pytest.raises(ConfigError, match="must be one of auto, cuda, cpu"):
        resolve_device("tpu")


# -- switching models ------------------------------------------------------------------------------------------------
N_SWITCH = 30


def _stored(lib: Library, model: str) -> dict[int, np.ndarray]:
    return {int(k): v for pks, vecs in lib.store.iter_embeddings(model) for k, v in zip(pks, vecs, strict=True)}


def _hnsw_indexes(config: Config) -> set[str]:
    """Names of the partial HNSW indexes on ``embeddings`` in ``config``'s PostgreSQL schema (empty on SQLite)."""
    if not config.database_url:
        return set()
    import psycopg

    with psycopg.connect(config.database_url) as conn:
        rows = conn.execute(
            "SELECT indexname FROM pg_indexes"
            " WHERE schemaname = current_schema() AND indexname LIKE 'embeddings_hnsw_%'"
        ).fetchall()
    return {r[0] for r in rows}


def test_a_switch_reembeds_every_paper_and_searches_only_the_new_vectors(db_config: Config, built: Built) -> None:
    old = Library(db_config, embedder=demo_embedder())
    try:
        old.init()
        old.store.upsert_papers(demo_papers(N_SWITCH))
        assert old.search.update_index(progress=False) == N_SWITCH
        minilm_before = _stored(old, MINILM)
    finally:
        old.close()

    lib = Library(with_static_model(db_config, built))
    try:
        assert lib.search.update_index(progress=False) == N_SWITCH
        assert lib.papers.embedding_counts() == {MINILM: N_SWITCH, STATIC_MODEL_NAME: N_SWITCH}
        for pk, vector in _stored(lib, MINILM).items():  # the old model's rows are untouched
            np.testing.assert_array_equal(vector, minilm_before[pk])
        vectors = _stored(lib, STATIC_MODEL_NAME)
        assert lib.search.vectors.size() == N_SWITCH and set(vectors) == set(minilm_before)

        # Similar papers and semantic search rank by the static vectors (the MiniLM ones would rank otherwise).
        for paper in lib.store.get_papers_by_pk(sorted(vectors)[:5]):
            assert paper.pk is not None
            mine = vectors[paper.pk]
            expected = sorted((k for k in vectors if k != paper.pk), key=lambda k: -float(vectors[k] @ mine))[:5]
            got = lib.search.similar(paper, k=5)
            assert [p.pk for p, _ in got] == expected
            np.testing.assert_allclose([s for _, s in got], [vectors[k] @ mine for k in expected], atol=1e-4)
        query = "regularization of deep networks with dropout"
        q = lib.embedder.embed([query])[0]
        page = lib.search.query(query, mode="semantic", page_size=5)
        assert [r.paper.pk for r in page.results] == sorted(vectors, key=lambda k: -float(vectors[k] @ q))[:5]

        # Pruning deletes the other model's rows and its index, and keeps the current one working.
        old_index = model_folder(db_config.vector_dir, MINILM) / "CURRENT"
        assert old_index.exists() == (lib.papers.backend == "sqlite")
        pg_indexes = _hnsw_indexes(db_config)
        assert len(pg_indexes) == (2 if lib.papers.backend == "postgres" else 0)  # one per model
        assert lib.search.prune_other_models() == {MINILM: N_SWITCH}
        assert lib.papers.embedding_counts() == {STATIC_MODEL_NAME: N_SWITCH}
        assert not old_index.exists() and lib.store.count_needing_embedding(MINILM) == N_SWITCH
        assert len(_hnsw_indexes(db_config)) == len(pg_indexes) // 2  # MiniLM's is gone, the static one kept
        assert lib.search.prune_other_models() == {}
        assert [p.pk for p, _ in lib.search.similar(paper, k=5)] == expected
    finally:
        lib.close()
    if lib.papers.backend == "sqlite":  # a fresh process finds the static index in its own folder
        assert (model_folder(db_config.vector_dir, STATIC_MODEL_NAME) / "CURRENT").exists()


@pytest.mark.slow  # a subprocess embeds a few hundred papers one by one, twice
def test_a_killed_reembedding_resumes_where_it_stopped(db_config: Config, built: Built) -> None:
    total = 600
    config = with_static_model(db_config, built)
    lib = Library(config)
    try:
        lib.init()
        lib.store.upsert_papers(demo_papers(total, abstract_chars=200))
        index = [sys.executable, "-m", "dailypapers", "index", "update"]
        env = _cli(config, DAILYPAPERS_EMBED_BATCH="1")  # a commit per paper: the kill lands between two
        proc = subprocess.Popen(index, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 120
        while lib.papers.embedding_counts().get(STATIC_MODEL_NAME, 0) < 20:
            assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
            assert time.monotonic() < deadline, "no embedding was stored in time"
            time.sleep(0.01)
        proc.send_signal(signal.SIGKILL)
        assert proc.wait() == -signal.SIGKILL
        stopped_at = lib.papers.embedding_counts()[STATIC_MODEL_NAME]
        assert 20 <= stopped_at < total

        done = subprocess.run(index, env=env, capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr
        assert done.stdout.strip() == f"embedded {total - stopped_at} papers"  # the rest, nothing twice
        assert lib.papers.embedding_counts() == {STATIC_MODEL_NAME: total}
        assert lib.store.count_needing_embedding(STATIC_MODEL_NAME) == 0
    finally:
        lib.close()
    fresh = Library(config)  # the index as a new process finds it (SQLite: repaired from the stored vectors)
    try:
        vectors = fresh.search.vectors
        assert vectors.size() == total
        pks = sorted(_stored(fresh, STATIC_MODEL_NAME))
        assert len(pks) == total and all(vectors.similar(pk, 1) for pk in pks)
    finally:
        fresh.close()
