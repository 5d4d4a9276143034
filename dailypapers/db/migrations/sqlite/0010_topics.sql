-- The topic map (issue 24): every paper's place on the map, the clusters with their labels, and each paper's key
-- phrases and key sentence. All derived from the embeddings and abstracts by jobs (`map`, `keyphrases`), so
-- `db copy` leaves them behind. Queries are written once for both backends (dailypapers/db/schema.py).

-- A paper's point: x, y in [0, 1]; its cluster; the layout generation that placed it ("fit": computed with the
-- whole layout; "near": placed later at the weighted mean of its neighbours); its day and primary category
-- (copied here so that /api/map reads one table).
CREATE TABLE topic_points (
    paper_pk INTEGER PRIMARY KEY REFERENCES papers (pk) ON DELETE CASCADE,
    x REAL NOT NULL,
    y REAL NOT NULL,
    cluster INTEGER NOT NULL,
    generation INTEGER NOT NULL,
    placed TEXT NOT NULL,
    day TEXT NOT NULL DEFAULT '',
    category TEXT NOT NULL DEFAULT ''
);
CREATE INDEX ix_topic_points_cluster ON topic_points (cluster);

-- A cluster of the current generation: its label terms (class-based tf-idf, most distinctive first), its size and
-- where its label sits on the map.
CREATE TABLE topic_clusters (
    id INTEGER PRIMARY KEY,
    generation INTEGER NOT NULL,
    terms TEXT NOT NULL,
    size INTEGER NOT NULL,
    x REAL NOT NULL,
    y REAL NOT NULL
);

-- A paper's key sentence (the abstract's most central sentence) and the model that chose it; a row means "done".
CREATE TABLE paper_summaries (
    paper_pk INTEGER PRIMARY KEY REFERENCES papers (pk) ON DELETE CASCADE,
    sentence TEXT NOT NULL,
    model TEXT NOT NULL,
    text_hash TEXT NOT NULL,
    day TEXT NOT NULL DEFAULT '',
    computed_at TEXT NOT NULL
);

-- A paper's key phrases in rank order (lower-cased n-grams of its title and abstract).
CREATE TABLE paper_keyphrases (
    paper_pk INTEGER NOT NULL REFERENCES papers (pk) ON DELETE CASCADE,
    rank INTEGER NOT NULL,
    phrase TEXT NOT NULL,
    PRIMARY KEY (paper_pk, rank)
);
CREATE INDEX ix_paper_keyphrases_phrase ON paper_keyphrases (phrase);
