"""Import, index, search and serving benchmarks for every backend and corpus size, in one run.

Usage::

    python -m bench.run [--sizes demo,100000] [--backends sqlite,postgres] [--queries 200] [--http-requests 500]
                        [--out bench/results/results.json] [--doc docs/benchmarks.md]

For each size (``demo``: the real demo corpus through the real import path; a number: that many synthetic papers)
and each backend it builds a fresh database (:mod:`bench.build`), measures latencies and ANN recall in-process
(:mod:`bench.measure`), then loads the real server over loopback (:mod:`bench.http_load`). It prints a table,
writes every number to ``--out`` (JSON, after each run too) and rewrites ``--doc`` (:mod:`bench.report`).
Sizes up to 1,000,000 fit in 24 GB: papers are streamed, only the vectors are held in memory (1.5 GB at 1M).
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import shlex
import shutil
import sys
import tempfile
import time
import traceback
from pathlib import Path
from typing import Any

import numpy as np

from bench.backends import Backends, disk_usage
from bench.build import build_index, import_demo, import_synthetic
from bench.corpus import ROOT, Demo, load_demo
from bench.http_load import http_load
from bench.measure import filter_info, latencies, make_queries, recall_at_k
from bench.report import machine, text_table, write_markdown
from dailypapers.config import Config
from dailypapers.library import Library
from dailypapers.search.vectors.embedder import Embedder, make_embedder

BACKENDS = ("sqlite", "postgres")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", default="demo,100000", help="comma-separated: demo and/or numbers of synthetic papers")
    ap.add_argument("--backends", default="sqlite,postgres", help="comma-separated: sqlite, postgres")
    ap.add_argument("--queries", type=int, default=200, help="queries per latency measurement")
    ap.add_argument("--warmup", type=int, default=20, help="untimed calls before each latency measurement")
    ap.add_argument("--phase-seconds", type=float, default=45.0, help="time limit per latency measurement")
    ap.add_argument("--recall-queries", type=int, default=200, help="query vectors for ANN recall@10")
    ap.add_argument("--http-requests", type=int, default=500, help="requests per HTTP endpoint")
    ap.add_argument("--http-clients", type=int, default=4, help="concurrent HTTP clients")
    ap.add_argument("--http-seconds", type=float, default=30.0, help="time limit per HTTP endpoint")
    ap.add_argument("--seed", type=int, default=0, help="seed of the synthetic corpus")
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "results.json")
    ap.add_argument("--doc", default=str(ROOT / "docs" / "benchmarks.md"), help="Markdown report ('' for none)")
    ap.add_argument("--workdir", type=Path, help="where the databases go (default: a new temporary folder)")
    ap.add_argument("--keep", action="store_true", help="keep the databases (and the workdir) afterwards")
    args = ap.parse_args(argv)
    args.sizes = [s.strip() for s in args.sizes.split(",") if s.strip()]
    args.backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    for size in args.sizes:
        if size != "demo" and not (size.isdigit() and int(size) > 0):
            ap.error(f"--sizes: {size!r} is neither 'demo' nor a positive number")
    for backend in args.backends:
        if backend not in BACKENDS:
            ap.error(f"--backends: {backend!r} is not one of {', '.join(BACKENDS)}")
    return args


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


class Bench:
    """Shared parts of one run: the demo corpus, the embedding model, the queries and their vectors."""

    def __init__(self, args: argparse.Namespace, backends: Backends) -> None:
        self.args = args
        self.backends = backends
        self.demo: Demo = load_demo()
        defaults = Config()
        self.embedder: Embedder = make_embedder(defaults.embed_precision, defaults.embed_batch)
        started = time.perf_counter()
        self.embedder.embed(["load the model"])
        self.model_load_s = time.perf_counter() - started
        self.queries = make_queries(self.demo, max(args.queries, args.recall_queries))
        self.vectors = self.embedder.embed(self.queries)

    def one(self, backend: str, size: str) -> dict[str, Any]:
        """Build ``size`` on ``backend`` and measure everything; the database is dropped afterwards."""
        args, started = self.args, time.perf_counter()
        config = self.backends.config(backend, size)
        try:
            run = self._measure(config, f"{backend} {size}", size)
            gc.collect()  # the in-process vector index goes before the server loads its own
            log(f"{backend} {size}: HTTP load")
            run["http"] = http_load(
                config,
                self.queries[: args.queries],
                requests=args.http_requests,
                clients=args.http_clients,
                max_s=args.http_seconds,
            )
        finally:
            if not args.keep:
                self.backends.drop(config)
        run["wall_s"] = time.perf_counter() - started
        log(f"{backend} {size}: done in {run['wall_s']:.0f} s")
        return run

    def _measure(self, config: Config, what: str, size: str) -> dict[str, Any]:
        """Import, index, disk usage, latencies and recall, in this process."""
        args = self.args
        lib = Library(config, embedder=self.embedder)
        try:
            lib.init()
            log(f"{what}: importing")
            if size == "demo":
                run, profile = import_demo(lib)
            else:
                run, profile = import_synthetic(lib, self.demo, int(size), seed=args.seed)
            log(f"{what}: building the vector index")
            run.update(build_index(lib))
            run.update(disk_usage(config, self.embedder.name, self.embedder.dim))
            filters = profile.filters()
            run["filter"] = filter_info(lib, filters)
            log(f"{what}: latencies")
            n = run["queries"] = args.queries
            run["latency_ms"] = latencies(
                lib,
                self.queries[:n],
                self.vectors[:n],
                filters,
                warmup=args.warmup,
                max_s=args.phase_seconds,
                abstracts=self.demo.abstracts[:n],
            )
            log(f"{what}: recall")
            recall = recall_at_k(lib, self.vectors[: args.recall_queries])
            run["recall_at_10"], run["recall_at_10_ef"] = recall.pop("default"), recall
            run["recall_queries"] = args.recall_queries
        finally:
            lib.close()
        return run


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="dailypapers-bench-"))
    backends = Backends(workdir, keep=args.keep)
    results: dict[str, Any] = {
        "machine": machine(),
        "settings": {
            "sizes": args.sizes,
            "backends": args.backends,
            "queries": args.queries,
            "warmup": args.warmup,
            "phase_seconds": args.phase_seconds,
            "recall_queries": args.recall_queries,
            "http_requests": args.http_requests,
            "clients": args.http_clients,
            "http_seconds": args.http_seconds,
            "seed": args.seed,
        },
        "runs": [],
    }
    failed = False
    try:
        log(f"loading the demo corpus and the model; databases in {workdir}")
        bench = Bench(args, backends)
        results["settings"]["model_load_s"] = bench.model_load_s
        results["settings"]["embed_precision"] = getattr(bench.embedder, "precision", None)
        for size in args.sizes:
            for backend in args.backends:
                try:
                    run = {"backend": backend, "size": size, **bench.one(backend, size)}
                except Exception as exc:  # one failed run does not lose the others' numbers
                    traceback.print_exc()
                    run, failed = {"backend": backend, "size": size, "error": f"{type(exc).__name__}: {exc}"}, True
                results["runs"].append(run)
                save_json(args.out, results)
    finally:
        results["machine"]["postgres"] = backends.pg_versions()
        results["machine"]["load_average_end"] = os.getloadavg()
        backends.close()
        if not args.keep and args.workdir is None:
            shutil.rmtree(workdir, ignore_errors=True)
    save_json(args.out, results)
    print(text_table(results["runs"]))
    if args.doc:
        command = shlex.join(["python", "-m", "bench.run", *(sys.argv[1:] if argv is None else argv)])
        write_markdown(Path(args.doc), results, command)
    print(f"\nwrote {args.out}" + (f" and {args.doc}" if args.doc else ""))
    return 1 if failed else 0


def save_json(path: Path, results: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(results, indent=2, default=_json_default) + "\n")
    tmp.replace(path)


def _json_default(value: object) -> object:
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


if __name__ == "__main__":
    sys.exit(main())
