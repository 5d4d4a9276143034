"""Compact (quantized) HNSW for the SQLite backend's vector index: hnswlib float32 vs usearch and faiss-cpu in
float16 and int8. ``python -m bench.quantized`` writes ``bench/results/quantized.json``.

Vectors: ``--n`` synthetic papers shaped like the benchmarks' corpus (:class:`bench.corpus.Vectors`: around the 298
real MiniLM demo embeddings, 64 sub-topics each, noise along the demo's principal directions), ``--queries``
held-out vectors from the same distribution. Every candidate is one HNSW with the same graph parameters as the
shipped index (M=16, ef_construction=200, inner product over unit vectors) and is measured in its own processes:

* ``build_s``: building it from all ``--n`` vectors with ``--threads`` threads, then ``index_bytes`` saved;
* ``rss_mib``: the resident memory a fresh process gains by loading the saved index once and searching it at every
  ``ef`` (VmRSS after, minus VmRSS before loading; what a serving worker pays per index), and
  ``bytes_per_vector`` from it (the recorded ``quantized.json`` run loaded it once per ``ef``, three times);
* per ``ef_search``: recall@10 against exact float32 search, p50 / p99 of one query at a time on one thread.

``dailypapers-sq8`` is the shipped :class:`~dailypapers.search.vectors.hnsw.AnnIndex` (faiss SQ8 graph, the graph's
``2k`` nearest rescored with the float32 rows, which are memory-mapped: ``index_bytes`` counts its whole folder,
``rss_mib`` what the process holds after the queries, the key map included). The recorded run:
``python -m bench.quantized --n 100000`` (the five libraries, ``bench/results/quantized.json``) and ``python -m
bench.quantized --only faiss-sq8 dailypapers-sq8 --out bench/results/quantized_shipped.json`` (each index loaded
once).

1M papers is extrapolated from 100k (``extrapolated_1m``): index memory grows linearly with the vectors (the
graph's links and the codes are per vector), and the 2026-12-02 run's worker held 2,575 MiB, 1,614 of them
hnswlib's index (docs/benchmarks.md), so the worker at 1M is ~961 MiB plus the candidate's index (the shipped
index's key map, which those 961 MiB already hold, counted once: :func:`extrapolate`).
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from bench.ann_choice import dir_size, exact_topk, recall
from bench.corpus import Vectors, load_demo

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "bench" / "results" / "quantized.json"
K = 10
M, EF_CONSTRUCTION = 16, 200
WORKER_REST_MIB = 2575 - 1614  # the 1M serving worker without hnswlib's index (docs/benchmarks.md, 2026-12-02)
KEY_MAP_BYTES = 104  # the key -> row dict per key: 104 MB for 1M keys, measured alone (docs/benchmarks.md)
CANDIDATES = ("hnswlib-f32", "usearch-f16", "usearch-i8", "faiss-f16", "faiss-sq8", "dailypapers-sq8")


def synthetic_vectors(n: int, seed: int) -> np.ndarray:
    """``n`` vectors as :func:`bench.corpus.synthetic` draws them (one topic, one sub-topic, noise), vectorised."""
    demo = load_demo()
    vec = Vectors(demo, np.random.default_rng([seed, 1]))
    rng = np.random.default_rng(seed)
    topics = rng.integers(len(demo.vectors), size=n)
    centres = vec._centres[topics * vec.subtopics + rng.integers(vec.subtopics, size=n)]
    out = np.empty((n, vec.dim), np.float32)
    for start in range(0, n, 20_000):
        block = centres[start : start + 20_000]
        x = block + vec._noise(rng, len(block), 0.45, 0.12)
        out[start : start + len(block)] = x / np.linalg.norm(x, axis=1, keepdims=True)
    return out


def build(name: str, data: np.ndarray, path: Path, threads: int) -> None:
    """Build candidate ``name`` over ``data`` (keys 0..n-1) and save it to ``path``."""
    lib, kind = name.split("-")
    if lib == "dailypapers":
        from dailypapers.search.vectors.hnsw import AnnIndex

        ann = AnnIndex(path, data.shape[1])
        ann.add(np.arange(len(data), dtype=np.int64), data)
        ann.save()
    elif lib == "hnswlib":
        import hnswlib

        index = hnswlib.Index(space="ip", dim=data.shape[1])
        index.init_index(len(data), M=M, ef_construction=EF_CONSTRUCTION, allow_replace_deleted=True)
        index.add_items(data, np.arange(len(data)), num_threads=threads)
        index.save_index(str(path))
    elif lib == "usearch":
        from usearch.index import Index

        u = Index(ndim=data.shape[1], metric="ip", dtype=kind, connectivity=M, expansion_add=EF_CONSTRUCTION)
        u.add(np.arange(len(data), dtype=np.uint64), data, threads=threads)
        u.save(str(path))
    else:
        import faiss

        faiss.omp_set_num_threads(threads)
        qt = faiss.ScalarQuantizer.QT_fp16 if kind == "f16" else faiss.ScalarQuantizer.QT_8bit
        f = faiss.IndexHNSWSQ(data.shape[1], qt, M, faiss.METRIC_INNER_PRODUCT)
        f.hnsw.efConstruction = EF_CONSTRUCTION
        f.train(data[: min(len(data), 100_000)])
        f.add(data)
        faiss.write_index(f, str(path))


def rss_kib() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def load(name: str, path: Path, dim: int) -> tuple[Any, Callable[[np.ndarray], np.ndarray], Callable[[int], None]]:
    """Load the saved index once: (index, one query's top-K keys, set ef_search)."""
    lib, _ = name.split("-")
    if lib == "dailypapers":
        from dailypapers.search.vectors.hnsw import AnnIndex

        ann = AnnIndex.open(path, dim)

        def set_ef(ef: int) -> None:
            AnnIndex.EF_SEARCH = ef

        return ann, lambda q: np.array([key for key, _ in ann.search(q, K)]), set_ef
    if lib == "hnswlib":
        import hnswlib

        h = hnswlib.Index(space="ip", dim=dim)
        h.load_index(str(path))
        h.set_num_threads(1)
        return h, lambda q: h.knn_query(q, k=K, num_threads=1)[0][0], h.set_ef
    if lib == "usearch":
        from usearch.index import Index

        u = Index.restore(str(path))

        def set_u(ef: int) -> None:
            u.expansion_search = ef

        return u, lambda q: np.asarray(u.search(q, K, threads=1).keys), set_u
    import faiss

    faiss.omp_set_num_threads(1)
    f = faiss.read_index(str(path))

    def set_f(ef: int) -> None:
        f.hnsw.efSearch = ef

    return f, lambda q: f.search(q[None, :], K)[1][0], set_f


def timed_queries(one: Callable[[np.ndarray], np.ndarray], queries: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Every query one at a time (20 first to warm up): (found keys, ms per query)."""
    for q in queries[:20]:
        one(q)
    found, lat = np.empty((len(queries), K), np.int64), []
    for i, q in enumerate(queries):
        t0 = time.perf_counter()
        found[i] = one(q)
        lat.append(time.perf_counter() - t0)
    return found, np.asarray(lat) * 1e3


def child(args: argparse.Namespace) -> None:
    """One candidate in this process: ``--child build`` or ``--child query`` (prints one JSON line)."""
    folder, name = Path(args.folder), args.name
    path = folder / f"{name}.index"
    if args.child == "build":
        data = np.load(folder / "data.npy")
        t0 = time.perf_counter()
        build(name, data, path, args.threads)
        size = dir_size(path) if path.is_dir() else path.stat().st_size
        print(json.dumps({"build_s": round(time.perf_counter() - t0, 1), "index_bytes": size}))
        return
    queries, truth = np.load(folder / "queries.npy"), np.load(folder / "truth.npy")
    from threadpoolctl import threadpool_limits

    threadpool_limits(1)  # one query at a time on one thread (OpenBLAS' threads only contend on a busy 2-core box)
    if name.startswith(("faiss", "dailypapers")):
        import faiss  # noqa: F401  (its own libraries loaded before the baseline, like hnswlib's and usearch's)
    elif name.startswith("usearch"):
        import usearch.index  # noqa: F401
    else:
        import hnswlib  # noqa: F401
    before = rss_kib()
    out: dict[str, Any] = {"search": []}
    index, one, set_ef = load(name, path, queries.shape[1])  # loaded once, as a serving worker holds it
    for ef in args.ef:
        set_ef(ef)
        found, ms = timed_queries(one, queries)
        out["search"].append(
            {
                "ef_search": ef,
                "recall_at_10": round(recall(found, truth), 4),
                "p50_ms": round(float(np.percentile(ms, 50)), 3),
                "p99_ms": round(float(np.percentile(ms, 99)), 3),
            }
        )
        out["rss_mib"] = round((rss_kib() - before) / 1024, 1)
    del index
    print(json.dumps(out))


def run_child(mode: str, name: str, folder: Path, args: argparse.Namespace) -> dict[str, Any]:
    cmd = [sys.executable, "-m", "bench.quantized", "--child", mode, "--name", name, "--folder", str(folder)]
    cmd += ["--threads", str(args.threads), "--ef", *map(str, args.ef)]
    done = subprocess.run(cmd, check=True, capture_output=True, text=True, cwd=ROOT)
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def extrapolate(row: dict[str, Any], n: int) -> dict[str, Any]:
    """Bytes per vector, and the index and the serving worker at 1M vectors. The shipped index's RSS includes its
    key map, which the 2026-12-02 worker's rest already holds (:data:`KEY_MAP_BYTES` a key): counted once."""
    per = round(row["rss_mib"] * 2**20 / n)
    index = per - (KEY_MAP_BYTES if row["candidate"].startswith("dailypapers") else 0)
    return {
        "bytes_per_vector": per,
        "extrapolated_1m": {
            "index_mib": round(per * 1e6 / 2**20),
            "worker_rss_mib": round(WORKER_REST_MIB + index * 1e6 / 2**20),
        },
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.quantized", description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=100_000)
    ap.add_argument("--queries", type=int, default=1000)
    ap.add_argument("--ef", type=int, nargs="+", default=[100, 200, 400])
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--only", nargs="+", default=list(CANDIDATES), choices=CANDIDATES)
    ap.add_argument("--out", type=Path, default=OUT)
    ap.add_argument("--child", choices=("build", "query"), help=argparse.SUPPRESS)
    ap.add_argument("--name", help=argparse.SUPPRESS)
    ap.add_argument("--folder", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        child(args)
        return 0
    started = time.perf_counter()
    rows = []
    with tempfile.TemporaryDirectory(prefix="dailypapers-bench-quant-") as tmp:
        folder = Path(tmp)
        everything = synthetic_vectors(args.n + args.queries, args.seed)
        data, queries = everything[: args.n], everything[args.n :]
        np.save(folder / "data.npy", data)
        np.save(folder / "queries.npy", queries)
        np.save(folder / "truth.npy", exact_topk(data, queries, K))
        del everything, data
        for name in args.only:
            row: dict[str, Any] = {"candidate": name} | run_child("build", name, folder, args)
            row |= run_child("query", name, folder, args)
            row |= extrapolate(row, args.n)
            print(json.dumps(row), flush=True)
            shutil.rmtree(folder / f"{name}.index") if name.startswith("dailypapers") else (
                folder / f"{name}.index"
            ).unlink()
            rows.append(row)
    result = {
        "command": "python -m bench.quantized " + " ".join(argv if argv is not None else sys.argv[1:]),
        "params": {k: v for k, v in vars(args).items() if k not in ("child", "name", "folder")}
        | {"out": str(args.out)},
        "graph": {"M": M, "ef_construction": EF_CONSTRUCTION, "metric": "inner product, unit vectors"},
        "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "results": rows,
        "seconds": round(time.perf_counter() - started, 1),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
