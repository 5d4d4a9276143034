"""Presenting benchmark results: the machine description, a text table, and ``docs/benchmarks.md``.

One column per (backend, corpus size), one row per metric, so the backends' ratios read side by side. The
Markdown file is rewritten by every run except the hand-written analysis between :data:`ANALYSIS_START` and
:data:`ANALYSIS_END`, which is carried over.
"""

from __future__ import annotations

import os
import platform
import sqlite3
from collections.abc import Callable
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

ANALYSIS_START = "<!-- analysis:start -->"
ANALYSIS_END = "<!-- analysis:end -->"
MIB_2G = 2048
# (metric, what is compared, limit, unit, whether the limit is a floor): the targets at 1M papers on 2 cores
TARGETS: list[tuple[str, Callable[[dict[str, Any]], float], float, str, bool]] = [
    ("hybrid p50", lambda r: r["latency_ms"]["hybrid"]["p50"], 15.0, "ms", False),
    ("hybrid p99", lambda r: r["latency_ms"]["hybrid"]["p99"], 50.0, "ms", False),
    ("similar p50", lambda r: r["latency_ms"]["similar"]["p50"], 5.0, "ms", False),
    ("filtered hybrid p95", lambda r: r["latency_ms"]["filtered_hybrid"]["p95"], 50.0, "ms", False),
    ("pasted-abstract hybrid p50", lambda r: r["latency_ms"]["pasted_abstract"]["p50"], 40.0, "ms", False),
    ("`/api/search` throughput", lambda r: r["http"]["search"]["rps"], 100.0, "req/s", True),
    ("serving peak RSS", lambda r: r["http"]["peak_rss_mib"], float(MIB_2G), "MiB", False),
]


def machine() -> dict[str, Any]:
    """CPU, cores, memory, software versions and the date (PostgreSQL's are added by the caller)."""
    cpu = next(
        (line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
         if line.startswith("model name")),
        platform.processor(),
    )  # fmt: skip
    mem_kib = next(
        int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines() if "MemTotal" in line
    )
    versions: dict[str, str | None] = {}
    for package in ("numpy", "hnswlib", "torch", "sentence-transformers", "psycopg", "pgvector"):
        try:
            versions[package] = version(package)
        except PackageNotFoundError:
            versions[package] = None
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "ram_gib": round(mem_kib / 1024 / 1024, 1),
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "packages": versions,
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "load_average_start": os.getloadavg(),
    }


def _num(value: float | None, digits: int = 0) -> str:
    return "—" if value is None else f"{value:,.{digits}f}"


def _lat(key: str) -> Callable[[dict[str, Any]], str]:
    def cell(run: dict[str, Any]) -> str:
        s = run["latency_ms"][key]
        notes = [f"n={s['n']}"] if s["n"] < run["queries"] else []  # the time limit stopped it early
        notes += [f"{s['errors']} timed out"] if s.get("errors") else []
        cell = f"{s['p50']:.1f} / {s['p95']:.1f} / {s['p99']:.1f}"
        return cell + (f" ({', '.join(notes)})" if notes else "")

    return cell


def _trending(run: dict[str, Any]) -> str:
    found = [run["latency_ms"].get(f"trending_{w}") for w in ("day", "week", "month")]
    return " / ".join("—" if s is None else f"{s['p50']:.1f}" for s in found)


def _http(key: str) -> Callable[[dict[str, Any]], str]:
    def cell(run: dict[str, Any]) -> str:
        s = run["http"][key]
        errors = f", {s['errors']} errors" if s["errors"] else ""
        return f"{s['rps']:.0f} req/s; {s['p50']:.0f} / {s['p95']:.0f}{errors}"

    return cell


