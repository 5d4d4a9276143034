"""The topic map's computation at scale: layout + clustering + labels of N synthetic papers, and placing new ones.

    python -m bench.topics [--n 100000] [--seed 0]

Papers and vectors come from :func:`bench.corpus.synthetic` (drawn around the demo's real embeddings and texts).
Measured, each on its own: the 2-D layout (:func:`dailypapers.topics.layout.layout`: t-SNE on a seeded sample of
at most ``FIT_SAMPLE`` papers, the rest placed by their neighbours), the k-means clusters, the c-TF-IDF labels, and
placing 1,000 new papers by their neighbours (what the ``map`` job does on an ordinary morning). The database
writes are not included (100k rows of five numbers: seconds). Results go to ``bench/results/topics.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from pathlib import Path

import numpy as np

from bench.corpus import load_demo, synthetic
from dailypapers.topics import layout
from dailypapers.topics.labels import label_topics

RESULTS = Path(__file__).resolve().parent / "results" / "topics.json"


def _timed(label: str, times: dict[str, float], fn, *args, **kwargs):  # type: ignore[no-untyped-def]
    """Run ``fn``; keep its wall time and its CPU time (``_cpu``: what it costs on a machine other processes share
    too, where the wall time mostly measures them)."""
    started, cpu = time.perf_counter(), time.process_time()
    out = fn(*args, **kwargs)
    times[label] = round(time.perf_counter() - started, 2)
    times[label + "_cpu"] = round(time.process_time() - cpu, 2)
    print(f"{label}: {times[label]} s wall, {times[label + '_cpu']} s CPU", flush=True)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    times: dict[str, float] = {}
    pairs = _timed("generate", times, lambda: list(synthetic(load_demo(), args.n, seed=args.seed)))
    vectors = np.stack([v for _, v in pairs]).astype(np.float32)
    texts = [f"{p.title}. {p.title}. {p.abstract}" for p, _ in pairs]
    new, old = vectors[-1000:], vectors[:-1000]
    # the cheaper stages first: on a shared machine, a run cut short still reports them
    clusters = _timed("clusters", times, layout.clusters, old, args.seed)
    labels = _timed("labels", times, label_topics, texts[:-1000], clusters)
    xy = _timed("layout", times, layout.layout, old, args.seed)
    _timed("place_1000_new", times, layout.place_near, old, xy, clusters, new)
    for suffix in ("", "_cpu"):
        parts = (times["layout" + suffix], times["clusters" + suffix], times["labels" + suffix])
        times["layout_clusters_labels" + suffix] = round(sum(parts), 2)
    result = {
        "n": args.n,
        "fit_sample": layout.FIT_SAMPLE,
        "topics": len(labels),
        "seconds": times,
        "example_labels": [", ".join(terms) for terms in list(labels.values())[:8]],
        "machine": {
            "cpus": os.cpu_count(),
            "processor": platform.processor() or platform.machine(),
            "load_1min_at_end": os.getloadavg()[0],
        },
        "when": time.strftime("%Y-%m-%d %H:%M", time.gmtime()),
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
