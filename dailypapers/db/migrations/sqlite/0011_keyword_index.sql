-- The keyword index (tantivy, in the data folder) is derived from the papers: this table says which version of
-- each paper it holds (the paper's content_hash when it was indexed), so an indexing step finds what is new,
-- changed or deleted without reading the index (dailypapers/search/keyword/tantivy_index.py). No foreign key: the
-- row of a deleted paper stays until the index has dropped that paper's document.
CREATE TABLE keyword_index (
    paper_pk INTEGER PRIMARY KEY,
    content_hash TEXT NOT NULL
);
-- A covering index for the scan that compares every paper's content_hash with keyword_index (30 MB at 1M
-- papers, against the 1.5 GB the table's rows take with their abstracts).
CREATE INDEX papers_content_hash ON papers (content_hash);
