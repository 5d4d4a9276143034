"""SQLite's keyword half before and after tantivy, side by side: latency, exactness, overlap and relevance.

Run it from the repository root::

    python -m bench.keyword_engines speed --size 100000      # latencies, exactness, the long-text set (~5 min)
    python -m bench.keyword_engines relevance                # the relevance set, engine and setting variants

``speed`` fills a SQLite store with ``--size`` synthetic papers (:mod:`bench.corpus`, papers only), builds the
tantivy index (timed, and its size on disk beside the FTS5 tables'), then runs the same queries through FTS5 with
the keyword budget (the code before) and through tantivy, interleaved query by query so both see the same machine
state: the 200 short queries of ``bench.run`` and the first 100 demo abstracts pasted whole (``--long``). For every
query it checks that tantivy's top 100 is its exhaustive top 100 (every match scored), and measures how much each
top 100 shares with FTS5's unpruned BM25 top 100.

**The long-text set** (held-out): each demo abstract is a query, and the relevant papers are the synthetic papers
drawn around that demo paper (its *topic*, read back from the synthetic title, which keeps two thirds of the topic
paper's title words in order). The text itself is in no synthetic paper (they resample its words with 20% noise),
so this is "paste an abstract, find the papers on its subject". ``cited`` is the same abstract with a first-page
header of its own and citations of synthetic authors' names, a URL, a DOI and an arXiv id appended: what must not
steal the query. Precision@10 = the share of the top 10 from the topic. Short ``title`` queries (a demo title)
are scored the same way.

``relevance`` runs the hand-judged relevance set (:mod:`bench.search_quality`) on the demo library in keyword and
hybrid mode for FTS5 and for tantivy under several field boosts and long-text weightings.
Results go to ``bench/results/keyword_engines.json``.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from bench.build import folder_bytes
from bench.corpus import ROOT, Demo, load_demo, synthetic
from bench.measure import make_queries, summarize
from dailypapers.papers.store.base import Hit
from dailypapers.papers.store.sqlite import SQLiteStore
from dailypapers.search.keyword.tantivy_search import TantivyKeywords

RESULTS = ROOT / "bench" / "results" / "keyword_engines.json"
K = 100
HEADER = (
    "{title}\nAna Chen1, Omar Silva2\n1 University of Somewhere 2 Institute of Elsewhere\n{{ana,omar}}@example.org\n"
)
CITED = (
    " As shown by Chen et al. (2021) and (Garcia and Kim, 2019; Rossi et al., 2020), see also [3, 7] and"
    " https://github.com/example/code, doi 10.1234/abcd.5678, arXiv:2106.09685."
)


def topics_of(demo: Demo, titles: Sequence[str]) -> list[int]:
    """The demo paper each synthetic title was drawn around (-1 when none fits): its words, less ``(i)``, are a
    subsequence of that paper's title words."""
    words = [t.split() for t in demo.titles]
    by_word: dict[str, set[int]] = defaultdict(set)
    for i, ws in enumerate(words):
        for w in ws:
            by_word[w].add(i)
    found = []
    for title in titles:
        kept = title[: title.rindex(" (")].split()
        candidates = set.intersection(*(by_word.get(w, set()) for w in kept)) if kept else set()
        found.append(next((t for t in sorted(candidates) if _subsequence(kept, words[t])), -1))
    return found


def _subsequence(part: list[str], whole: list[str]) -> bool:
    it = iter(whole)
    return all(w in it for w in part)


def fill(store: SQLiteStore, demo: Demo, n: int) -> tuple[float, list[int]]:
    """Import ``n`` synthetic papers (batches of 1000); return the seconds the store took and each paper's topic."""
    batch, spent, titles = [], 0.0, []
    for paper, _ in synthetic(demo, n):
        batch.append(paper)
        titles.append(paper.title)
        if len(batch) == 1000:
            started = time.perf_counter()
            store.upsert_papers(batch)
            spent += time.perf_counter() - started
            batch = []
    if batch:
        store.upsert_papers(batch)
    return spent, topics_of(demo, titles)


def interleaved(engines: dict[str, Callable[[str], list[Hit]]], queries: Sequence[str]) -> dict[str, Any]:
    """Each query through every engine in turn (after one untimed round of 20): latencies and the hits."""
    for q in queries[:20]:
        for run in engines.values():
            run(q)
    ms: dict[str, list[float]] = defaultdict(list)
    hits: dict[str, list[list[Hit]]] = defaultdict(list)
    for q in queries:
        for name, run in engines.items():
            started = time.perf_counter()
            found = run(q)
            ms[name].append((time.perf_counter() - started) * 1000)
            hits[name].append(found)
    return {"ms": {n: summarize(v) for n, v in ms.items()}, "hits": hits}


def exact(top: list[Hit], every: list[Hit]) -> bool:
    """Whether ``top`` is the start of ``every`` (the exhaustive ranking), ties in any order."""
    if [h.score for h in top] != [h.score for h in every[: len(top)]]:
        return False
    cut = top[-1].score if top else 0.0
    return {h.pk for h in top if h.score > cut} == {h.pk for h in every[: len(top)] if h.score > cut}


def overlap(a: list[Hit], b: list[Hit]) -> float:
    return len({h.pk for h in a} & {h.pk for h in b}) / max(1, min(len(a), len(b), K)) if a and b else 0.0


def precision(hits: list[Hit], topic: int, topic_of: dict[int, int], k: int = 10) -> float:
    return sum(topic_of.get(h.pk) == topic for h in hits[:k]) / k


