"""How many papers a keyword term matches on PostgreSQL: counted, or read from the planner's statistics.

The keyword plan (:mod:`.keyword_plan`) needs each term's document frequency. Counting visits a heap row per match
(~5 ms per 10,000 at 1M papers), and a pasted abstract has ~90 distinct terms, most of them common: counting them
all took 716 ms p50 per abstract at 100k papers (docs/benchmarks.md). ANALYZE (run by autovacuum) keeps the
frequencies of the commonest lexemes of ``tsv`` in ``pg_stats.most_common_elems``. Migration 0008 raises that
column's statistics target to 1000 (a sample of 300,000 rows; up to 10,000 lexemes, each in at least ~0.12% of the
papers at 1M): at the default 100 the list stopped at ~1.2%, and counting the ~20 terms of an abstract just below
that took 0.7-11.6 s at 1M. So:

- a short query's term is counted exactly up to the cap, unless those statistics put it far over the cap
  (:func:`count_term`);
- a long text's terms (:func:`text_frequencies`) take the statistics' frequency × the table's row estimate for
  every lexeme listed there (12.9 ms p50 for a whole abstract at 100k, against 716 ms counted; a median error of
  0.3%, 4% at p95), and only the rarer ones, outside the list and so cheap to count, are counted.

The two never share a cache (:class:`~.keyword_plan.DocumentFrequencies`), so a short query's plan does not depend
on which abstracts were pasted before it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

Rows = Callable[[str, Any], Sequence[Mapping[str, Any]]]

_COUNT_ONE = "SELECT count(*) AS n FROM (SELECT 1 FROM papers WHERE tsv @@ plainto_tsquery('english', %s) LIMIT %s) s"
_ESTIMATE_ONE = "EXPLAIN (FORMAT JSON) SELECT 1 FROM papers WHERE tsv @@ plainto_tsquery('english', %s)"
# One statement for all of a text's terms. A term that is one lexeme listed in the statistics gets its frequency
# times the table's row estimate (both from the same ANALYZE); CASE runs the counting subquery only for the
# others (LEAST would ignore a NULL frequency). ``most_common_elem_freqs`` has two more entries than
# ``most_common_elems`` (their minimum and maximum); unnest pairs those with NULL lexemes, which join nothing.
_TEXT_FREQUENCIES = """
WITH common AS (
  SELECT e.lexeme, e.freq * greatest(c.reltuples, 0) AS n
  FROM pg_stats s
  JOIN pg_class c ON c.oid = 'papers'::regclass
  CROSS JOIN LATERAL unnest(s.most_common_elems::text::text[], s.most_common_elem_freqs) AS e(lexeme, freq)
  WHERE s.schemaname = current_schema() AND s.tablename = 'papers' AND s.attname = 'tsv' AND NOT s.inherited
), t AS (
  SELECT u.term, tsvector_to_array(to_tsvector('english', u.term)) AS lexemes FROM unnest(%s::text[]) AS u(term)
)
SELECT t.term, CASE WHEN m.lexeme IS NOT NULL THEN round(least(m.n, %s))::bigint
  ELSE (SELECT count(*) FROM (SELECT 1 FROM papers WHERE tsv @@ plainto_tsquery('english', t.term) LIMIT %s) s)
  END AS n
FROM t LEFT JOIN common m ON cardinality(t.lexemes) = 1 AND m.lexeme = t.lexemes[1]
"""


def estimated_matches(rows: Rows, term: str) -> float:
    """The planner's estimate of the papers whose ``tsv`` matches ``term`` (no rows are read)."""
    found = rows(_ESTIMATE_ONE, (term,))
    return float(found[0]["QUERY PLAN"][0]["Plan"]["Plan Rows"]) if found else 0.0


def count_term(rows: Rows, term: str, cap: int, common_factor: float) -> int:
    """Papers whose ``tsv`` matches ``term``, counted up to ``cap``; a word the planner estimates at more than
    ``common_factor × cap`` matches is taken as ``cap`` uncounted. Without statistics, or for a word outside them,
    the estimate is low and the word is counted."""
    if estimated_matches(rows, term) > common_factor * cap:
        return cap
    found = rows(_COUNT_ONE, (term, cap))
    return int(found[0]["n"]) if found else 0


def text_frequencies(rows: Rows, terms: Sequence[str], cap: int) -> dict[str, int]:
    """Each of ``terms``' matches, at most ``cap``: from the statistics for a lexeme they list, else counted. Before
    the first ANALYZE every term is counted."""
    found = rows(_TEXT_FREQUENCIES, (list(terms), cap, cap))
    return {r["term"]: int(r["n"]) for r in found}
