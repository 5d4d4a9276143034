"""Prometheus metrics, with the official client (``prometheus-client``): what ``/metrics`` answers.

Two kinds of numbers:

* **Events**, counted where they happen, in the process they happen in: requests (count and latency by route
  template, method and status — :mod:`dailypapers.web.access` calls :func:`observe_request`), search latency by
  mode and by step (keyword, embedding, vector, fusion — reported through :mod:`dailypapers.search.timing`, so
  search never imports this), embedding throughput (papers embedded, seconds spent).
* **State**, read from the database at scrape time by :class:`StateCollector`: papers, embedded papers (per model),
  users, subscriptions and outbox mail by status, job runs by job and status, each job's last success and the
  duration of its newest run. The database is shared by every worker (and ``dailypapers worker``), so these are
  the same whoever answers; one ``COUNT`` or ``GROUP BY`` each, cached for :data:`STATE_TTL_S` seconds so a scrape
  every second costs little.

Several worker processes (``dailypapers serve --workers N``): ``serve`` points ``PROMETHEUS_MULTIPROC_DIR`` at an
empty folder before the workers start, each writes its counters there (the client's multi-process mode), and a
scrape of any worker sums them (:func:`exposition`).
"""

from __future__ import annotations

import os
import shutil
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import func, select

from dailypapers.db.schema import job_runs, subscriptions, users
from dailypapers.jobs.runs import JobRuns
from dailypapers.search import timing

if TYPE_CHECKING:
    from dailypapers.library import Library

__all__ = ["CONTENT_TYPE_LATEST", "StateCollector", "exposition", "observe_request", "prepare_multiprocess_dir"]
MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
STATE_TTL_S = 5.0
# Request latency buckets (seconds): a page answers in 5-50 ms, a pasted-abstract search in 0.1-1 s.
BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

# In one process the metrics live in this registry; in multi-process mode the client writes them to files instead
# (whatever the registry) and a scrape reads every worker's files.
LIVE = CollectorRegistry(auto_describe=True)
REQUESTS = Counter("dailypapers_http_requests", "HTTP requests answered", ["route", "method", "status"], registry=LIVE)
REQUEST_SECONDS = Histogram(
    "dailypapers_http_request_duration_seconds",
    "Time to answer an HTTP request, by route template",
    ["route", "method", "status"],
    buckets=BUCKETS,
    registry=LIVE,
)
SEARCH_SECONDS = Histogram(
    "dailypapers_search_duration_seconds", "Time of a whole search, by mode", ["mode"], buckets=BUCKETS, registry=LIVE
)
SEARCH_STEP_SECONDS = Histogram(
    "dailypapers_search_step_duration_seconds",
    "Time of one step of a search, similar papers, a recommendation or an alert: keyword, embedding, vector, fusion",
    ["step"],
    buckets=BUCKETS,
    registry=LIVE,
)
EMBEDDED = Counter("dailypapers_embedded_papers", "Papers embedded by this process", registry=LIVE)
EMBED_SECONDS = Counter("dailypapers_embedding_seconds", "Seconds this process spent embedding papers", registry=LIVE)


def observe_request(route: str, method: str, status: int, seconds: float) -> None:
    """Count one answered request (``route``: its template, e.g. ``/papers/{paper_id}``, never the raw path)."""
    labels = (route, method, str(status))
    REQUESTS.labels(*labels).inc()
    REQUEST_SECONDS.labels(*labels).observe(seconds)


def _on_step(step: str, seconds: float) -> None:
    if step.startswith("search:"):
        SEARCH_SECONDS.labels(step.removeprefix("search:")).observe(seconds)
    else:
        SEARCH_STEP_SECONDS.labels(step).observe(seconds)


def _on_embedded(papers: int, seconds: float) -> None:
    EMBEDDED.inc(papers)
    EMBED_SECONDS.inc(seconds)


def listen_to_search() -> None:
    """Receive search step times and embedding batches (idempotent)."""
    timing.observe_steps(_on_step)
    timing.observe_embedding(_on_embedded)


def prepare_multiprocess_dir(folder: Path) -> Path:
    """Empty ``folder`` (files of a previous run would be summed in) and point ``PROMETHEUS_MULTIPROC_DIR`` at it, for
    the worker processes about to start; ``serve`` calls this before uvicorn forks."""
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True, exist_ok=True)
    os.environ[MULTIPROC_ENV] = str(folder)
    return folder


