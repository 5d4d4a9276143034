"""Markdown tables of a ``python -m bench.tiers`` result (``bench/results/tiers.json``), printed at the end of a run.

``python -m bench.tiers_report [bench/results/tiers.json]`` prints them again from the file.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any


def _md(rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(rows[0]) + " |", "|" + "---|" + "---:|" * (len(rows[0]) - 1)]
    return "\n".join(lines + ["| " + " | ".join(r) + " |" for r in rows[1:]])


def throughput_table(part: dict[str, Any]) -> str:
    rows = [["embedder", "batch", "abstracts/s (best of passes)", "passes, s"]]
    for name, r in part.items():
        if name == "cuda" or "per_s" not in r:
            continue
        rows.append([name, str(r["batch"]), f"{r['per_s']:,.1f}", ", ".join(f"{s:.2f}" for s in r["seconds"])])
    cuda = part.get("cuda", {})
    if cuda.get("available"):
        for precision in ("fp32", "fp16"):
            rows.append([f"minilm-{precision} on {cuda['device']}", str(cuda[precision]["batch"]),
                         f"{cuda[precision]['per_s']:,.1f}", ""])  # fmt: skip
    table = _md(rows)
    return table if cuda.get("available") else table + "\n\nGPU: no CUDA on this machine."


def quality_table(part: dict[str, Any]) -> str:
    rows = [["model", "top-10 overlap with MiniLM fp32", "sim@1 / @10 / @50",
             "vector-only nDCG@10 / R@10 (all)", "keywords", "paraphrases", "abstracts"]]  # fmt: skip
    for name, vec in part["vector"].items():
        prof = part["profile"][name]
        cells = [f"{vec[k]['ndcg@10']:.3f} / {vec[k]['recall@10']:.3f}" if k in vec else "—"
                 for k in ("all", "keywords", "paraphrase", "abstract")]  # fmt: skip
        rows.append([name, f"{part['overlap_vs_minilm_fp32'][name]:.3f}",
                     f"{prof['sim@1']:.3f} / {prof['sim@10']:.3f} / {prof['sim@50']:.3f}", *cells])  # fmt: skip
    lib = [["demo instance embedded by", "mode", "nDCG@10", "recall@10", "queries (skipped: too long)"]]
    for name, modes in part.get("library", {}).items():
        for mode, r in modes.items():
            lib.append([name, mode, f"{r['all']['ndcg@10']:.3f}", f"{r['all']['recall@10']:.3f}",
                        f"{r['all']['queries']} ({r['skipped']})"])  # fmt: skip
    return _md(rows) + f"\n\n{part['queries']} judged queries.\n\n" + _md(lib)


def recall_table(runs: list[dict[str, Any]]) -> str:
    rows = [["backend", "papers", "vectors", "M / ef_c", "build s", "ef", "recall@10 similar", "recall@10 search",
             "similar p50 / p95 ms", "vector k=100 p50 ms", "hybrid p50 / p99 ms"]]  # fmt: skip
    notes = []
    for run in runs:
        if "error" in run:
            rows.append([run["backend"], f"{run['size']:,}", run.get("model", ""), "error: " + run["error"]] + [""] * 7)
            continue
        profiles = [("similar", run["neighbour_profile"]), ("search", run.get("search_profile"))]
        text = "; ".join(f"{name} queries " + ", ".join(f"{k} {v:.3f}" for k, v in prof.items())
                         for name, prof in profiles if prof)  # fmt: skip
        notes.append(f"{run['backend']} {run['size']:,} ({run['vectors']}, {run['model']}): exact neighbours' mean"
                     f" cosine: {text}")  # fmt: skip
        for graph in run["builds"]:
            for ef, r in graph["efs"].items():
                default = " (app)" if int(ef) == graph["default_ef"] else ""
                rows.append([
                    run["backend"], f"{run['size']:,}", run["vectors"], f"{graph['m']} / {graph['ef_construction']}",
                    f"{graph['index_build_s']:.0f}", ef + default, f"{r['recall_similar']:.3f}",
                    f"{r['recall_search']:.3f}", f"{r['similar_ms']['p50']:.1f} / {r['similar_ms']['p95']:.1f}",
                    f"{r['vector_ms']['p50']:.1f}", f"{r['hybrid_ms']['p50']:.1f} / {r['hybrid_ms']['p99']:.1f}",
                ])  # fmt: skip
    return _md(rows) + "\n\n" + "\n".join(f"* {n}" for n in notes)


def print_tables(results: dict[str, Any]) -> None:
    m = results["machine"]
    end = m.get("load_average_end", m["load_average_start"])
    load = f"load average {m['load_average_start'][0]:.1f} at the start, {end[0]:.1f} at the end"
    print(f"\n{m['cpu']}, {m['cores']} cores, {m['ram_gib']} GiB; {m['date']}; {load}. `{results['command']}`")
    for part, render in (("throughput", throughput_table), ("recall", recall_table), ("quality", quality_table)):
        value = results.get(part)
        if value is None:
            continue
        print(f"\n### {part}\n")
        print(f"error: {value['error']}" if isinstance(value, dict) and "error" in value else render(value))


if __name__ == "__main__":
    print_tables(json.loads(Path(sys.argv[1] if len(sys.argv) > 1 else "bench/results/tiers.json").read_text()))
