"""What saved-search alerts cost at 100k papers: ``python -m bench.alerts [--postgres]``.

The corpus is the one of :mod:`bench.recommend` (:func:`bench.corpus.synthetic`: 100k papers over a year of daily
lists, text resampled from the demo papers, vectors clustered around their real MiniLM embeddings). One user saves
``--searches`` of the relevance set's topic queries (``bench/relevance/queries.jsonl``, kind ``topic``); measured:

* ``matches``: ``lib.saved_searches.matches(user, since=newest - 7 days, limit=10)``, what a digest's "saved"
  section calls — one keyword and one vector search per saved search, restricted to papers added since;
* ``alerts``: ``lib.saved_searches.alerts(...)``, what ``/alerts`` shows (each search with its own matches);
* ``per_search``: ``matches`` divided by the number of saved searches.

Results: ``bench/results/alerts.json``. About 3 minutes for SQLite on a 2-core machine, 5 more with PostgreSQL.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

from bench.backends import Backends
from bench.build import build_index, import_synthetic
from bench.corpus import load_demo
from bench.measure import summarize
from bench.recommend import log
from bench.report import machine
from dailypapers.library import Library
from dailypapers.papers.periods import Period
from dailypapers.papers.store import Filters

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "bench" / "results" / "alerts.json"
QUERIES = ROOT / "bench" / "relevance" / "queries.jsonl"
WINDOW_DAYS = 7  # the /alerts page's default: papers added in the week up to the newest day


def topic_queries(n: int) -> list[str]:
    rows = [json.loads(line) for line in QUERIES.read_text().splitlines() if line.strip()]
    return [r["text"] for r in rows if r["kind"] == "topic"][:n]


def run_backend(backends: Backends, backend: str, args: argparse.Namespace) -> dict[str, Any]:
    config = backends.config(backend, f"alerts{args.papers}")
    lib = Library(config)
    lib.init()
    imported, _ = import_synthetic(lib, load_demo(), args.papers, seed=args.seed)
    build_index(lib)
    user = lib.accounts.create_user("alerts", "alerts@example.org", "correct horse battery")
    queries = topic_queries(args.searches)
    for query in queries:
        lib.saved_searches.save(user.id, name=query[:100], query=query, filters=Filters())
    newest = lib.papers.latest_day()
    assert newest is not None
    since = newest - timedelta(days=WINDOW_DAYS)
    found = lib.saved_searches.matches(user.id, since=since, limit=10)  # warm: the model, the index, the caches
    runs: dict[str, list[float]] = {"matches": [], "alerts": []}
    for _ in range(args.repeat):
        for name, call in (("matches", lib.saved_searches.matches), ("alerts", lib.saved_searches.alerts)):
            t0 = time.perf_counter()
            call(user.id, since=since, limit=10)
            runs[name].append((time.perf_counter() - t0) * 1000)
    result: dict[str, Any] = {
        "backend": backend,
        "papers": args.papers,
        "added_in_window": lib.papers.count_in(Period("window", since, newest)),
        "saved_searches": len(queries),
        "matches_found": len(found),
        "import": imported,
        "matches_ms": summarize(runs["matches"]),
        "alerts_ms": summarize(runs["alerts"]),
    }
    result["per_search_ms"] = result["matches_ms"]["p50"] / max(1, len(queries))
    log(f"{backend}: matches p50 {result['matches_ms']['p50']:.0f} ms for {len(queries)} saved searches")
    lib.close()
    backends.drop(config)
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.alerts", description=__doc__.split("\n")[0])
    parser.add_argument("--papers", type=int, default=100_000)
    parser.add_argument("--searches", type=int, default=10, help="saved searches of the user (topic queries)")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--postgres", action="store_true", help="also run on PostgreSQL")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="dailypapers-bench-alerts-") as tmp:
        backends = Backends(Path(tmp))
        try:
            runs = [run_backend(backends, b, args) for b in ("sqlite", *(("postgres",) if args.postgres else ()))]
            info = machine() | {"postgres": backends.pg_versions()}
        finally:
            backends.close()
    results = {
        "command": "python -m bench.alerts" + (" --postgres" if args.postgres else ""),
        "machine": info,
        "settings": vars(args) | {"out": str(args.out)},
        "runs": runs,
        "seconds": round(time.perf_counter() - started, 1),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2, default=str) + "\n")
    keys = ("backend", "saved_searches", "matches_found", "matches_ms", "alerts_ms", "per_search_ms")
    print(json.dumps([{k: r[k] for k in keys} for r in runs], indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
