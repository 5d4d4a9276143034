"""Benchmark that chose the ANN library behind :mod:`dailypapers.search.vectors.hnsw`: hnswlib vs usearch vs faiss-cpu.

It builds an HNSW index (cosine / inner product over unit vectors, float32, same M / ef_construction / ef_search)
with each library over synthetic clustered unit vectors that look like sentence embeddings (``--clusters``
gaussian clusters around random unit centres, normalised), and measures for each:

* build time (all cores, the libraries' own parallel insertion),
* recall@10 against exact brute-force search for ``--queries`` held-out queries from the same distribution,
* p50 / p95 latency of one query at a time, single-threaded, per ``ef_search``,
* saved index size, load time, and what the library supports for incremental add / replace / remove / filtering.

With ``--filtered F ...`` it also times filtered search in dailypapers' own ``AnnIndex`` (exact numpy search over
the allowed keys vs hnswlib's filter predicate) for those fractions of allowed keys; ``--libs`` with no names skips
the library comparison.

Usage: ``python bench/ann_choice.py`` (50k vectors, M=16: a few minutes on 2 cores; prints a table and writes
``bench/results/ann_choice.json``). The recorded results come from
``--n 100000 --m 16 32`` (36 min on a 2-core box shared with other jobs) and
``--n 100000 --libs --filtered 0.002 0.01 0.05 0.1 0.2 0.5 --out bench/results/ann_filtered.json``.
"""

from __future__ import annotations

import abc
import argparse
import json
import os
import platform
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

K = 10


