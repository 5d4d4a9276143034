"""Kill -9 sweep: a real ``dailypapers`` subprocess killed with SIGKILL in the middle of its work, on both backends;
then ``dailypapers check`` is clean, nothing committed is lost, nothing is duplicated, and rerunning the command
finishes the work.

Each kill waits for a *state*, never a time: the process has committed part of its work (papers, embeddings or
copied rows counted in the database) and is still running. The embedding model is the static tier (built once for
the suite and the benchmarks in bench/data/, linked into each data folder): these tests are about what a crash
leaves behind, and it loads in a second where MiniLM takes several.

Covered elsewhere, not repeated here: ``mail deliver`` killed at each moment of the SMTP exchange
(tests/mail/test_kill_sender.py), an OAI-PMH harvest killed between pages (tests/papers/test_oai.py), ``jobs run``
killed mid-run (tests/jobs/test_worker_cli.py), the static model's build killed (tests/search/test_static_tier.py).
"""

from __future__ import annotations

import dataclasses
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path

import pytest

from dailypapers.config import Config
from dailypapers.library import Library
from dailypapers.ops.check import run_checks
from dailypapers.papers.models import Paper, make_paper
from dailypapers.papers.store import open_store
from dailypapers.search.vectors.static import STATIC_MODEL_NAME, ensure_static_model, static_model_dir
from tests.demo import ROOT, server_env
from tests.mail.smtp_server import SmtpServer

pytestmark = pytest.mark.slow
TOPICS = ("dropout", "attention", "graph", "sparse", "retrieval", "diffusion", "robust", "kernel", "bandit", "flow")


@pytest.fixture(scope="session")
def static_model() -> Path:
    """The static model, built once where the benchmarks and tests/search keep it."""
    from bench.corpus import CACHE

    return ensure_static_model(static_model_dir(CACHE), progress=False)


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    """A real SMTP server on 127.0.0.1 (aiosmtpd) recording what it accepts."""
    with SmtpServer() as server:
        yield server


@pytest.fixture
def config(db_config: Config, static_model: Path) -> Config:
    """The backend's fresh database, its data folder holding (a link to) the static model."""
    target = static_model_dir(db_config.data_dir)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.symlink_to(static_model, target_is_directory=True)
    return dataclasses.replace(db_config, embed_model="static")


def paper(i: int) -> Paper:
    topic = TOPICS[i % len(TOPICS)]
    return make_paper(arxiv_id=f"2401.{i:05d}", title=f"On {topic} number {i}", source="jsonl",
                      abstract=f"We study {topic} in setting {i} and report {i % 7} findings.")  # fmt: skip


def jsonl(path: Path, n: int) -> Path:
    with path.open("w") as f:
        for i in range(1, n + 1):
            p = paper(i)
            f.write(json.dumps({"id": p.id, "title": p.title, "abstract": p.abstract, "authors": ["A. Writer"]}) + "\n")
    return path


def prepared(config: Config, n: int, *, embedded: bool) -> None:
    """``n`` papers imported in-process (and embedded, if asked): the state a killed command starts from."""
    lib = Library(config)
    try:
        lib.ingest((paper(i) for i in range(1, n + 1)), added_at=date(2026, 12, 1), progress=False, index=embedded)
    finally:
        lib.close()


_logs: dict[int, Path] = {}  # a command's output, by process id


def command(config: Config, *args: str, **env: str) -> subprocess.Popen[bytes]:
    """Start ``dailypapers ARGS`` on ``config``'s database, its output in a file of the data folder."""
    path = config.data_dir / f"{args[0]}-{time.monotonic_ns()}.log"
    extra = {"DAILYPAPERS_EMBED_MODEL": "static", "DAILYPAPERS_EMBED_BATCH": "16", **env}
    with path.open("wb") as log:
        proc = subprocess.Popen([sys.executable, "-m", "dailypapers", *args], cwd=ROOT,
                                env=server_env(config, **extra), stdout=log, stderr=subprocess.STDOUT)  # fmt: skip
    _logs[proc.pid] = path
    return proc


def finish(config: Config, *args: str) -> None:
    """Rerun the command to completion."""
    proc = command(config, *args)
    assert proc.wait(120) == 0, _log_of(proc)


def _log_of(proc: subprocess.Popen[bytes]) -> str:
    return _logs[proc.pid].read_text(errors="replace")[-3000:]


def kill_when(proc: subprocess.Popen[bytes], state: Callable[[], bool], what: str, timeout: float = 90) -> None:
    """SIGKILL ``proc`` as soon as ``state()`` holds, while it still runs."""
    deadline = time.monotonic() + timeout
    while not state():
        assert proc.poll() is None, f"finished before {what}:\n{_log_of(proc)}"
        assert time.monotonic() < deadline, f"no {what} in {timeout} s"
        time.sleep(0.01)
    os.kill(proc.pid, signal.SIGKILL)
    assert proc.wait(30) == -signal.SIGKILL, f"it had finished before the kill:\n{_log_of(proc)}"


@pytest.fixture
def counts(config: Config) -> Iterator[Callable[[], tuple[int, int]]]:
    """(papers, embeddings of the static model) in the database, read by the test while the subprocess writes."""
    store = open_store(config)
    yield lambda: (store.count_papers(), store.embedding_counts().get(STATIC_MODEL_NAME, 0))
    store.close()


