-- Community upvotes from anonymous voters: one row per (paper, voter). A paper's upvotes shown everywhere are
-- papers.upvotes (imported, e.g. from Hugging Face) + papers.votes_count; the trigger below keeps votes_count equal
-- to the paper's number of rows here, in the transaction that adds or removes the vote, whoever writes it.
ALTER TABLE papers ADD COLUMN votes_count INTEGER NOT NULL DEFAULT 0;

CREATE TABLE votes (
    paper_pk BIGINT NOT NULL REFERENCES papers (pk) ON DELETE CASCADE,
    voter TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (paper_pk, voter)
);

CREATE FUNCTION votes_count_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        UPDATE papers SET votes_count = votes_count + 1 WHERE pk = NEW.paper_pk;
    ELSE
        UPDATE papers SET votes_count = votes_count - 1 WHERE pk = OLD.paper_pk;
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER votes_count AFTER INSERT OR DELETE ON votes FOR EACH ROW EXECUTE FUNCTION votes_count_update();
