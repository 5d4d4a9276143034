"""The admins' status page over HTTP, on each backend: ``/admin/status`` and its JSON twin show the papers, the
embeddings, the sizes and every job with its last run; "Run now" starts a job in the background and the page shows
its result; members get 403, visitors the log-in page, and a job's error is escaped like anything else.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from dailypapers.jobs.registry import JOBS
from dailypapers.jobs.runs import JobRuns, utc_now
from dailypapers.library import Library
from dailypapers.mail.digests import DigestReport
from dailypapers.mail.outbox import DeliveryReport
from dailypapers.web.app import create_app
from tests.web.small_library import sign_in
from tests.web.test_comments import lib
from tests.web.test_moderation import form

__all__ = ["lib"]


@pytest.fixture
def clients(lib: Library) -> Iterator[tuple[TestClient, TestClient]]:
    """(the admin's browser, ann's browser)."""
    app = create_app(lib)
    with TestClient(app) as root, TestClient(app) as ann:
        yield sign_in(root, lib, "root"), sign_in(ann, lib, "ann")  # type: ignore[misc]


def test_only_admins_see_the_status(clients: tuple[TestClient, TestClient]) -> None:
    root, ann = clients
    assert ann.get("/admin/status").status_code == 403
    assert ann.get("/api/admin/status").status_code == 403
    assert form(ann, "/admin/jobs/index.embed/run").status_code == 403
    with TestClient(root.app) as visitor:
        sent = visitor.get("/admin/status", follow_redirects=False)
        assert sent.status_code == 303 and sent.headers["location"] == "/login?next=/admin/status"
        assert visitor.get("/api/admin/status").status_code == 401
    assert 'href="/admin/status"' in root.get("/").text and 'href="/admin/status"' not in ann.get("/").text


def test_the_status_shows_papers_sizes_and_jobs(lib: Library, clients: tuple[TestClient, TestClient]) -> None:
    root, _ = clients
    data = root.get("/api/admin/status").json()
    papers = lib.papers.count()
    assert data["ok"] and data["papers"] == papers > 0 and data["embeddedPapers"] == papers
    assert data["databaseBytes"] > 0 and data["backend"] == lib.papers.backend
    assert (data["vectorIndexBytes"] is None) == (lib.papers.backend == "postgres")
    assert [j["name"] for j in data["jobs"]] == sorted(JOBS)  # every registered job, by name
    assert all(j["last"] is None and j["schedule"] is None for j in data["jobs"])

    runs = JobRuns(lib.db)  # a failed run with a hostile message, as an exception from a source could carry
    run_id = runs.claim("ingest.oai", slot=None, attempt=1, trigger="manual", now=utc_now())
    assert run_id is not None
    runs.finish(run_id, "failed", counts={}, error="SourceError: <script>alert(1)</script>", now=utc_now())
    page = root.get("/admin/status")
    assert page.status_code == 200
    assert "<script>alert(1)" not in page.text and "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text
    assert f"{papers:,}" in page.text and "by hand" in page.text


def test_run_now_starts_the_job_in_the_background(lib: Library, clients: tuple[TestClient, TestClient]) -> None:
    root, _ = clients
    sent = form(root, "/admin/jobs/index.embed/run")
    assert sent.status_code == 303 and sent.headers["location"] == "/admin/status#jobs"
    deadline = time.monotonic() + 30
    while (last := _last(root, "index.embed")) is None or last["status"] == "running":
        assert time.monotonic() < deadline, last
        time.sleep(0.05)
    assert last["status"] == "ok" and last["trigger"] == "manual" and last["counts"]["embedded"] == 0
    assert "0 embedded, model: " in root.get("/admin/status").text
    assert form(root, "/admin/jobs/nope/run").status_code == 404
    no_csrf = root.post("/admin/jobs/index.embed/run", follow_redirects=False)
    assert no_csrf.status_code == 403


def test_a_runs_counts_are_shown_as_words(lib: Library, clients: tuple[TestClient, TestClient]) -> None:
    """A digest run's counts hold the delivery's report, a nested dict: the page says it in words, never as a
    Python dict (issue 21 item 8); the JSON twin keeps the numbers."""
    root, _ = clients
    runs = JobRuns(lib.db)
    report = DigestReport(subscriptions=2, due=1, recorded=1, periods=["2026-11-20"],
                          delivery=DeliveryReport(skipped_locked=True))  # fmt: skip
    run_id = runs.claim("digest.send", slot=None, attempt=1, trigger="manual", now=utc_now())
    assert run_id is not None
    runs.finish(run_id, "ok", counts=report.counts(), now=utc_now())
    page = root.get("/admin/status")
    row = page.text.split('id="job-digest.send"', 1)[1].split("</tr>", 1)[0]
    result = row.split('<td data-label="Result">', 1)[1].split("</td>", 1)[0]  # the "Result" cell
    assert "{" not in result and "&#39;" not in result and "True" not in result and "[" not in result, result
    assert "2 subscriptions, 1 due, 1 recorded, 0 already, 0 empty, 0 failed, periods: 2026-11-20" in row
    assert "; delivery: 0 sent, 0 retried, 0 failed, skipped: locked, 0 held, 0 recovered, 0 cancelled" in row
    data = _last(root, "digest.send")
    assert data is not None and data["counts"]["delivery"]["skipped_locked"] is True


def _last(client: TestClient, name: str) -> dict[str, object] | None:
    jobs = {j["name"]: j for j in client.get("/api/admin/status").json()["jobs"]}
    last = jobs[name]["last"]
    assert last is None or isinstance(last, dict)
    return last
