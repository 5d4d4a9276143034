"""The embedding tiers (MiniLM, static) side by side, and ANN recall on synthetic corpora embedded by a real model.

Usage::

    python -m bench.tiers [--sizes 100000,1000000] [--backends sqlite,postgres] [--parts throughput,recall,quality]
                          [--builds default,16:400] [--efs 400,800] [--synthetic-sizes 100000] [--throughput-texts N]
                          [--out bench/results/tiers.json]

One run, in this order (results written to ``--out`` after each part; the machine and load average with them):

1. **throughput** (:mod:`bench.tier_quality`): abstracts/s over the demo papers for MiniLM in fp32 and in the
   precision ``auto`` picks, and for the static tier, in ``update_index``'s batches; on CUDA too when torch has it.
2. **recall** (:mod:`bench.tier_recall`): for each size, the synthetic papers' texts embedded by the static tier
   (cached under ``bench/data/``), loaded into each backend; for each graph of ``--builds`` (``default``: the
   product's ``M``/``ef_construction``; ``M:EF_CONSTRUCTION`` otherwise) recall@10 and latencies at the
   application's ``ef`` and at ``--efs``. ``--synthetic-sizes``: sizes also measured with ``bench.corpus.Vectors``
   (the vectors of ``bench.run``) for comparison.
3. **quality** (:mod:`bench.tier_quality`): on the demo corpus, how many of MiniLM's top-10 similar papers the
   static tier finds, and nDCG@10 / recall@10 over ``bench/relevance/demo_queries.jsonl`` for vector-only retrieval
   with each model and for the full search (hybrid and keyword-only) on a demo instance.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
import traceback
from pathlib import Path
from typing import Any

from bench import tier_quality as tq
from bench.backends import Backends
from bench.corpus import CACHE, ROOT, Demo, load_demo
from bench.report import machine
from bench.run import log, save_json
from bench.tier_recall import measure_backend, text_vectors
from bench.tiers_report import print_tables
from dailypapers.config import Config
from dailypapers.search.vectors.embedder import Embedder, MiniLMEmbedder, resolve_precision
from dailypapers.search.vectors.static import StaticEmbedder, static_model_dir

PARTS = ("throughput", "recall", "quality")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(prog="python -m bench.tiers", description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", default="100000", help="comma-separated numbers of synthetic papers ('' for none)")
    ap.add_argument("--backends", default="sqlite,postgres", help="comma-separated: sqlite, postgres")
    ap.add_argument("--parts", default=",".join(PARTS), help=f"comma-separated: {', '.join(PARTS)}")
    ap.add_argument("--builds", default="default", help="graphs to build: 'default' and/or M:EF_CONSTRUCTION")
    ap.add_argument("--efs", default="400,800", help="search efforts besides the application's")
    ap.add_argument("--synthetic-sizes", default="", help="sizes also measured with bench.corpus.Vectors")
    ap.add_argument("--queries", type=int, default=200, help="similar-paper and text queries per measurement")
    ap.add_argument("--warmup", type=int, default=20, help="untimed calls before each latency measurement")
    ap.add_argument("--phase-seconds", type=float, default=45.0, help="time limit per latency measurement")
    ap.add_argument("--repeats", type=int, default=3, help="passes over the demo per throughput measurement")
    ap.add_argument("--throughput-texts", type=int, default=0,
                    help="demo abstracts per throughput pass (0: all; the suite's tiny run times a few)")  # fmt: skip
    ap.add_argument("--seed", type=int, default=0, help="seed of the synthetic corpus")
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "tiers.json")
    ap.add_argument("--workdir", type=Path, help="where the databases go (default: a new temporary folder)")
    args = ap.parse_args(argv)
    try:
        args.sizes = _ints(args.sizes)
        args.synthetic_sizes = _ints(args.synthetic_sizes)
        args.efs = _ints(args.efs)
        args.builds = [_build(b) for b in args.builds.split(",") if b.strip()]
    except ValueError as exc:
        ap.error(str(exc))
    args.backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    args.parts = [p.strip() for p in args.parts.split(",") if p.strip()]
    for name, given, allowed in (("--backends", args.backends, ("sqlite", "postgres")), ("--parts", args.parts, PARTS)):
        for value in given:
            if value not in allowed:
                ap.error(f"{name}: {value!r} is not one of {', '.join(allowed)}")
    return args


def _ints(text: str) -> list[int]:
    values = [s.strip() for s in text.split(",") if s.strip()]
    bad = [v for v in values if not (v.isdigit() and int(v) > 0)]
    if bad:
        raise ValueError(f"{bad[0]!r} is not a positive number")
    return [int(v) for v in values]


def _build(text: str) -> tuple[int | None, int | None]:
    text = text.strip()
    if text == "default":
        return None, None
    m, _, efc = text.partition(":")
    if not (m.isdigit() and efc.isdigit() and int(m) > 1 and int(efc) > 0):
        raise ValueError(f"--builds: {text!r} is neither 'default' nor M:EF_CONSTRUCTION (e.g. 16:400)")
    return int(m), int(efc)


class Tiers:
    """The run's shared parts: the demo corpus and the embedders (each loaded once)."""

    def __init__(self, args: argparse.Namespace, results: dict[str, Any]) -> None:
        self.args = args
        self.results = results  # written to --out after each part and after each recall run
        self.demo: Demo = load_demo()
        self.texts = tq.demo_texts(self.demo)
        batch = Config().embed_batch
        self.batch = batch
        self.minilm = {"fp32": MiniLMEmbedder("fp32", batch_size=batch)}
        auto = resolve_precision(Config().embed_precision)
        if auto != "fp32":
            self.minilm[auto] = MiniLMEmbedder(auto, batch_size=batch)
        self.auto = auto
        # bench/data is gitignored: the model is built there once (~22 s), like a data folder's models/
        self.static = StaticEmbedder(static_model_dir(CACHE))
        self.vectors: dict[str, Any] = {}  # demo vectors per model, from the throughput part

    def embedders(self) -> dict[str, Embedder]:
        return {**{f"minilm-{p}": e for p, e in self.minilm.items()}, "static": self.static}

    def throughput(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        texts = self.texts[: self.args.throughput_texts or None]
        for name, emb in self.embedders().items():
            log(f"throughput: {name}")
            got = tq.throughput(emb, texts, batch=self.batch, repeats=self.args.repeats)
            vectors = got.pop("vectors")
            if len(texts) == len(self.texts):  # the quality part's vectors, unless only a few were timed
                self.vectors[name] = vectors
            out[name] = got
        log("throughput: static, batches of 1024 (its own batch size)")
        out["static-batch1024"] = {k: v for k, v in tq.throughput(self.static, self.texts * 4, batch=1024,
                                   repeats=self.args.repeats).items() if k != "vectors"}  # fmt: skip
        out["cuda"] = cuda_throughput(self.texts, self.batch)
        return out

    def demo_vectors(self, name: str) -> Any:
        if name not in self.vectors:
            emb = self.embedders()[name]
            self.vectors[name] = emb.embed(self.texts)
        return self.vectors[name]

    def quality(self) -> dict[str, Any]:
        judged = tq.load_relevance(self.demo)
        ref = self.demo_vectors("minilm-fp32")
        out: dict[str, Any] = {"queries": len(judged), "overlap_vs_minilm_fp32": {}, "profile": {}, "vector": {}}
        for name, emb in self.embedders().items():
            vecs = self.demo_vectors(name)
            out["overlap_vs_minilm_fp32"][name] = tq.neighbour_overlap(ref, vecs)
            out["profile"][name] = tq.neighbour_profile(vecs)
            out["vector"][name] = tq.relevance_scores(tq.vector_ranker(emb, vecs), judged)
        out["library"] = {}
        with tempfile.TemporaryDirectory(prefix="dailypapers-tiers-demo-") as tmp:
            for name in (f"minilm-{self.auto}", "static"):
                log(f"quality: full search on a demo instance embedded by {name}")
                # the demo instance embeds the same texts again: it gets the vectors computed above
                known = tq.Remembering(self.embedders()[name], self.texts, self.demo_vectors(name))
                out["library"][name] = tq.hybrid_quality(known, self.demo, judged, Path(tmp) / name)
        return out

    def recall(self, backends: Backends) -> list[dict[str, Any]]:
        args, runs = self.args, []
        for n in args.sizes:
            log(f"recall {n}: embedding the synthetic texts with {self.static.name} (cached)")
            vectors, info = text_vectors(self.demo, n, self.static, seed=args.seed)
            log(f"recall {n}: vectors {info}")
            sources: list[tuple[Embedder, Any]] = [(self.static, vectors)]
            if n in args.synthetic_sizes:
                sources.append((self.minilm[self.auto], None))
            for embedder, vecs in sources:
                for backend in args.backends:
                    try:
                        run = measure_backend(
                            backends, backend, self.demo, embedder, n, vecs, builds=args.builds, efs=args.efs,
                            queries=args.queries, warmup=args.warmup, max_s=args.phase_seconds, seed=args.seed,
                            log=log,
                        )  # fmt: skip
                        run["text_vectors"] = info if vecs is not None else None
                    except Exception as exc:  # one failed run does not lose the others' numbers
                        traceback.print_exc()
                        run = {"backend": backend, "size": n, "model": embedder.name, "error": f"{exc!r}"}
                    runs.append(run)
                    self.results["recall"] = runs  # a 1M run takes most of an hour: keep what is measured
                    save_json(args.out, self.results)
        return runs


def cuda_throughput(texts: list[str], batch: int) -> dict[str, Any]:
    """MiniLM on the GPU (fp32 and fp16), if torch sees CUDA; otherwise ``{"available": False}``."""
    import torch

    if not torch.cuda.is_available():
        log("throughput: no CUDA")
        return {"available": False}
    from sentence_transformers import SentenceTransformer

    from dailypapers.search.vectors.embedder import model_path

    out: dict[str, Any] = {"available": True, "device": torch.cuda.get_device_name(0)}
    for precision in ("fp32", "fp16"):
        model = SentenceTransformer(model_path(), device="cuda", local_files_only=True)
        if precision == "fp16":
            model = model.half()
        model.encode(texts[:batch], batch_size=batch)
        torch.cuda.synchronize()
        started = time.perf_counter()
        model.encode(texts, batch_size=batch)
        torch.cuda.synchronize()
        out[precision] = {"per_s": len(texts) / (time.perf_counter() - started), "batch": batch}
    return out


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="dailypapers-tiers-"))
    backends = Backends(workdir)
    results: dict[str, Any] = {
        "machine": machine(),
        "command": " ".join(["python -m bench.tiers", *sys.argv[1:]]),
        "settings": {k: v for k, v in vars(args).items() if k not in ("out", "workdir")},
    }
    results["settings"]["builds"] = [list(b) for b in args.builds]
    failed = False
    try:
        tiers = Tiers(args, results)
        results["models"] = {name: {"name": e.name, "dim": e.dim} for name, e in tiers.embedders().items()}
        for part in (p for p in PARTS if p in args.parts):
            started = time.perf_counter()
            try:
                results[part] = tiers.recall(backends) if part == "recall" else getattr(tiers, part)()
            except Exception as exc:
                traceback.print_exc()
                results[part], failed = {"error": f"{exc!r}"}, True
            results.setdefault("part_seconds", {})[part] = time.perf_counter() - started
            save_json(args.out, results)
    finally:
        results["machine"]["postgres"] = backends.pg_versions()
        results["machine"]["load_average_end"] = os.getloadavg()
        backends.close()
        if args.workdir is None:
            shutil.rmtree(workdir, ignore_errors=True)
    save_json(args.out, results)
    print_tables(results)
    print(f"\nwrote {args.out}")
    recall = results.get("recall")
    return 1 if failed or (isinstance(recall, list) and any("error" in r for r in recall)) else 0


if __name__ == "__main__":
    sys.exit(main())
