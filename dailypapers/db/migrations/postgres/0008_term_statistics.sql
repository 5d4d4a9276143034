-- Keyword statistics for ten times as many lexemes. ANALYZE keeps the commonest lexemes of papers.tsv in
-- pg_stats.most_common_elems, and a pasted abstract takes its common terms' frequencies from there instead of
-- counting them (dailypapers/papers/store/pg_terms.py). At the default target (100) the list holds 1,000 lexemes,
-- each in at least ~1.2% of the papers: at 1M papers a term just outside it still matches ~10,000 rows, and
-- counting the ~20 such terms of an abstract took 0.7-11.6 s. At 1000 (sample: 300,000 rows) the list reaches
-- terms in ~0.12% of the papers; ANALYZE of 1M papers took 26 s (docs/benchmarks.md). Autovacuum keeps it fresh.
ALTER TABLE papers ALTER COLUMN tsv SET STATISTICS 1000;
ANALYZE papers;
