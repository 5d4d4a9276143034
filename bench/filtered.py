"""Filtered hybrid search alone, in each variant of :func:`bench.measure.filtered_latencies`, for several rounds.

Usage::

    python -m bench.filtered [--size 1000000] [--backend sqlite] [--rounds 2] [--out bench/results/filtered_1m.json]

It builds one synthetic corpus the way :mod:`bench.run` does (the same seed, filter and queries) and times filtered
hybrid search as it is, without SQLite's kept passing sets, and as before issue 13, side by side. Each round
starts with the untimed pass over every variant that ``filtered_latencies`` makes, so a second round shows
whether one pass warmed the page cache enough. It prints each round and writes them to ``--out``.
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.backends import Backends
from bench.build import build_index, import_synthetic
from bench.corpus import ROOT, load_demo
from bench.measure import filtered_latencies, make_queries, time_calls
from bench.report import machine
from dailypapers.library import Library
from dailypapers.search.vectors.embedder import make_embedder


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.filtered", description=__doc__.split("\n\n")[0])
    ap.add_argument("--size", type=int, default=1_000_000, help="synthetic papers")
    ap.add_argument("--backend", choices=("sqlite", "postgres"), default="sqlite")
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--queries", type=int, default=200)
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "filtered_1m.json")
    args = ap.parse_args(argv)
    workdir = Path(tempfile.mkdtemp(prefix="dailypapers-filtered-"))
    backends = Backends(workdir)
    results: dict[str, Any] = {"machine": machine(), "settings": vars(args) | {"out": str(args.out)}, "rounds": []}
    try:
        config = backends.config(args.backend, str(args.size))
        demo, embedder = load_demo(), make_embedder()
        lib = Library(config, embedder=embedder)
        try:
            lib.init()
            _, profile = import_synthetic(lib, demo, args.size, seed=0)
            results["index"] = build_index(lib)
            queries = make_queries(demo, args.queries)
            for number in range(1, args.rounds + 1):
                started = time.perf_counter()
                found = filtered_latencies(
                    lib, queries, profile.filters(), lambda fn, items: time_calls(fn, items, 20, 45.0)
                )
                results["rounds"].append({"round": number, "wall_s": time.perf_counter() - started, **found})
                for name, s in found.items():
                    print(f"round {number} {name:24s} p50 {s['p50']:.1f} / p95 {s['p95']:.1f} / p99 {s['p99']:.1f} ms")
        finally:
            lib.close()
    finally:
        backends.close()
        shutil.rmtree(workdir, ignore_errors=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2, default=str) + "\n")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
