"""The pasted-abstract benchmark (``python -m bench.pasted``) on the demo library, on both backends: every number
is computed (never checked against a time; the demo's vectors are embedded once if bench/data/ has none), and on
PostgreSQL the shipped frequencies, taken from the planner's statistics, choose the same keyword hits as the code
before, which counted every term."""

from __future__ import annotations

import pytest

from bench.corpus import load_demo
from bench.pasted import _variant, run_rounds
from dailypapers.library import Library

pytestmark = pytest.mark.slow  # the benchmark itself, at the demo size


def test_every_variant_is_timed(library: Library) -> None:
    abstracts = load_demo().abstracts
    (found,) = run_rounds(library, abstracts, 3, 1)
    names = {"hybrid_shipped", "keyword_shipped"}
    if library.store.backend == "postgres":
        names |= {"hybrid_counted", "keyword_counted"}
    assert set(found) == names | {"round", "wall_s"}
    assert all(found[n]["n"] == 3 and found[n]["p50"] > 0 for n in names)


def test_statistics_and_counting_find_the_same_keyword_hits(library: Library) -> None:
    if library.store.backend != "postgres":
        pytest.skip("SQLite counts every term from its index")
    with library.store._read() as conn:  # type: ignore[attr-defined]
        conn.execute("ANALYZE papers")  # 298 papers: the whole table is the sample, so its frequencies are exact
        listed = conn.execute(
            "SELECT cardinality(most_common_elems::text::text[]) AS n FROM pg_stats"
            " WHERE tablename = 'papers' AND attname = 'tsv' AND schemaname = current_schema()"
        ).fetchone()
    assert listed is not None and listed["n"] > 100  # the statistics path is taken for many terms
    for abstract in load_demo().abstracts[:5]:
        hits = {}
        for name in ("shipped", "counted"):
            with _variant(library, name):
                hits[name] = [(h.pk, h.extra["terms"]) for h in library.store.keyword_search(abstract, 20)]
        assert hits["shipped"] == hits["counted"] and hits["shipped"]