def speed(args: argparse.Namespace) -> dict[str, Any]:
    demo = load_demo(embed=False)
    with tempfile.TemporaryDirectory(prefix="keyword-engines-") as tmp:
        folder = Path(args.workdir or tmp)
        store = SQLiteStore(folder / "bench.db")
        store.migrate()
        out: dict[str, Any] = {"papers": args.size}
        if store.count_papers() == args.size:  # a --workdir filled by an earlier run
            topics = topics_of(demo, [p.title for p in store.iter_papers()])
        else:
            out["import_s"], topics = fill(store, demo, args.size)
        topic_of = {pk: topics[pk - 1] for pk in range(1, args.size + 1)}  # keys follow the stream order
        engine = TantivyKeywords(store, folder / "keyword")
        started = time.perf_counter()
        engine.rebuild(progress=False)  # afresh, also in a reused --workdir
        out["tantivy_build_s"] = time.perf_counter() - started
        out["tantivy_bytes"] = folder_bytes(folder / "keyword")
        out["sqlite_bytes"] = store.database_bytes()
        short = make_queries(demo, args.queries)
        pasted = list(demo.abstracts[: args.long])
        cited = [HEADER.format(title=t) + a + CITED for t, a in zip(demo.titles, pasted, strict=False)]
        engines = {
            "fts5_budget": lambda q: store.keyword_search(q, K),
            "tantivy": lambda q: engine.search(q, K),
        }
        for kind, queries in (("short", short), ("pasted", pasted), ("cited", cited)):
            res = interleaved(engines, queries)
            out[f"{kind}_ms"] = res["ms"]
            budget, store.keyword_budget = store.keyword_budget, 10**12
            unbounded = [store.keyword_search(q, K) for q in queries]  # FTS5's own BM25, every match scored
            store.keyword_budget = budget
            every = [engine.search(q, args.size) for q in queries]
            out[f"{kind}_exact_share"] = float(
                np.mean([exact(t, e[:K]) for t, e in zip(res["hits"]["tantivy"], every, strict=True)])
            )
            for name in engines:
                out[f"{kind}_{name}_overlap_fts5_unbounded"] = float(
                    np.mean([overlap(h, u) for h, u in zip(res["hits"][name], unbounded, strict=True)])
                )
            if kind != "short":
                for name in engines:
                    p10 = [precision(h, t, topic_of) for t, h in enumerate(res["hits"][name])]
                    out[f"{kind}_{name}_p10"] = float(np.mean(p10))
                out[f"{kind}_fts5_unbounded_p10"] = float(
                    np.mean([precision(h, t, topic_of) for t, h in enumerate(unbounded)])
                )
        titles = [(i, q) for i, q in enumerate(short) if i % 3 == 0]  # a demo title: its topic is known
        title_topic = {t: n for n, t in enumerate(demo.titles)}
        for name, run in (*engines.items(), ("fts5_unbounded", None)):
            if run is None:
                store.keyword_budget = 10**12
                run = engines["fts5_budget"]
            out[f"title_{name}_p10"] = float(np.mean([precision(run(q), title_topic[q], topic_of) for _, q in titles]))
        store.close()
    return out


def relevance(args: argparse.Namespace) -> dict[str, Any]:
    from bench.search_quality import _without, demo_library, load_set, norm, scores
    from bench.search_quality import summarize as by_kind
    from dailypapers.search.keyword import StoreKeywords

    queries = load_set()
    with tempfile.TemporaryDirectory(prefix="keyword-relevance-") as tmp:
        lib = demo_library(Path(args.workdir or tmp))
        search = lib.search
        variants: dict[str, Any] = {"fts5": StoreKeywords(lib.store)}
        for boosts in ((5, 1, 2), (2, 1, 1), (1.5, 1, 1), (1, 1, 1), (1, 1, 0.5)):
            for rule in ("log", "tf", "sqrt", "cap32") if boosts == (1, 1, 1) else ("log",):
                variants[f"tantivy {'/'.join(map(str, boosts))} {rule}"] = TantivyKeywords(
                    lib.store,
                    search.keyword_dir,
                    boosts=dict(zip(("title", "abstract", "authors"), boosts, strict=True)),
                    tf_rule=rule,
                )
        out: dict[str, Any] = {}
        try:
            for name, engine in variants.items():
                search.__dict__["keywords"] = engine
                rows = []
                for query in queries:
                    for mode in ("keyword", "hybrid"):
                        page = search.query(query.text, mode=mode, page_size=21)
                        ranked = _without((norm(r.paper.title) for r in page.results), query.source)
                        rows.append({"kind": query.kind, "mode": mode, **scores(ranked, query.grades)})
                out[name] = by_kind(rows)
                print(name, {m: round(v["all"]["ndcg10"], 3) for m, v in out[name].items()}, flush=True)
        finally:
            lib.close()
    return out


def save(key: str, entry: dict[str, Any]) -> None:
    data = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    data[key] = {"date": time.strftime("%Y-%m-%d %H:%M"), **entry}
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n")


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("what", choices=("speed", "relevance"))
    parser.add_argument("--size", type=int, default=100_000, help="synthetic papers (speed)")
    parser.add_argument("--queries", type=int, default=200, help="short queries (speed)")
    parser.add_argument("--long", type=int, default=100, help="demo abstracts pasted, plain and cited (speed)")
    parser.add_argument("--workdir", help="folder for the database (default: a temporary one)")
    args = parser.parse_args(argv)
    result = speed(args) if args.what == "speed" else relevance(args)
    save(f"{args.what}_{args.size}" if args.what == "speed" else "relevance", result)
    print(json.dumps(result, indent=1)[:6000])


if __name__ == "__main__":
    main()
