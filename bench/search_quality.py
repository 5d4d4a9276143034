"""How well search ranks, on the demo corpus, judged by hand: nDCG@10, recall@20 and MRR per mode and query kind.

Run it from the repository root::

    python -m bench.search_quality --label after          # full set, SQLite demo library in a temporary folder
    python -m bench.search_quality --limit 5 --sweep      # a few queries per kind, plus the fusion-weight sweep
    python -m bench.search_quality --label cap40 --vector-cap 40   # the vector half capped as filtered searches are

The relevance set (docs/search.md, "Search quality" says how it was built):

* ``bench/relevance/queries.jsonl``: one query per line, ``{"id", "kind", "text"}``; a ``pasted`` or ``page`` query
  names a demo paper instead (``"paper": title``): its text is that paper's abstract (after ``"prefix"``, a made-up
  first-page header of title, authors, affiliations and e-mails, for ``page``), and the paper itself is left out of
  the ranking before scoring (it would trivially come first), so the query measures how well its neighbours are
  found.
* ``bench/relevance/judgments.tsv``: one judgment per line, ``query_id  title  grade`` (2: the paper asked for or
  on the same problem, 1: related). Papers not listed count as not relevant.
* ``bench/relevance/demo_queries.jsonl`` (another benchmark's set, read as it is): its queries join as kinds
  ``demo-keywords``, ``demo-paraphrase`` and ``demo-abstract``, each relevant title with grade 1.

Every query runs through ``Library.search.query`` in each mode; pasted queries also through ``Library.search.similar``
on their paper (``similar``: the embedding neighbours the paper page shows) and as a hybrid search for the paper's
title and abstract (``similar-hybrid``), which is what "similar papers" would become with the long-query machinery.
``--sweep`` re-fuses the keyword and vector rankings of every query with other weights (the RRF of
:mod:`dailypapers.search.fusion`), to choose the weights by measurement. Results go to
``bench/results/search_quality.json``, one entry per ``--label``, so a "before" and an "after" run sit side by side.
"""

from __future__ import annotations

import argparse
import json
import math
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
RELEVANCE = ROOT / "bench" / "relevance"
RESULTS = ROOT / "bench" / "results" / "search_quality.json"
MODES = ("keyword", "semantic", "hybrid")
PASTED_MODES = ("similar", "similar-hybrid")
NDCG_K, RECALL_K, DEPTH = 10, 20, 20
SWEEP_WEIGHTS = (0.0, 0.25, 0.5, 0.75, 1.0, 1.5, 2.0)  # keyword weight; the vector ranking keeps weight 1


def norm(title: str) -> str:
    return " ".join(title.split()).casefold()


@dataclass
class Query:
    """One query of the set: its text, the demo paper it was taken from (pasted queries), and its judgments."""

    id: str
    kind: str
    text: str
    source: str | None = None  # title of the paper a pasted query comes from (left out of its ranking)
    grades: dict[str, int] = field(default_factory=dict)  # normalised title -> grade


def load_set(folder: Path = RELEVANCE, corpus: Path | None = None) -> list[Query]:
    """The relevance set: our queries with their judgments, then the demo benchmark's queries."""
    from dailypapers.demo import DEMO_CORPUS

    papers = [json.loads(line) for line in (corpus or DEMO_CORPUS).read_text().splitlines() if line.strip()]
    abstracts = {norm(p["title"]): " ".join(p["abstract"].split()) for p in papers}
    grades: dict[str, dict[str, int]] = defaultdict(dict)
    for line in (folder / "judgments.tsv").read_text().splitlines()[1:]:
        if line.strip():
            qid, title, grade = line.split("\t")
            if norm(title) not in abstracts:
                raise ValueError(f"judgments.tsv: {qid} judges a title that is not in the corpus: {title!r}")
            grades[qid][norm(title)] = int(grade)
    queries: list[Query] = []
    for line in (folder / "queries.jsonl").read_text().splitlines():
        if not line.strip():
            continue
        row = json.loads(line)
        source = row.get("paper")
        text = row.get("prefix", "") + abstracts[norm(source)] if source else row["text"]
        queries.append(Query(row["id"], row["kind"], text, norm(source) if source else None, grades[row["id"]]))
    demo = folder / "demo_queries.jsonl"
    for n, line in enumerate(demo.read_text().splitlines() if demo.exists() else [], start=1):
        if line.strip():
            row = json.loads(line)
            judged = {norm(t): 1 for t in row["relevant"]}
            queries.append(Query(f"demo{n:02}", "demo-" + row["kind"], row["query"], None, judged))
    return queries


# -- metrics --------------------------------------------------------------------------------------------------------
def dcg(gains: Iterable[float]) -> float:
    return sum((2**g - 1) / math.log2(i + 2) for i, g in enumerate(gains))