ROWS: list[tuple[str, Callable[[dict[str, Any]], str]]] = [
    ("papers", lambda r: _num(r["papers"])),
    ("import, papers/s", lambda r: _num(r["import_papers_per_s"])),
    ("embedding with the model, papers/s", lambda r: _num(r["embed_papers_per_s"], 1)),
    ("embeddings save (no model), papers/s", lambda r: _num(r["embeddings_save_per_s"])),
    ("vector index build, s", lambda r: _num(r["index_build_s"], 1)),
    ("on disk, MiB (of which vector index)", lambda r: f"{r['db_mib']:,.0f} ({r['index_mib']:,.0f})"),
    ("anything to search? (every search), ms p50 / p95 / p99", _lat("latest_added_day")),
    ("keyword search, ms", _lat("keyword")),
    ("keyword search with no budget (old plan), ms", _lat("keyword_unbounded")),
    ("vector search k=100, ms", _lat("vector")),
    ("query embedding, ms", _lat("embed_query")),
    ("query embedding, encode() on all cores (not used), ms", _lat("embed_query_all_threads")),
    ("hybrid search (end to end), ms", _lat("hybrid")),
    ("hybrid, half the keyword budget (not used), ms", _lat("hybrid_half_budget")),
    ("pasted abstract, hybrid (a whole demo abstract), ms", _lat("pasted_abstract")),
    ("filtered hybrid, ms", _lat("filtered_hybrid")),
    ("filtered hybrid, first search under the filter, ms", _lat("filtered_hybrid_cold")),
    ("filtered hybrid, the code before, ms", _lat("filtered_hybrid_before")),
    ("papers passing the filter", lambda r: f"{r['filter']['fraction']:.1%}"),
    ("similar papers k=10, ms", _lat("similar")),
    ("similar papers at the text queries' effort (before), ms", _lat("similar_text_effort")),
    ("Trending page (day / week / month: first page), ms p50", _trending),
    ("month's list, newest first (beside it), ms", _lat("newest_month")),
    ("ANN recall@10 (with ef 400)", lambda r: f"{r['recall_at_10']:.3f} ({r['recall_at_10_ef']['ef400']:.3f})"),
    ("HTTP `/`: req/s; ms p50 / p95", _http("home")),
    ("HTTP `/api/search`", _http("search")),
    ("serving worker peak RSS, MiB", lambda r: _num(r["http"]["peak_rss_mib"])),
]


def column(run: dict[str, Any]) -> str:
    size = run["size"]
    if size != "demo":
        n = int(size)
        size = f"{n // 1_000_000}M" if n % 1_000_000 == 0 else f"{n // 1000}k" if n % 1000 == 0 else str(n)
    return f"{run['backend']} {size}"


def table(runs: list[dict[str, Any]]) -> list[list[str]]:
    """Header row then one row per metric (runs that failed show their error in every cell)."""
    rows = [["metric", *(column(r) for r in runs)]]
    for label, cell in ROWS:
        rows.append([label, *(f"error: {r['error']}" if "error" in r else cell(r) for r in runs)])
    return rows


def text_table(runs: list[dict[str, Any]]) -> str:
    rows = table(runs)
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths, strict=True)))
             for row in rows]  # fmt: skip
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def markdown_table(runs: list[dict[str, Any]]) -> str:
    rows = table(runs)
    lines = ["| " + " | ".join(rows[0]) + " |", "|" + "---|" + "---:|" * (len(rows[0]) - 1)]
    lines += ["| " + " | ".join(row) + " |" for row in rows[1:]]
    return "\n".join(lines)


def target_lines(runs: list[dict[str, Any]]) -> list[str]:
    """For each backend's largest corpus: each target met, or missed by how much."""
    largest: dict[str, dict[str, Any]] = {}
    for run in runs:
        if "error" not in run and (run["backend"] not in largest or run["papers"] > largest[run["backend"]]["papers"]):
            largest[run["backend"]] = run
    lines = []
    for run in largest.values():
        checks = []
        for name, get, limit, unit, floor in TARGETS:
            value = get(run)
            met, by = (value >= limit, limit / max(value, 1e-9)) if floor else (value <= limit, value / limit)
            verdict = "met" if met else f"**missed by {abs(value - limit):,.1f} {unit} ({by:.1f}×)**"
            checks.append(f"{name} {value:,.1f} {unit} ({'≥' if floor else '≤'} {limit:,.0f}): {verdict}")
        lines.append(f"* {column(run)} ({run['papers']:,} papers): " + "; ".join(checks) + ".")
    return lines