def clustered_unit_vectors(
    n: int, dim: int, clusters: int, rng: np.random.Generator, centres: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """``n`` unit vectors around ``clusters`` random unit centres (cluster spread varies per cluster)."""
    if centres is None:
        centres = rng.standard_normal((clusters, dim)).astype(np.float32)
        centres /= np.linalg.norm(centres, axis=1, keepdims=True)
    spread = rng.uniform(0.03, 0.07, size=len(centres)).astype(np.float32)  # cos(point, centre) ~ 0.6 to 0.9
    assign = rng.integers(0, len(centres), size=n)
    x = centres[assign] + rng.standard_normal((n, dim)).astype(np.float32) * spread[assign, None]
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    return x.astype(np.float32), centres


def exact_topk(data: np.ndarray, queries: np.ndarray, k: int) -> np.ndarray:
    out = np.empty((len(queries), k), dtype=np.int64)
    for start in range(0, len(queries), 256):
        sims = queries[start : start + 256] @ data.T
        part = np.argpartition(-sims, k, axis=1)[:, :k]
        order = np.argsort(-np.take_along_axis(sims, part, axis=1), axis=1)
        out[start : start + 256] = np.take_along_axis(part, order, axis=1)
    return out


def recall(found: np.ndarray, truth: np.ndarray) -> float:
    return float(
        np.mean([len(set(f.tolist()) & set(t.tolist())) / truth.shape[1] for f, t in zip(found, truth, strict=True)])
    )


def dir_size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


class Lib(abc.ABC):
    """One library behind a small common interface."""

    name = ""
    incremental = ""
    index: Any = None

    @abc.abstractmethod
    def build(self, data: np.ndarray, m: int, ef_c: int, threads: int) -> None: ...

    @abc.abstractmethod
    def set_ef(self, ef: int) -> None: ...

    @abc.abstractmethod
    def query(self, q: np.ndarray, k: int) -> np.ndarray: ...

    @abc.abstractmethod
    def save(self, folder: Path) -> None: ...

    @abc.abstractmethod
    def load(self, folder: Path, dim: int) -> None: ...


class Hnswlib(Lib):
    name = "hnswlib"
    incremental = "add_items (grow with resize_index); re-adding a label replaces it; mark_deleted; filter callable"

    def build(self, data: np.ndarray, m: int, ef_c: int, threads: int) -> None:
        import hnswlib

        self.index = hnswlib.Index(space="ip", dim=data.shape[1])
        self.index.init_index(max_elements=len(data), M=m, ef_construction=ef_c, allow_replace_deleted=True)
        self.index.add_items(data, np.arange(len(data)), num_threads=threads)

    def set_ef(self, ef: int) -> None:
        self.index.set_ef(ef)

    def query(self, q: np.ndarray, k: int) -> np.ndarray:
        return self.index.knn_query(q, k=k, num_threads=1)[0][0]

    def save(self, folder: Path) -> None:
        self.index.save_index(str(folder / "index.bin"))

    def load(self, folder: Path, dim: int) -> None:
        import hnswlib

        self.index = hnswlib.Index(space="ip", dim=dim)
        self.index.load_index(str(folder / "index.bin"), allow_replace_deleted=True)


class Usearch(Lib):
    name = "usearch"
    incremental = "add (auto-grows), remove, contains, get; int64 keys native; no filter predicate in Python API"

    def build(self, data: np.ndarray, m: int, ef_c: int, threads: int) -> None:
        from usearch.index import Index

        self.index = Index(ndim=data.shape[1], metric="ip", dtype="f32", connectivity=m, expansion_add=ef_c)
        self.index.add(np.arange(len(data), dtype=np.uint64), data, threads=threads)

    def set_ef(self, ef: int) -> None:
        self.index.expansion_search = ef

    def query(self, q: np.ndarray, k: int) -> np.ndarray:
        return np.asarray(self.index.search(q, k, threads=1).keys)

    def save(self, folder: Path) -> None:
        self.index.save(str(folder / "index.usearch"))

    def load(self, folder: Path, dim: int) -> None:
        from usearch.index import Index

        self.index = Index.restore(str(folder / "index.usearch"))


class Faiss(Lib):
    name = "faiss"
    incremental = "add only (IDMap2 for int64 keys); HNSW cannot remove or replace (rebuild); IDSelector filter"

    def build(self, data: np.ndarray, m: int, ef_c: int, threads: int) -> None:
        import faiss

        faiss.omp_set_num_threads(threads)
        self.index = faiss.IndexHNSWFlat(data.shape[1], m, faiss.METRIC_INNER_PRODUCT)
        self.index.hnsw.efConstruction = ef_c
        self.index.add(data)
        faiss.omp_set_num_threads(1)

    def set_ef(self, ef: int) -> None:
        self.index.hnsw.efSearch = ef

    def query(self, q: np.ndarray, k: int) -> np.ndarray:
        return self.index.search(q[None, :], k)[1][0]

    def save(self, folder: Path) -> None:
        import faiss

        faiss.write_index(self.index, str(folder / "index.faiss"))

    def load(self, folder: Path, dim: int) -> None:
        import faiss

        self.index = faiss.read_index(str(folder / "index.faiss"))


LIBS: dict[str, Callable[[], Lib]] = {"hnswlib": Hnswlib, "usearch": Usearch, "faiss": Faiss}


def bench_one(
    lib: Lib, data: np.ndarray, queries: np.ndarray, truth: np.ndarray, m: int, ef_c: int, efs: list[int], threads: int
) -> dict[str, Any]:
    t0 = time.perf_counter()
    lib.build(data, m, ef_c, threads)
    build_s = time.perf_counter() - t0
    row: dict[str, Any] = {"library": lib.name, "M": m, "ef_construction": ef_c, "build_s": round(build_s, 2)}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        lib.save(folder)
        row["file_mb"] = round(dir_size(folder) / 1e6, 1)
        t0 = time.perf_counter()
        lib.load(folder, data.shape[1])
        row["load_s"] = round(time.perf_counter() - t0, 3)
    row["search"] = []
    for ef in efs:
        lib.set_ef(ef)
        for q in queries[:20]:  # warm up
            lib.query(q, K)
        found = np.empty((len(queries), K), dtype=np.int64)
        lat = np.empty(len(queries))
        for i, q in enumerate(queries):
            t0 = time.perf_counter()
            found[i] = lib.query(q, K)
            lat[i] = time.perf_counter() - t0
        row["search"].append(
            {
                "ef_search": ef,
                "recall_at_10": round(recall(found, truth), 4),
                "p50_ms": round(float(np.percentile(lat, 50)) * 1e3, 3),
                "p95_ms": round(float(np.percentile(lat, 95)) * 1e3, 3),
            }
        )
    row["incremental"] = lib.incremental
    return row


def bench_filtered(data: np.ndarray, queries: np.ndarray, fractions: list[float]) -> list[dict[str, Any]]:
    """Filtered search in :class:`~dailypapers.search.vectors.hnsw.AnnIndex`:
    exact numpy search vs hnswlib's filter predicate.

    For each fraction of allowed keys: p50 latency and recall@10 (against exact search over the allowed keys).
    """
    from dailypapers.search.vectors.hnsw import AnnIndex

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        ann = AnnIndex(Path(tmp), data.shape[1])
        t0 = time.perf_counter()
        ann.add(np.arange(len(data), dtype=np.int64), data)
        print(f"AnnIndex build: {time.perf_counter() - t0:.1f} s")
        rng = np.random.default_rng(1)
        qs = queries[:200]
        for frac in fractions:
            pick = np.sort(rng.choice(len(data), max(K, int(frac * len(data))), replace=False))
            allowed = set(pick.tolist())
            truth = pick[exact_topk(data[pick], qs, K)]
            row: dict[str, Any] = {"allowed_fraction": frac, "allowed": len(pick)}
            for mode, exact_max, exact_frac in (("exact", len(data), 1.0), ("hnsw_filter", 0, 0.0)):
                ann.EXACT_MAX, ann.EXACT_FRACTION = exact_max, exact_frac
                lat, found = [], []
                for q in qs:
                    t0 = time.perf_counter()
                    hits = ann.search(q, K, allowed)
                    lat.append(time.perf_counter() - t0)
                    found.append([k for k, _ in hits])
                row[f"{mode}_p50_ms"] = round(float(np.percentile(lat, 50)) * 1e3, 3)
                row[f"{mode}_recall_at_10"] = round(recall(np.array(found), truth), 4)
            print(
                f"allowed {frac:>6.1%}: exact {row['exact_p50_ms']:>7} ms (recall {row['exact_recall_at_10']}), "
                f"hnsw filter {row['hnsw_filter_p50_ms']:>7} ms (recall {row['hnsw_filter_recall_at_10']})",
                flush=True,
            )
            rows.append(row)
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=50_000, help="vectors in the index")
    ap.add_argument("--dim", type=int, default=384)
    ap.add_argument("--clusters", type=int, default=1000)
    ap.add_argument("--queries", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--m", type=int, nargs="+", default=[16])
    ap.add_argument("--ef-construction", type=int, default=200)
    ap.add_argument("--ef-search", type=int, nargs="+", default=[64, 128])
    ap.add_argument("--libs", nargs="*", default=list(LIBS), choices=list(LIBS))
    ap.add_argument("--threads", type=int, default=os.cpu_count() or 1, help="threads for building")
    ap.add_argument(
        "--filtered",
        type=float,
        nargs="*",
        default=None,
        help="also time filtered search in dailypapers' AnnIndex for these allowed fractions (e.g. 0.01 0.1 0.3)",
    )
    ap.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "ann_choice.json")
    args = ap.parse_args()

    started, load_before = time.perf_counter(), os.getloadavg()[0]
    rng = np.random.default_rng(args.seed)
    data, centres = clustered_unit_vectors(args.n, args.dim, args.clusters, rng)
    queries, _ = clustered_unit_vectors(args.queries, args.dim, args.clusters, rng, centres)
    t0 = time.perf_counter()
    truth = exact_topk(data, queries, K)
    exact_s = time.perf_counter() - t0
    print(f"n={args.n} dim={args.dim} clusters={args.clusters} queries={args.queries} cpus={os.cpu_count()}")
    print(f"exact numpy search: {exact_s * 1e3 / args.queries:.2f} ms/query (batched)")

    rows = []
    filtered = (
        bench_filtered(data, queries, args.filtered or [0.01, 0.05, 0.1, 0.2, 0.5])
        if args.filtered is not None
        else None
    )
    header = f"{'library':8} {'M':>3} {'build_s':>8} {'file_MB':>8} {'load_s':>7} {'ef':>4} {'recall@10':>9} "
    print(header + f"{'p50_ms':>7} {'p95_ms':>7}")
    for m in args.m:
        for name in args.libs:
            row = bench_one(LIBS[name](), data, queries, truth, m, args.ef_construction, args.ef_search, args.threads)
            rows.append(row)
            for s in row["search"]:
                print(
                    f"{name:8} {m:>3} {row['build_s']:>8} {row['file_mb']:>8} {row['load_s']:>7} {s['ef_search']:>4} "
                    f"{s['recall_at_10']:>9} {s['p50_ms']:>7} {s['p95_ms']:>7}",
                    flush=True,
                )
    result = {
        "params": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()},
        "machine": {
            "cpus": os.cpu_count(),
            "processor": platform.processor() or platform.machine(),
            "load_average_1min_start_end": [round(load_before, 2), round(os.getloadavg()[0], 2)],
        },
        "wall_s": round(time.perf_counter() - started, 1),
        "exact_ms_per_query_batched": round(exact_s * 1e3 / args.queries, 3),
        "results": rows,
    }
    if filtered is not None:
        result["filtered_search"] = filtered
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