def ndcg(ranked: Sequence[str], grades: dict[str, int], k: int = NDCG_K) -> float:
    """Normalised discounted cumulative gain at ``k`` with gain ``2^grade - 1`` (Järvelin & Kekäläinen, 2002)."""
    ideal = dcg(sorted(grades.values(), reverse=True)[:k])
    return dcg(grades.get(t, 0) for t in ranked[:k]) / ideal if ideal else 0.0


def recall(ranked: Sequence[str], grades: dict[str, int], k: int = RECALL_K) -> float:
    """Share of the relevant papers (grade ≥ 1) among the first ``k``."""
    relevant = {t for t, g in grades.items() if g > 0}
    return len(relevant & set(ranked[:k])) / len(relevant) if relevant else 0.0


def reciprocal_rank(ranked: Sequence[str], grades: dict[str, int], k: int = DEPTH) -> float:
    """1 / rank of the first relevant paper among the first ``k`` (0 when none is there)."""
    return next((1.0 / i for i, t in enumerate(ranked[:k], start=1) if grades.get(t, 0) > 0), 0.0)


def scores(ranked: Sequence[str], grades: dict[str, int]) -> dict[str, float]:
    return {"ndcg10": ndcg(ranked, grades), "recall20": recall(ranked, grades), "mrr": reciprocal_rank(ranked, grades)}


# -- running the queries ------------------------------------------------------------------------------------------
def _without(titles: Iterable[str], source: str | None) -> list[str]:
    return [t for t in titles if t != source][:DEPTH]


def rankings(lib: Any, query: Query) -> dict[str, list[str]]:
    """The normalised titles each mode ranks first for ``query`` (its source paper left out)."""
    out: dict[str, list[str]] = {}
    for mode in MODES:
        page = lib.search.query(query.text, mode=mode, page_size=DEPTH + 1)
        out[mode] = _without((norm(r.paper.title) for r in page.results), query.source)
    if query.kind == "pasted":
        paper = next(p for p in lib.store.iter_papers() if norm(p.title) == query.source)
        out["similar"] = _without((norm(p.title) for p, _ in lib.search.similar(paper, DEPTH + 1)), query.source)
        page = lib.search.query(paper.embedding_text(), mode="hybrid", page_size=DEPTH + 2)
        out["similar-hybrid"] = _without((norm(r.paper.title) for r in page.results), query.source)
    return out


def evaluate(lib: Any, queries: Sequence[Query]) -> list[dict[str, Any]]:
    """Per query and mode: the scores, and the first titles ranked (for reading the failures)."""
    rows = []
    for query in queries:
        for mode, ranked in rankings(lib, query).items():
            rows.append({"id": query.id, "kind": query.kind, "mode": mode, **scores(ranked, query.grades),
                         "top": ranked[:3]})  # fmt: skip
    return rows


def summarize(rows: Sequence[dict[str, Any]]) -> dict[str, dict[str, dict[str, float]]]:
    """Mean scores per mode and kind (``all`` averages every query, each query counting once per mode)."""
    groups: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        groups[(row["mode"], row["kind"])].append(row)
        groups[(row["mode"], "all")].append(row)
    out: dict[str, dict[str, dict[str, float]]] = defaultdict(dict)
    for (mode, kind), members in sorted(groups.items()):
        means = {m: sum(r[m] for r in members) / len(members) for m in ("ndcg10", "recall20", "mrr")}
        out[mode][kind] = {**means, "n": len(members)}
    return dict(out)