class StateCollector(Collector):
    """The library's state as gauges and counters, read from the database at scrape time (cached briefly)."""

    def __init__(self, library: Library, ttl_s: float = STATE_TTL_S, clock: Callable[[], float] = time.monotonic):
        self.library, self.ttl_s, self.clock = library, ttl_s, clock
        self._cached: tuple[float, list[Metric]] | None = None
        self._lock = threading.Lock()

    def collect(self) -> Iterator[Metric]:
        with self._lock:
            if self._cached is None or self.clock() - self._cached[0] > self.ttl_s:
                self._cached = (self.clock(), self._read())
            yield from self._cached[1]

    def _read(self) -> list[Metric]:
        lib = self.library
        found: list[Metric] = [GaugeMetricFamily("dailypapers_papers", "Papers stored", value=lib.papers.count())]
        embedded = GaugeMetricFamily(
            "dailypapers_embedded_papers_stored", "Stored embeddings, by model", labels=["model"]
        )
        for model, n in lib.store.embedding_counts().items():
            embedded.add_metric([model], n)
        found.append(embedded)
        with lib.db.read() as conn:
            n_users = conn.execute(select(func.count()).select_from(users)).scalar_one()
            by_status = conn.execute(select(subscriptions.c.status, func.count()).group_by(subscriptions.c.status))
            subs = {str(s): int(n) for s, n in by_status}
            runs = conn.execute(select(job_runs.c.job, job_runs.c.status, func.count()).group_by("job", "status"))
            run_counts = [(str(j), str(s), int(n)) for j, s, n in runs]
        found.append(GaugeMetricFamily("dailypapers_users", "User accounts", value=int(n_users)))
        found.append(_by_label("dailypapers_subscriptions", "Email subscriptions, by status", "status", subs))
        found.append(_by_label("dailypapers_outbox_messages", "Outbox mail, by status", "status", lib.outbox.counts()))
        found.extend(_job_metrics(JobRuns(lib.db), run_counts))
        return found


def _by_label(name: str, doc: str, label: str, values: dict[str, int]) -> GaugeMetricFamily:
    family = GaugeMetricFamily(name, doc, labels=[label])
    for key, value in sorted(values.items()):
        family.add_metric([key], value)
    return family


def _job_metrics(runs: JobRuns, counts: list[tuple[str, str, int]]) -> list[Metric]:
    """Runs by job and status (``failed`` ones are the failures), each job's last success and newest duration."""
    total = CounterMetricFamily(
        "dailypapers_job_runs", "Recorded job runs, by job and status", labels=["job", "status"]
    )
    for job, status, n in sorted(counts):
        total.add_metric([job, status], n)
    last_ok = GaugeMetricFamily(
        "dailypapers_job_last_success_timestamp_seconds", "When each job last finished well (Unix time)", labels=["job"]
    )
    duration = GaugeMetricFamily(
        "dailypapers_job_last_duration_seconds", "Duration of each job's newest finished run", labels=["job", "status"]
    )
    for job, run in sorted(runs.latest().items()):
        if run.duration_s is not None:
            duration.add_metric([job, run.status], run.duration_s)
        ok = run if run.status == "ok" else runs.last_ok(job)
        if ok is not None and ok.finished_at is not None:
            last_ok.add_metric([job], ok.finished_at.timestamp())
    return [total, last_ok, duration]


def exposition(state: Collector | None) -> tuple[bytes, str]:
    """The text ``/metrics`` answers and its content type: this process's metrics (or, in multi-process mode, every
    worker's, summed) and ``state``'s."""
    registry = CollectorRegistry()
    if os.environ.get(MULTIPROC_ENV):
        multiprocess.MultiProcessCollector(registry)
    else:
        registry.register(_Live())
    if state is not None:
        registry.register(state)
    return generate_latest(registry), CONTENT_TYPE_LATEST


class _Live(Collector):
    """:data:`LIVE`'s metrics, as one collector of a scrape's registry."""

    def collect(self) -> Iterator[Metric]:
        yield from LIVE.collect()