def write_markdown(path: Path, results: dict[str, Any], command: str) -> None:
    """(Re)write ``path`` from ``results``, keeping the analysis section already in it."""
    analysis = "_Not written yet: read the numbers above, then say what bounds each missed target._"
    if path.exists():
        old = path.read_text()
        if ANALYSIS_START in old and ANALYSIS_END in old:
            analysis = old.split(ANALYSIS_START, 1)[1].split(ANALYSIS_END, 1)[0].strip()
    m, st = results["machine"], results["settings"]
    pg = m.get("postgres") or {}
    pg_text = f", PostgreSQL {pg['postgresql']} + pgvector {pg['pgvector']}" if pg else ""
    text = f"""# Benchmarks

<!-- Written by `python -m bench.run` (`make bench`); every run rewrites this file except the analysis section. -->

How fast dailypapers imports, indexes, searches and serves, on SQLite and on PostgreSQL, for the demo corpus
and for synthetic corpora shaped like it (`bench/corpus.py`). One run measures every backend and size, so
their ratios can be read side by side:

```sh
make bench      # = python -m bench.run --sizes 1000000,100000,demo --backends sqlite,postgres (~45-80 min)
python -m bench.run --sizes demo,100000 --backends sqlite,postgres      # the same without 1M (~10 min)
```

It prints the table below, writes `bench/results/results.json` (every number, with the machine) and rewrites
this file. Nothing is cached between runs; data lives in a temporary folder (`--workdir`, `--keep` to keep it).

**Targets** (1M papers, 2 CPU cores): hybrid search p50 ≤ 15 ms and p99 ≤ 50 ms, filtered hybrid p95 ≤ 50 ms,
pasted-abstract hybrid p50 ≤ 40 ms, similar papers ≤ 5 ms (p50), `/api/search` ≥ 100 req/s with 4 clients, serving
worker RSS ≤ 2 GiB.

What is measured (`bench/build.py`, `bench/measure.py`, `bench/http_load.py`):

* **demo**: the 298 demo papers imported the real way (`read_jsonl` → `Library.ingest`, three daily batches),
  then embedded with the real model (`Library.update_index`; model loading not included).
* **synthetic N**: papers bulk-upserted (`store.upsert_papers`, 1000 per batch; generating them is not timed),
  their synthetic vectors stored with `store.save_embeddings`. Vector index: SQLite builds hnswlib from the
  stored vectors (`Library.rebuild_index`, saved to disk); PostgreSQL builds the pgvector HNSW index that
  `save_embeddings` creates, on the filled table.
* **latency** ({st["queries"]} queries: demo titles, abstract phrases, keywords; one at a time after
  {st["warmup"]} warm-up calls; a measurement stops after {st["phase_seconds"]:.0f} s, and then `(n=…)` shows how
  many calls it timed; "timed out" counts calls the store stopped at its 5 s query limit): `store.latest_added_day`
  (`Library.search` calls it every time); keyword (`store.keyword_search`, 100 candidates, with the default
  keyword budget of `DAILYPAPERS_KEYWORD_BUDGET` rows, see docs/search.md, and again with no budget; it runs
  first, so it also pays for counting each new word's document frequency, which later phases find cached); vector
  (`VectorIndex.search`, k=100, query vector precomputed); query embedding alone (the TorchScript trace on one
  torch thread, as the embedder does for a query, and sentence-transformers' `encode` on every core, in the
  precision `DAILYPAPERS_EMBED_PRECISION=auto` picks, for comparison); hybrid end to end (`Library.search`:
  keyword and embedding + vector search in parallel, then fusion, fetching and highlighting the first page);
  filtered hybrid (most common category + middle third of the dates; 40 vector candidates; SQLite keeps the papers
  that pass a filter for 60 s, so the timed calls find them kept, and "first search under the filter" lists them
  every time; "the code before" also asks for 100 vector candidates, and PostgreSQL uses only its iterative scan);
  pasted abstracts (whole demo abstracts, which the synthetic papers reword); similar papers (`Library.similar`,
  k=10; PostgreSQL searches with `hnsw.ef_search` 40 for them, and the "before" row with the text queries' 200);
  hybrid with half the keyword budget (a choice measured, not the default).
* **recall@10**: the ANN index against exact numpy search over every stored vector, for
  {st["recall_queries"]} query embeddings, with the application's search effort (hnswlib ef 200, pgvector
  `hnsw.ef_search` 200) and with ef 400.
* **HTTP**: the real server (`dailypapers serve`, 1 worker) on the built data, loaded over loopback by
  {st["clients"]} concurrent clients with {st["http_requests"]} requests per endpoint (at most
  {st["http_seconds"]:.0f} s each); peak RSS is the worker's `VmHWM`. The clients share the server's cores.
* **PostgreSQL** runs on the same 2 cores (embedded server, `bench/backends.py`: `shared_buffers` 4 GB,
  `synchronous_commit` off); its own memory is not in the worker's RSS.

## Results

{m["cpu"]}, {m["cores"]} cores, {m["ram_gib"]} GiB RAM; Python {m["python"]}, SQLite {m["sqlite"]}{pg_text};
{m["date"]}; load average {_loads(m)}. Command: `{command}`.

{markdown_table(results["runs"])}

## Targets

{chr(10).join(target_lines(results["runs"])) or "_No run completed._"}

## Analysis

{ANALYSIS_START}
{analysis}
{ANALYSIS_END}
"""
    path.write_text(text)


def _loads(m: dict[str, Any]) -> str:
    start, end = m["load_average_start"], m.get("load_average_end", m["load_average_start"])
    return f"{start[0]:.1f} at the start, {end[0]:.1f} at the end (with the run's own load; other work skews timings)"