def table(summary: dict[str, dict[str, dict[str, float]]]) -> str:
    """The summary as a Markdown table: one row per kind, nDCG@10 / recall@20 / MRR per mode."""
    modes = [m for m in (*MODES, *PASTED_MODES) if m in summary]
    kinds = sorted({k for per in summary.values() for k in per}, key=lambda k: (k == "all", k.startswith("demo"), k))
    head = "| kind | n | " + " | ".join(f"{m} nDCG@10 / R@20 / MRR" for m in modes) + " |"
    lines = [head, "|" + "---|" * (len(modes) + 2)]
    for kind in kinds:
        n = next(int(summary[m][kind]["n"]) for m in modes if kind in summary[m])
        cells = []
        for m in modes:
            s = summary[m].get(kind)
            cells.append(f"{s['ndcg10']:.3f} / {s['recall20']:.3f} / {s['mrr']:.3f}" if s else "")
        lines.append(f"| {kind} | {n} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


# -- the fusion-weight sweep ----------------------------------------------------------------------------------------
def sweep(lib: Any, queries: Sequence[Query], weights: Sequence[float] = SWEEP_WEIGHTS) -> dict[str, dict[str, float]]:
    """Mean nDCG@10 per kind of the hybrid ranking fused with each keyword weight (vector weight 1), from the same
    two candidate lists hybrid search fuses, so the weights can be chosen by measurement."""
    from dailypapers.papers.store import Filters
    from dailypapers.search.fusion import reciprocal_rank_fusion

    search, titles = lib.search, {p.pk: norm(p.title) for p in lib.store.iter_papers()}
    per: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    for query in queries:
        text = " ".join(query.text.split())
        keyword = [h.pk for h in search.keywords.search(text, search.candidates, Filters())]
        dense = [h.pk for h in search.vectors.search(search.embed_query(text), search.candidates, Filters())]
        for w in weights:
            fused = reciprocal_rank_fusion([keyword, dense], k=search.rrf_k, weights=[w, 1.0])
            ranked = _without((titles[pk] for pk, _ in fused), query.source)
            per[f"{w:g}"][query.kind].append(ndcg(ranked, query.grades))
    return {w: {kind: sum(v) / len(v) for kind, v in kinds.items()} for w, kinds in per.items()}


def sweep_table(result: dict[str, dict[str, float]]) -> str:
    kinds = sorted({k for per in result.values() for k in per}, key=lambda k: (k.startswith("demo"), k))
    lines = ["| keyword weight | " + " | ".join(kinds) + " |", "|" + "---|" * (len(kinds) + 1)]
    lines += [f"| {w} | " + " | ".join(f"{per[k]:.3f}" for k in kinds) + " |" for w, per in result.items()]
    return "\n".join(lines)


# -- the command ----------------------------------------------------------------------------------------------------
def first_per_kind(queries: Sequence[Query], limit: int | None) -> list[Query]:
    """At most ``limit`` queries of each kind (all when ``limit`` is None), in the set's order."""
    seen: dict[str, int] = defaultdict(int)
    kept = []
    for q in queries:
        seen[q.kind] += 1
        if limit is None or seen[q.kind] <= limit:
            kept.append(q)
    return kept


def demo_library(workdir: Path, database_url: str = "", embedder: Any = None) -> Any:
    """A library of the demo corpus in ``workdir`` (SQLite, or the empty PostgreSQL database at ``database_url``),
    imported and indexed as ``dailypapers init --demo`` does. The query-length limit is lifted far past the default,
    so that a "before" run of older code measures long queries too."""
    from bench.build import import_demo
    from dailypapers.config import Config
    from dailypapers.library import Library

    lib = Library(Config(data_dir=workdir, database_url=database_url, max_query_length=100_000), embedder=embedder)
    lib.init()
    if lib.papers.count() == 0:
        import_demo(lib)
    return lib


def cap_vector_candidates(lib: Any, cap: int) -> None:
    """Make every search ask the vector half for at most ``cap`` candidates: what a filtered search asks
    (``hybrid.FILTERED_VECTOR_CANDIDATES``), measured on this unfiltered set."""
    vectors = lib.search.vectors
    search = vectors.search
    vectors.search = lambda vector, k, *rest: search(vector, min(k, cap), *rest)


def save(path: Path, label: str, entry: dict[str, Any]) -> None:
    """Write ``entry`` under ``label`` in the results file, keeping the other labels' entries."""
    data = json.loads(path.read_text()) if path.exists() else {}
    data.setdefault("runs", {})[label] = entry
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n")


def run(args: argparse.Namespace, progress: Callable[[str], None] = print) -> dict[str, Any]:
    queries = first_per_kind(load_set(), args.limit)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="search-quality-") as tmp:
        lib = demo_library(Path(args.workdir) if args.workdir else Path(tmp), args.database_url)
        if args.vector_cap:
            cap_vector_candidates(lib, args.vector_cap)
        try:
            built = time.perf_counter()
            rows = evaluate(lib, queries)
            summary = summarize(rows)
            progress(table(summary))
            entry: dict[str, Any] = {"date": time.strftime("%Y-%m-%d %H:%M"), "backend": lib.store.backend,
                                     "papers": lib.papers.count(),
                                     "queries": len(queries), "build_s": round(built - started, 1),
                                     "eval_s": round(time.perf_counter() - built, 1), "summary": summary,
                                     "per_query": rows}  # fmt: skip
            if args.sweep:
                entry["sweep_ndcg10"] = sweep(lib, queries)
                progress(sweep_table(entry["sweep_ndcg10"]))
        finally:
            lib.close()
    save(Path(args.out), args.label, entry)
    return entry


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--label", default="current", help="name of this run in the results file (before, after)")
    parser.add_argument("--limit", type=int, help="at most this many queries of each kind (default: all)")
    parser.add_argument("--sweep", action="store_true", help="also measure other keyword weights of the fusion")
    parser.add_argument("--out", default=str(RESULTS), help=f"results file (default {RESULTS.relative_to(ROOT)})")
    parser.add_argument("--workdir", help="folder for the demo library (default: a temporary one)")
    parser.add_argument("--database-url", default="", help="an empty PostgreSQL database to use instead of SQLite")
    parser.add_argument("--vector-cap", type=int, help="ask the vector half for at most this many candidates")
    run(parser.parse_args(argv))


if __name__ == "__main__":
    main()
