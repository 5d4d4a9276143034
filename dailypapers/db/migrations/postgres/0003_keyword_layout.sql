-- Keyword search reads `tsv` for every row it scores. Stored out of line (TOAST, compressed), as a row with a long
-- abstract had it, that costs a TOAST index lookup and a decompression per row: ~2.4 us of ~6 us per scored row
-- at 100k papers. Keep `tsv` in the row (storage MAIN: out of line only as a last resort) and let the abstract go
-- out of line instead (EXTERNAL), so a scored row is one heap tuple. Re-adding the generated column rewrites every
-- row under the new layout (about 15 s per 100,000 papers, holding a lock on papers); the GIN index is rebuilt.
ALTER TABLE papers ALTER COLUMN abstract SET STORAGE EXTERNAL;
ALTER TABLE papers DROP COLUMN tsv;
ALTER TABLE papers ADD COLUMN tsv TSVECTOR STORAGE MAIN GENERATED ALWAYS AS (
    setweight(to_tsvector('english', coalesce(title, '')), 'A')
    || setweight(to_tsvector('english', coalesce(abstract, '')), 'B')
    || setweight(to_tsvector('simple', coalesce(author_names, '')), 'C')
) STORED;
CREATE INDEX papers_tsv ON papers USING gin (tsv);
