"""``/healthz`` and ``/readyz`` through the app, on both backends: each readiness check fails when its part does."""

from __future__ import annotations

import time
from dataclasses import replace

from fastapi.testclient import TestClient
from sqlalchemy import text

from dailypapers.library import Library
from dailypapers.web.app import create_app
from tests.ops.conftest import HashEmbedder


def _ready(client: TestClient, status: int, timeout: float = 30.0) -> dict:
    """The /readyz answer once it has ``status`` (warm-up runs in a thread: wait for the state, not for a time)."""
    deadline = time.monotonic() + timeout
    while True:
        answer = client.get("/readyz")
        if answer.status_code == status or time.monotonic() > deadline:
            assert answer.status_code == status, answer.json()
            return dict(answer.json())
        time.sleep(0.05)


def test_healthz_answers_without_the_database(ops_library: Library) -> None:
    with TestClient(create_app(ops_library)) as client:
        answer = client.get("/healthz")
        assert answer.status_code == 200 and answer.json() == {"ok": True, "status": "alive"}
        assert client.head("/healthz").status_code == 200
        ops_library.store.close()  # the database is gone: the process still answers
        assert client.get("/healthz").status_code == 200


def test_readyz_checks_database_migrations_and_vector_index(ops_library: Library) -> None:
    with TestClient(create_app(ops_library)) as client:
        body = _ready(client, 200)
        assert body["ok"] is True and set(body["checks"]) == {"database", "migrations", "vector_index"}
        assert body["checks"]["vector_index"]["detail"] == "hash-8 loaded"
        assert body["ms"] < 1000  # a few indexed reads; the suite's machine is slow and shared, hence the margin
        with ops_library.db.write() as conn:  # a migration this version ships is not applied
            last = conn.execute(text("SELECT max(name) FROM schema_migrations")).scalar_one()
            conn.execute(text("DELETE FROM schema_migrations WHERE name = :n"), {"n": last})
        body = _ready(client, 503)
        assert body["checks"]["migrations"] == {
            "ok": False,
            "detail": f"pending: {last} (run `dailypapers db migrate`)",
        }
        assert body["checks"]["database"]["ok"] and body["checks"]["vector_index"]["ok"]


def test_readyz_fails_when_the_vector_index_is_of_another_model(ops_library: Library) -> None:
    class OtherModel(HashEmbedder):
        name = "other-8"

    other = Library(ops_library.config, embedder=OtherModel())
    try:
        _ = ops_library.search.vectors  # the index of hash-8, opened ...
        other.search.__dict__["vectors"] = ops_library.search.vectors  # ... as if the configured model had changed
        with TestClient(create_app(other)) as client:
            check = _ready(client, 503)["checks"]["vector_index"]
            assert check == {"ok": False, "detail": "holds hash-8, but the configured model is other-8"}
    finally:
        other.close()


def test_readyz_fails_when_the_in_process_scheduler_stops(ops_library: Library) -> None:
    config = replace(ops_library.config, schedule="index.embed=0 3 * * *", serve_worker=True)
    lib = Library(config, embedder=HashEmbedder())
    try:
        with TestClient(create_app(lib)) as client:
            assert _ready(client, 200)["checks"]["scheduler"] == {"ok": True, "detail": "ticking"}
            client.app.state.scheduler.stop()  # type: ignore[attr-defined]
            check = _ready(client, 503)["checks"]["scheduler"]
            assert check["ok"] is False and check["detail"].startswith("stopped")
    finally:
        lib.close()


def test_readyz_answers_503_when_the_database_is_gone(ops_library: Library) -> None:
    with TestClient(create_app(ops_library)) as client:
        _ready(client, 200)
        ops_library.db.close()  # every pooled connection closed; the engine refuses new ones on neither backend …
        if ops_library.store.backend == "sqlite":
            ops_library.config.sqlite_path.unlink()  # … so take the database file away (SQLite would recreate it empty)
            ops_library.config.sqlite_path.mkdir()
        else:
            with ops_library.db.write() as conn:
                conn.execute(text("DROP TABLE schema_migrations"))
        body = _ready(client, 503)
        assert body["checks"]["database"]["ok"] is False and body["checks"]["migrations"]["ok"] is False
