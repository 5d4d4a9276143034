"""``/metrics``: Prometheus' text format, parsed with the client's own parser; values move with what happens; the
loopback rule and the token rule; several workers summed (the real server, multi-process mode)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import httpx
import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from dailypapers.jobs.scheduler import run_now
from dailypapers.library import Library
from dailypapers.web.app import create_app
from tests.demo import running_server
from tests.ops.conftest import HashEmbedder, papers

TOKEN = "metrics-token-0123456789"


def scrape(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of an exposition, by (name, sorted labels)."""
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def value(samples: dict, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def test_values_move_with_requests_searches_and_jobs(ops_library: Library) -> None:
    run_now(ops_library, "index.embed")  # a job run, recorded in the database (read at a scrape, kept 5 s)
    with TestClient(create_app(ops_library)) as client:
        before = scrape(client.get("/metrics").text)
        ops_library.ingest(papers(2, start=5), added_at=date(2026, 11, 21), progress=False)  # embeds 2 papers here
        for _ in range(3):
            assert client.get("/api/search", params={"q": "sparse attention"}).status_code == 200
        assert client.get("/papers/2401.10001").status_code == 200
        assert client.get("/no/such/page").status_code == 404
        answer = client.get("/metrics")
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/plain")
    after = scrape(answer.text)
    search = {"route": "/api/search", "method": "GET", "status": "200"}
    grown = value(after, "dailypapers_http_requests_total", **search) - value(
        before, "dailypapers_http_requests_total", **search
    )
    assert grown == 3
    assert value(after, "dailypapers_http_request_duration_seconds_count", **search) >= 3
    page = {"route": "/papers/{paper_id:paper_id}", "method": "GET", "status": "200"}
    assert value(after, "dailypapers_http_requests_total", **page) >= 1  # the template, never the raw path
    assert value(after, "dailypapers_http_requests_total", route="<unmatched>", method="GET", status="404") >= 1
    for mode_or_step in ("keyword", "embedding", "vector", "fusion"):
        assert value(after, "dailypapers_search_step_duration_seconds_count", step=mode_or_step) >= 3, mode_or_step
    assert value(after, "dailypapers_search_duration_seconds_count", mode="hybrid") >= 3
    embedded = value(after, "dailypapers_embedded_papers_total") - value(before, "dailypapers_embedded_papers_total")
    assert embedded == 2 and value(after, "dailypapers_embedding_seconds_total") > 0  # throughput: papers / seconds
    # read from the database at the first scrape and kept 5 s: before or after the import
    assert value(after, "dailypapers_papers") in (5, 7)
    assert value(after, "dailypapers_embedded_papers_stored", model="hash-8") in (5, 7)
    assert value(after, "dailypapers_users") == 0
    assert value(after, "dailypapers_outbox_messages", status="pending") == 0
    assert value(after, "dailypapers_job_runs_total", job="index.embed", status="ok") == 1
    assert value(after, "dailypapers_job_last_success_timestamp_seconds", job="index.embed") > 1.7e9


def test_local_only_by_default(ops_library: Library) -> None:
    app = create_app(ops_library)
    with TestClient(app, client=("127.0.0.1", 40000)) as local:
        assert local.get("/metrics").status_code == 200
        proxied = local.get("/metrics", headers={"X-Forwarded-For": "203.0.113.9"})  # came through a proxy
        assert proxied.status_code == 403 and "local machine only" in proxied.json()["error"]
    with TestClient(app, client=("203.0.113.9", 40000)) as remote:
        assert remote.get("/metrics").status_code == 403


def test_token_and_off(ops_library: Library) -> None:
    with_token = Library(replace(ops_library.config, metrics="token", metrics_token=TOKEN), embedder=HashEmbedder())
    off = Library(replace(ops_library.config, metrics="off"), embedder=HashEmbedder())
    try:
        with TestClient(create_app(with_token), client=("203.0.113.9", 40000)) as client:
            assert client.get("/metrics").status_code == 401
            assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
            good = client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
            assert good.status_code == 200 and "dailypapers_papers 5.0" in good.text
        with TestClient(create_app(off), client=("127.0.0.1", 40000)) as client:
            assert client.get("/metrics").status_code == 404
    finally:
        with_token.close()
        off.close()


@pytest.mark.slow  # starts `dailypapers serve --workers 2`
def test_two_workers_are_summed_over_http(ops_library: Library) -> None:
    config = ops_library.config
    with running_server(config, workers=2) as url, httpx.Client(base_url=url, timeout=30) as http:
        for _ in range(20):
            assert http.get("/api/trending").status_code == 200
        samples = scrape(http.get("/metrics").text)
    labels = {"route": "/api/trending", "method": "GET", "status": "200"}
    assert value(samples, "dailypapers_http_requests_total", **labels) == 20  # whichever worker answered each
    assert value(samples, "dailypapers_papers") == 5
    folder = config.data_dir / "metrics"
    assert any(folder.rglob("*.db")), "each worker writes its counters in PROMETHEUS_MULTIPROC_DIR"
