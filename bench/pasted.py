"""Pasted abstracts alone: how a long text's term frequencies are found, as shipped and as before, side by side.

Usage::

    python -m bench.pasted [--size 1000000] [--backend postgres] [--rounds 2] [--abstracts 100]
                           [--out bench/results/pasted_1m.json]

It builds one synthetic corpus the way :mod:`bench.run` does (the same seed) and searches whole demo abstracts
(hybrid, ``Library.search.query``), and the keyword half alone. On PostgreSQL it also times the code before
(``store/pg_terms.py``): every term of the text counted, up to the budget, none taken from the planner's
statistics. Each variant of each round starts with an empty cache of long-text frequencies, after one untimed
search of an abstract that is not timed (it pays the corpus count), so every timed abstract is seen for the first
time, while words it shares with the abstracts before it are cached, as on a server in use. It prints each round
and writes them to ``--out``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import shutil
import tempfile
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from bench.backends import Backends
from bench.build import build_index, import_synthetic
from bench.corpus import ROOT, load_demo
from bench.measure import time_calls
from bench.report import machine
from dailypapers.errors import StoreError
from dailypapers.library import Library
from dailypapers.papers.store.keyword_plan import DocumentFrequencies
from dailypapers.search.vectors.embedder import make_embedder

# The code before: one statement that counts every term, common ones too, up to the cap.
_COUNT_EVERY_TERM = (
    "SELECT t.term, (SELECT count(*) FROM (SELECT 1 FROM papers WHERE tsv @@ plainto_tsquery('english', t.term)"
    " LIMIT %s) s) AS n FROM unnest(%s::text[]) AS t(term)"
)


@contextlib.contextmanager
def _variant(lib: Library, name: str) -> Iterator[None]:
    """The store as it is (``shipped``) or with every term counted (``counted``), with an empty text cache."""
    store: Any = lib.store
    if not hasattr(store, "_text_dfs"):  # SQLite counts every term from fts5vocab: one variant
        yield
        return
    shipped = store._text_dfs
    if name == "counted":

        def count_every_term(terms: Sequence[str], cap: int) -> dict[str, int]:
            return {r["term"]: int(r["n"]) for r in store._rows(_COUNT_EVERY_TERM, (cap, list(terms)))}

        store._text_dfs = DocumentFrequencies(store._count_term, count_many=count_every_term, total=store.count_papers)
    store._text_dfs.clear()
    try:
        yield
    finally:
        store._text_dfs = shipped


def measure(lib: Library, abstracts: Sequence[str], spare: str, max_s: float = 30.0) -> dict[str, dict[str, float]]:
    """Hybrid and keyword-only latency of ``abstracts`` in each variant; ``spare`` is searched first, untimed."""
    variants = ("shipped", "counted") if lib.store.backend == "postgres" else ("shipped",)
    out: dict[str, dict[str, float]] = {}
    for name in variants:
        with _variant(lib, name):
            with contextlib.suppress(StoreError):  # the code before may pass the query time limit at 1M
                lib.search.query(spare)
            out[f"hybrid_{name}"] = time_calls(lambda q: lib.search.query(q), abstracts, 0, max_s)
        with _variant(lib, name):
            with contextlib.suppress(StoreError):
                lib.store.keyword_search(spare, 100)
            out[f"keyword_{name}"] = time_calls(lambda q: lib.store.keyword_search(q, 100), abstracts, 0, max_s)
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.pasted", description=__doc__.split("\n\n")[0])
    ap.add_argument("--size", type=int, default=1_000_000, help="synthetic papers")
    ap.add_argument("--backend", choices=("sqlite", "postgres"), default="postgres")
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--abstracts", type=int, default=100, help="demo abstracts timed (at most 297)")
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "pasted_1m.json")
    args = ap.parse_args(argv)
    workdir = Path(tempfile.mkdtemp(prefix="dailypapers-pasted-"))
    backends = Backends(workdir)
    results: dict[str, Any] = {"machine": machine(), "settings": vars(args) | {"out": str(args.out)}, "rounds": []}
    try:
        demo = load_demo()
        lib = Library(backends.config(args.backend, str(args.size)), embedder=make_embedder())
        try:
            lib.init()
            import_synthetic(lib, demo, args.size, seed=0)
            results["index"] = build_index(lib)
            results["rounds"] = run_rounds(lib, demo.abstracts, args.abstracts, args.rounds)
        finally:
            lib.close()
    finally:
        backends.close()
        shutil.rmtree(workdir, ignore_errors=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2, default=str) + "\n")
    print(f"wrote {args.out}")
    return 0


def run_rounds(lib: Library, abstracts: Sequence[str], n: int, rounds: int) -> list[dict[str, Any]]:
    """:func:`measure` ``rounds`` times over the first ``n`` abstracts (the last one is the untimed spare)."""
    timed, spare = list(abstracts[: min(n, len(abstracts) - 1)]), abstracts[-1]
    out = []
    for number in range(1, rounds + 1):
        started = time.perf_counter()
        found = measure(lib, timed, spare)
        out.append({"round": number, "wall_s": time.perf_counter() - started, **found})
        for name, s in found.items():
            print(f"round {number} {name:18s} p50 {s['p50']:.1f} / p95 {s['p95']:.1f} ms (n {s['n']:.0f})")
    return out


if __name__ == "__main__":
    raise SystemExit(main())
