"""Test helpers shared by the whole suite: the demo corpus, a demo library, and the real server in a subprocess.

The demo library is built by the same code `dailypapers init --demo` runs (JSONL import, embedding, ANN index).
Its papers are spread over three consecutive days so that daily pages and previous/next navigation have
something to show.

The web and Hugging Face tests run against every storage backend ``--backend`` selects: :func:`built_once` builds
each of their libraries once per backend per session (a fresh schema on the session's PostgreSQL server, or a
fresh SQLite folder), and every build embeds its papers once, with one model loaded for the whole session
(:func:`demo_embedder`).
"""

from __future__ import annotations

import functools
import itertools
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from datetime import date, timedelta
from itertools import islice
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import numpy as np

from dailypapers.config import Config
from dailypapers.demo import DEMO_CORPUS as DEMO_PACKAGE_CORPUS
from dailypapers.library import Library
from dailypapers.search.vectors.embedder import Embedder, MiniLMEmbedder

if TYPE_CHECKING:
    import pytest

ROOT = Path(__file__).resolve().parents[1]
DEMO_CORPUS = DEMO_PACKAGE_CORPUS
DEMO_DAYS = (date(2026, 11, 18), date(2026, 11, 19), date(2026, 11, 20))  # Wed, Thu, Fri of ISO week 47
DROPOUT_TITLE = "Multi-Sample Dropout for Accelerated Training and Better Generalization"


_schema_numbers = itertools.count(1)
_built: dict[tuple[str, str], Config] = {}
_kept: dict[tuple[str, ...], Any] = {}


class MemoEmbedder:
    """The session's model with a memory: a text it embedded once is not embedded again.

    The demo corpus is indexed by several test libraries (both backends, the web, mail and Hugging Face tests);
    its vectors are the model's own, computed once per test process instead of once per library. Everything else
    (``name``, ``dim``, ``loaded``, …) is the model's.
    """

    def __init__(self, model: Embedder) -> None:
        self.model = model
        self.name, self.dim = model.name, model.dim
        self._vectors: dict[str, np.ndarray] = {}
        self._lock = threading.Lock()

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        with self._lock:
            missing = [t for t in dict.fromkeys(texts) if t not in self._vectors]
            if missing:
                self._vectors.update(zip(missing, self.model.embed(missing), strict=True))
            if not texts:
                return np.zeros((0, self.dim), dtype=np.float32)
            return np.stack([self._vectors[t] for t in texts]).astype(np.float32, copy=False)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.model, name)


@functools.cache
def demo_embedder() -> Embedder:
    """One embedding model for the session's test libraries (loading it takes seconds; it is thread-safe), with a
    memory of what it embedded (:class:`MemoEmbedder`)."""
    return MemoEmbedder(MiniLMEmbedder(precision=Config.embed_precision))


def backend_config(request: pytest.FixtureRequest, backend: str, data_dir: Path) -> Config:
    """The configuration of a new, empty library on ``backend``: SQLite in ``data_dir``, or PostgreSQL in a fresh
    schema of the session's server (``postgres_server`` of the root conftest; it is dropped with the server)."""
    if backend == "sqlite":
        return Config(data_dir=data_dir, password_hash="cheapest")
    import psycopg

    from tests.pg import schema_uri

    server: str = request.getfixturevalue("postgres_server")
    name = f"demo_{next(_schema_numbers)}"
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS vector SCHEMA public")
        conn.execute(f"CREATE SCHEMA {name}")
    return Config(data_dir=data_dir, database_url=schema_uri(server, name), password_hash="cheapest")


def kept_for_session(request: pytest.FixtureRequest, key: tuple[str, ...], make: Callable[[], Any]) -> Any:
    """The value of the context manager ``make()`` for ``key``, entered the first time it is asked for and left at
    the end of the session (by :func:`session_stack`).

    pytest tears a session fixture parametrised by backend down each time the backend changes, and with a test
    module per process (``--dist loadfile``) it changes twice per module: the demo's library, in-process client and
    server were started ~70 times a run (~3 s each) instead of once per backend."""
    if key not in _kept:
        # PostgreSQL's resources are closed before the session's server stops (that stack depends on the server)
        stack: ExitStack = request.getfixturevalue("postgres_stack" if "postgres" in key else "session_stack")
        _kept[key] = stack.enter_context(make())
    return _kept[key]


