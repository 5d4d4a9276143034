-- Community: who submitted a paper, code/project links set by people, comments, hidden papers, collections,
-- authorship claims, and author slugs (the stable URL of an author page: a name slug, not a database key).
-- Queries on these tables are written once for both backends (dailypapers/db/schema.py mirrors this file).
ALTER TABLE authors ADD COLUMN slug TEXT;
CREATE INDEX ix_authors_slug ON authors (slug);

CREATE TABLE submissions (
    paper_pk INTEGER PRIMARY KEY REFERENCES papers (pk) ON DELETE CASCADE,
    user_id TEXT REFERENCES users (id) ON DELETE SET NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX ix_submissions_user_id ON submissions (user_id);

CREATE TABLE paper_links (
    paper_pk INTEGER PRIMARY KEY REFERENCES papers (pk) ON DELETE CASCADE,
    code_url TEXT,
    project_url TEXT,
    set_by TEXT REFERENCES users (id) ON DELETE SET NULL,
    set_at TEXT NOT NULL
);

CREATE TABLE comments (
    id TEXT PRIMARY KEY,
    paper_pk INTEGER NOT NULL REFERENCES papers (pk) ON DELETE CASCADE,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    parent_id TEXT REFERENCES comments (id) ON DELETE CASCADE,
    body TEXT NOT NULL,
    created_at TEXT NOT NULL,
    edited_at TEXT,
    deleted_at TEXT,
    hidden_at TEXT,
    hidden_by TEXT REFERENCES users (id) ON DELETE SET NULL,
    hidden_reason TEXT NOT NULL DEFAULT ''
);
CREATE INDEX ix_comments_paper ON comments (paper_pk, created_at);
CREATE INDEX ix_comments_user_id ON comments (user_id);
CREATE INDEX ix_comments_parent_id ON comments (parent_id);

CREATE TABLE hidden_papers (
    paper_pk INTEGER PRIMARY KEY REFERENCES papers (pk) ON DELETE CASCADE,
    hidden_by TEXT REFERENCES users (id) ON DELETE SET NULL,
    hidden_at TEXT NOT NULL,
    reason TEXT NOT NULL DEFAULT ''
);

CREATE TABLE collections (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    public BOOLEAN NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX ix_collections_user_id ON collections (user_id);

CREATE TABLE collection_items (
    collection_id TEXT NOT NULL REFERENCES collections (id) ON DELETE CASCADE,
    paper_pk INTEGER NOT NULL REFERENCES papers (pk) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    note TEXT NOT NULL DEFAULT '',
    added_at TEXT NOT NULL,
    PRIMARY KEY (collection_id, paper_pk)
);
CREATE INDEX ix_collection_items_paper ON collection_items (paper_pk);

CREATE TABLE claims (
    id TEXT PRIMARY KEY,
    paper_pk INTEGER NOT NULL REFERENCES papers (pk) ON DELETE CASCADE,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    author_name TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('pending', 'approved', 'rejected')),
    created_at TEXT NOT NULL,
    decided_by TEXT REFERENCES users (id) ON DELETE SET NULL,
    decided_at TEXT,
    UNIQUE (paper_pk, user_id)
);
CREATE INDEX ix_claims_user_id ON claims (user_id);
CREATE INDEX ix_claims_status ON claims (status);
