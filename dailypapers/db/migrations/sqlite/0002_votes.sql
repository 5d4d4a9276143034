-- Community upvotes from anonymous voters: one row per (paper, voter). A paper's upvotes shown everywhere are
-- papers.upvotes (imported, e.g. from Hugging Face) + papers.votes_count; the triggers below keep votes_count equal
-- to the paper's number of rows here, in the transaction that adds or removes the vote, whoever writes it.
ALTER TABLE papers ADD COLUMN votes_count INTEGER NOT NULL DEFAULT 0;

CREATE TABLE votes (
    paper_pk INTEGER NOT NULL REFERENCES papers (pk) ON DELETE CASCADE,
    voter TEXT NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (paper_pk, voter)
);

CREATE TRIGGER votes_count_insert AFTER INSERT ON votes BEGIN
    UPDATE papers SET votes_count = votes_count + 1 WHERE pk = new.paper_pk;
END;

CREATE TRIGGER votes_count_delete AFTER DELETE ON votes BEGIN
    UPDATE papers SET votes_count = votes_count - 1 WHERE pk = old.paper_pk;
END;