def assert_clean(config: Config, n: int) -> None:
    """``dailypapers check`` finds nothing; every paper is there once, embedded once, and searchable."""
    lib = Library(config)
    try:
        report = run_checks(lib)
        assert report.ok, report.as_json()
        assert lib.store.count_papers() == n and lib.store.embedding_counts() == {STATIC_MODEL_NAME: n}
        found = lib.search.query("2401.00041", mode="keyword", page_size=3).results
        assert found and found[0].paper.id == "2401.00041"  # pinned: the exact id
        assert lib.search.query("dropout", mode="keyword", page_size=3).results
        assert lib.search.query("dropout", mode="semantic", page_size=3).results
    finally:
        lib.close()


N = 1500


def test_kill_during_a_large_jsonl_import(
    config: Config, counts: Callable[[], tuple[int, int]], tmp_path: Path
) -> None:
    source = jsonl(tmp_path / "papers.jsonl", N)
    proc = command(config, "ingest", "jsonl", str(source))
    kill_when(proc, lambda: counts()[0] >= 500, "a committed batch")  # batches of 500 papers, one transaction each
    papers, _ = counts()
    assert 500 <= papers < N and papers % 500 == 0, papers  # whole batches: nothing half-written
    finish(config, "ingest", "jsonl", str(source))
    assert_clean(config, N)


def test_kill_during_the_embedding_job(config: Config, counts: Callable[[], tuple[int, int]]) -> None:
    prepared(config, N, embedded=False)
    proc = command(config, "index", "update")
    kill_when(proc, lambda: counts()[1] >= 160, "stored embeddings")
    assert 160 <= counts()[1] < N
    finish(config, "index", "update")
    assert_clean(config, N)


def test_kill_during_an_index_rebuild(config: Config, counts: Callable[[], tuple[int, int]]) -> None:
    prepared(config, N, embedded=True)
    lib = Library(config)
    lib.ingest((paper(i) for i in range(N + 1, 2 * N + 1)), progress=False, index=False)  # the rebuild embeds these
    lib.close()
    proc = command(config, "index", "rebuild")
    kill_when(proc, lambda: counts()[1] >= N + 128, "embeddings stored by the rebuild")
    assert N + 128 <= counts()[1] < 2 * N
    finish(config, "index", "rebuild")
    assert_clean(config, 2 * N)


@pytest.fixture
def copy_target(config: Config, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database of the same backend to copy into."""
    if config.backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'target' / 'copy.db'}"
        return
    import psycopg

    from tests.pg import database_uri

    server: str = request.getfixturevalue("postgres_server")
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute("CREATE DATABASE kill_copy_target")
    yield database_uri(server, "kill_copy_target")
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute("DROP DATABASE IF EXISTS kill_copy_target WITH (FORCE)")


def test_kill_during_db_copy(config: Config, copy_target: str, tmp_path: Path) -> None:
    prepared(config, N, embedded=True)
    target = dataclasses.replace(config, database_url=copy_target, data_dir=tmp_path / "target")
    static_model_dir(target.data_dir).parent.mkdir(parents=True)
    static_model_dir(target.data_dir).symlink_to(static_model_dir(config.data_dir).resolve())
    proc = command(config, "db", "copy", "--to", copy_target, "--batch", "100")
    store = None

    def copied() -> bool:  # the target exists once the command has migrated it
        nonlocal store
        try:
            store = store or open_store(target)
            return store.count_papers() >= 300
        except Exception:  # not created or not migrated yet
            return False

    kill_when(proc, copied, "copied papers")
    assert store is not None and 300 <= store.count_papers() < N
    store.close()
    again = command(config, "db", "copy", "--to", copy_target)
    assert again.wait(120) == 1 and "is not empty" in _log_of(again)  # a rerun never copies over what is there
    finish(config, "db", "copy", "--to", copy_target, "--force")  # exits 1 itself when the counts differ
    lib = Library(target)
    try:
        lib.search.update_index()  # the target's vector index is built by its first `index update`
    finally:
        lib.close()
    assert_clean(target, N)


def test_kill_during_a_digest_batch(config: Config, smtp: SmtpServer) -> None:
    """Killed while delivering the batch (the 5th digest held at RCPT by the SMTP server): the 4 accepted are not
    sent again, the recorded ones are not recorded again, and the rerun sends the rest, one each."""
    prepared(config, 50, embedded=True)  # added on 1 December: the daily window of the batch below
    setup = Library(dataclasses.replace(config, mailer="none"))
    try:
        readers = []
        for n in range(12):
            sub = setup.subscriptions.subscribe(f"reader{n}@example.org", time_zone="UTC", send_hour=8)
            readers.append(setup.subscriptions.confirm(setup.links.token("confirm", sub)).email)
    finally:
        setup.close()
    smtp.stall(120, stage="rcpt", from_message=5)
    batch = ("digest", "send", "--now", "2026-12-01T09:05:00")
    env = {"DAILYPAPERS_MAIL_FROM": "papers@example.org", **smtp.env()}
    first = command(config, *batch, **env)
    assert smtp.saw_rcpt.wait(90), _log_of(first)  # a state: four accepted, the fifth in the exchange
    os.kill(first.pid, signal.SIGKILL)
    assert first.wait(30) == -signal.SIGKILL and len(smtp.messages) == 4
    smtp.release()
    again = command(config, *batch, **env)
    assert again.wait(120) == 0, _log_of(again)
    assert "0 recorded, 12 already recorded" in _log_of(again)  # nothing recorded twice
    received = sorted(to for m in smtp.messages for to in m.rcpt_tos)
    assert received == sorted(readers)  # every reader once: nothing lost, nothing twice
    lib = Library(config)
    try:
        assert run_checks(lib).ok, run_checks(lib).as_json()
        assert lib.outbox.counts().get("sent") == 12 and not lib.outbox.counts().get("sending")
    finally:
        lib.close()
