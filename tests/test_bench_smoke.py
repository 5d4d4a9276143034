"""Smoke test of the benchmark runner: `python -m bench.run` on a tiny corpus reports every metric.

Only the presence of each number is checked, never its value (timings depend on the machine). Slow: it loads the
embedding model twice (here and in the server it starts) and embeds the demo corpus once if bench/data has no
cached vectors yet.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
RUN_METRICS = [
    "papers",
    "import_s",
    "import_papers_per_s",
    "embeddings_save_s",
    "embeddings_save_per_s",
    "index_build_s",
    "db_mib",
    "index_mib",
    "recall_at_10",
    "wall_s",
]
LATENCIES = [
    "latest_added_day",
    "keyword_unbounded",
    "keyword",
    "vector",
    "embed_query",
    "embed_query_all_threads",
    "hybrid",
    "filtered_hybrid",
    "similar",
    "trending_day",
    "trending_week",
    "trending_month",
    "newest_month",
]
PERCENTILES = ["p50", "p95", "p99"]


@pytest.mark.slow
def test_bench_run_reports_every_metric(tmp_path: Path) -> None:
    out, doc = tmp_path / "results.json", tmp_path / "benchmarks.md"
    command = [sys.executable, "-m", "bench.run", "--sizes", "300", "--backends", "sqlite", "--queries", "6",
               "--warmup", "1", "--recall-queries", "6", "--http-requests", "6", "--http-clients", "2",
               "--out", str(out), "--doc", str(doc), "--workdir", str(tmp_path / "work")]  # fmt: skip
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=280)
    assert done.returncode == 0, done.stdout + done.stderr

    results = json.loads(out.read_text())
    for key in ("cpu", "cores", "ram_gib", "python", "sqlite", "date"):
        assert results["machine"][key], key
    [run] = results["runs"]
    assert (run["backend"], run["size"], run["papers"]) == ("sqlite", "300", 300)
    for key in RUN_METRICS:
        assert isinstance(run[key], int | float), key
    for name in LATENCIES:
        for p in PERCENTILES:
            assert isinstance(run["latency_ms"][name][p], float), (name, p)
    assert isinstance(run["recall_at_10_ef"]["ef400"], float)
    assert 0 <= run["filter"]["fraction"] <= 1
    for endpoint in ("home", "search"):
        stats = run["http"][endpoint]
        assert stats["requests"] == 6 and stats["errors"] == 0, endpoint
        for key in ("rps", *PERCENTILES[:2]):
            assert isinstance(stats[key], float), (endpoint, key)
    assert run["http"]["peak_rss_mib"] > 0

    text = doc.read_text()
    assert "| metric | sqlite 300 |" in text and "<!-- analysis:start -->" in text
    assert "sqlite 300" in done.stdout  # the printed table