def built_once(request: pytest.FixtureRequest, name: str, backend: str, build: Callable[[Config], None]) -> Config:
    """The configuration of library ``name`` on ``backend``, built by ``build`` the first time it is asked for in
    this session (a session fixture parametrised by backend may be set up again when pytest interleaves tests of
    the two backends; the library is not built again)."""
    key = (name, backend)
    if key not in _built:
        tmp = request.getfixturevalue("tmp_path_factory").mktemp(f"{name}-{backend}")
        config = backend_config(request, backend, tmp)
        started = time.monotonic()
        build(config)
        print(f"\n{name} library on {backend} built in {time.monotonic() - started:.1f} s")
        _built[key] = config
    return _built[key]


def build_demo(config: Config, *, embedder: Embedder | None = None) -> Library:
    """Import the demo corpus into ``config``'s store in three daily batches and index it."""
    from dailypapers.papers.sources.jsonl import read_jsonl

    lib = Library(config, embedder=embedder)
    lib.init()
    records = list(read_jsonl(DEMO_CORPUS))
    per_day = -(-len(records) // len(DEMO_DAYS))
    it = iter(records)
    for day in DEMO_DAYS:
        lib.ingest(islice(it, per_day), added_at=day, progress=False, index=False)
    lib.search.update_index(progress=False)
    return lib


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def cli_env(config: Config) -> dict[str, str | None]:
    """The environment of a ``CliRunner`` invocation on ``config``'s database: every other ``DAILYPAPERS_*``
    variable unset (``None``), so the caller's own settings never leak in."""
    env: dict[str, str | None] = {k: None for k in os.environ if k.startswith("DAILYPAPERS_")}
    env.update(DAILYPAPERS_DATA_DIR=str(config.data_dir), DAILYPAPERS_DATABASE_URL=config.database_url)
    return env


def server_env(config: Config, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DAILYPAPERS_")}
    env.update(
        DAILYPAPERS_DATA_DIR=str(config.data_dir),
        DAILYPAPERS_DATABASE_URL=config.database_url,
        DAILYPAPERS_LOG_LEVEL="WARNING",
        # Most servers of the suite never search: loading the model at start cost each of ~30 servers seconds of
        # CPU. A test that searches pays it on its first search (or passes DAILYPAPERS_WARM_UP="true").
        DAILYPAPERS_WARM_UP="false",
        DAILYPAPERS_PASSWORD_HASH=config.password_hash,
        **extra,
    )
    return env


@contextmanager
def running_server(
    config: Config, *, workers: int = 1, timeout: float = 60.0, env: dict[str, str] | None = None
) -> Iterator[str]:
    """Start `dailypapers serve` on a free loopback port; yield its base URL; stop it afterwards.

    The server's output goes to ``server-<port>.log`` in the data folder (a pipe nobody reads would fill up with
    logged errors and block the server); its end is shown when the server does not start.
    """
    port = free_port()
    config.data_dir.mkdir(parents=True, exist_ok=True)
    log = (config.data_dir / f"server-{port}.log").open("w+b")  # closed once the server has stopped
    proc = subprocess.Popen(
        [sys.executable, "-m", "dailypapers", "serve", "--host", "127.0.0.1", "--port", str(port),
         "--workers", str(workers)],
        env=server_env(config, **(env or {})),
        stdout=log,
        stderr=subprocess.STDOUT,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"

    def output() -> str:
        log.seek(0)
        return log.read().decode(errors="replace")[-5000:]

    try:
        deadline = time.monotonic() + timeout
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"server exited with {proc.returncode}:\n{output()}")
            try:
                if httpx.get(base + "/healthz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"server did not start in time:\n{output()}")
            time.sleep(0.2)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


def days_ago(n: int) -> date:
    return date.today() - timedelta(days=n)
