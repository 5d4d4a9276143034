"""What a health check, a readiness check and a metrics scrape cost: ``python -m bench.probes``.

An instance of 50 papers (SQLite, the tests' 8-dimension hash embedder: no model to load), the app in-process
(Starlette's TestClient, so no network), 300 calls of each endpoint after the vector index is loaded; prints p50
and p95 in ms, and ``/readyz``'s own time for its checks (its ``ms`` field).
"""

from __future__ import annotations

import statistics
import tempfile
import time
from datetime import date
from pathlib import Path

from fastapi.testclient import TestClient

from dailypapers.config import Config
from dailypapers.library import Library
from dailypapers.web.app import create_app
from tests.ops.conftest import HashEmbedder, papers

CALLS = 300


def main() -> None:
    lib = Library(Config(data_dir=Path(tempfile.mkdtemp(prefix="probes-"))), embedder=HashEmbedder())
    lib.init()
    lib.ingest(papers(50), added_at=date(2026, 11, 20), progress=False)
    try:
        with TestClient(create_app(lib)) as client:
            while client.get("/readyz").status_code != 200:  # warm-up loads the index in the background
                time.sleep(0.05)
            for path in ("/healthz", "/readyz", "/metrics"):
                ms = []
                for _ in range(CALLS):
                    started = time.perf_counter()
                    answer = client.get(path)
                    ms.append((time.perf_counter() - started) * 1000)
                own = f"; its checks {answer.json()['ms']} ms" if path == "/readyz" else ""
                p95 = sorted(ms)[int(0.95 * CALLS)]
                print(f"{path}: {answer.status_code}, p50 {statistics.median(ms):.2f} ms, p95 {p95:.2f} ms{own}")
    finally:
        lib.close()


if __name__ == "__main__":
    main()
